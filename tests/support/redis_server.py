"""Real ``redis-server`` processes for tests: single servers, a three-master cluster, a MONITOR recorder.

Servers listen on free loopback ports only (never the machine's 6379), keep nothing on disk
(``--save "" --appendonly no``) and are stopped on teardown (and at interpreter exit, should a
test run die). A missing ``redis-server`` or ``redis-cli`` binary raises ``RuntimeError``: the
tests that need Redis then fail, they are never skipped.
"""

from __future__ import annotations

import atexit
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
_START_ATTEMPTS = 5
_running: set[subprocess.Popen[bytes]] = set()


def redis_binary(name: str = "redis-server") -> str:
    """The path of a Redis binary, or ``RuntimeError`` saying how to install it."""
    found = shutil.which(name) or (f"/usr/bin/{name}" if os.access(f"/usr/bin/{name}", os.X_OK) else None)
    if found is None:
        package = "redis-server" if name == "redis-server" else "redis-tools"
        raise RuntimeError(f"{name} not found: the Redis tests need it (apt-get install {package})")
    return found


def free_port() -> int:
    """A TCP port that was free on the loopback interface a moment ago."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def resp_command(*args: str | bytes | int) -> bytes:
    """One command in the Redis protocol (RESP2 array of bulk strings)."""
    parts = [a if isinstance(a, bytes) else str(a).encode() for a in args]
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)


def _ping(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as sock:
            sock.sendall(resp_command("PING"))
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@atexit.register
def _kill_leftovers() -> None:
    for proc in list(_running):
        _terminate(proc)


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGCONT)  # a paused server cannot act on SIGTERM
            proc.terminate()
            proc.wait(timeout=5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait(timeout=5)
    _running.discard(proc)


class RedisServer:
    """One ``redis-server`` on a free loopback port.

    :param directory: where its log (and cluster config) go; a temporary directory if None.
    :param cluster: start with cluster mode enabled (see :class:`RedisClusterNodes`).
    :param extra_args: more ``--option value`` arguments for the server.
    """

    def __init__(
        self, directory: str | Path | None = None, *, cluster: bool = False, extra_args: Sequence[str] = ()
    ) -> None:
        self._tmp = None if directory is not None else tempfile.TemporaryDirectory(prefix="redis-test-")
        self.directory = Path(directory if directory is not None else self._tmp.name)  # type: ignore[union-attr]
        self.directory.mkdir(parents=True, exist_ok=True)
        self.cluster = cluster
        self.extra_args = list(extra_args)
        self.host = HOST
        self.port = 0
        self.bus_port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def log_path(self) -> Path:
        return self.directory / f"redis-{self.port}.log"

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> RedisServer:
        """Start on a fresh free port (retrying if another process takes it first)."""
        binary = redis_binary()
        for _attempt in range(_START_ATTEMPTS):
            self.port, self.bus_port = free_port(), free_port() if self.cluster else 0
            if self._launch(binary):
                return self
        raise RuntimeError(f"redis-server did not start; see {self.log_path}")

    def restart(self) -> RedisServer:
        """Start again on the same port, after :meth:`kill` or :meth:`stop` (empty: nothing persists)."""
        self.stop()
        binary = redis_binary()
        deadline = time.monotonic() + 10
        while not self._launch(binary):
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not restart on port {self.port}; see {self.log_path}")
            time.sleep(0.1)
        return self

    def _launch(self, binary: str) -> bool:
        args = [
            binary,
            "--port", str(self.port),
            "--bind", self.host,
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--dir", str(self.directory),
            "--logfile", str(self.log_path),
            "--loglevel", "notice",
        ]  # fmt: skip
        if self.cluster:
            args += [
                "--cluster-enabled", "yes",
                "--cluster-config-file", str(self.directory / f"nodes-{self.port}.conf"),
                "--cluster-port", str(self.bus_port),
                "--cluster-node-timeout", "2000",
            ]  # fmt: skip
        args += self.extra_args
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        _running.add(proc)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if proc.poll() is not None:  # most likely the port was taken meanwhile
                _running.discard(proc)
                return False
            if _ping(self.port):
                self.process = proc
                return True
            time.sleep(0.02)
        _terminate(proc)
        return False

    def stop(self) -> None:
        """Shut the server down (continuing it first if paused)."""
        if self.process is not None:
            _terminate(self.process)
            self.process = None

    def kill(self) -> None:
        """SIGKILL: the server vanishes mid-run, as in a crash."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=5)
            _running.discard(self.process)
            self.process = None

    def pause(self) -> None:
        """SIGSTOP: the server hangs; connections open but nothing answers."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after :meth:`pause`."""
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def close(self) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    def command(self, *args: str | bytes | int) -> bytes:
        """Send one command on a fresh connection and return the raw reply's first line."""
        with socket.create_connection((self.host, self.port), timeout=5) as sock:
            sock.sendall(resp_command(*args))
            with sock.makefile("rb") as reader:
                return reader.readline().rstrip(b"\r\n")

    def client(self, **options: Any) -> Any:
        """A ``redis.Redis`` client for this server (``decode_responses`` by default)."""
        import redis

        options.setdefault("decode_responses", True)
        return redis.Redis(host=self.host, port=self.port, **options)


class RedisClusterNodes:
    """A Redis Cluster of ``masters`` nodes (no replicas) formed with ``redis-cli --cluster create``.

    :param extra_args: more ``--option value`` arguments for every node, e.g.
        ``["--cluster-require-full-coverage", "no"]``.
    """

    def __init__(
        self, directory: str | Path | None = None, *, masters: int = 3, extra_args: Sequence[str] = ()
    ) -> None:
        self._tmp = None if directory is not None else tempfile.TemporaryDirectory(prefix="redis-cluster-")
        self.directory = Path(directory if directory is not None else self._tmp.name)  # type: ignore[union-attr]
        self.nodes = [
            RedisServer(self.directory / f"node{i}", cluster=True, extra_args=extra_args) for i in range(masters)
        ]

    @property
    def url(self) -> str:
        """A URL of one node; cluster clients discover the others from it."""
        return self.nodes[0].url

    @property
    def addresses(self) -> list[tuple[str, int]]:
        return [(node.host, node.port) for node in self.nodes]

    def __enter__(self) -> RedisClusterNodes:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> RedisClusterNodes:
        try:
            for node in self.nodes:
                node.start()
            endpoints = [f"{node.host}:{node.port}" for node in self.nodes]
            subprocess.run(
                [redis_binary("redis-cli"), "--cluster", "create", *endpoints, "--cluster-replicas", "0"]
                + ["--cluster-yes"],
                check=True,
                capture_output=True,
                timeout=30,
            )
            self._wait_until_ok()
        except BaseException:
            self.close()
            raise
        return self

    def _wait_until_ok(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            infos = [_cluster_info(node) for node in self.nodes]
            if all("cluster_state:ok" in i and f"cluster_known_nodes:{len(self.nodes)}" in i for i in infos):
                return
            time.sleep(0.05)
        raise RuntimeError("the test cluster did not reach cluster_state:ok")

    def wait_until_healthy(self, timeout: float = 20.0) -> None:
        """Wait until every node reports ``cluster_state:ok`` and none flags another as failing
        (after a node restarts, the others clear its ``fail`` flag only after a while)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if all("cluster_state:ok" in _cluster_info(n) for n in self.nodes) and not any(
                    "fail" in _cluster_nodes(n) for n in self.nodes
                ):
                    return
            except OSError:
                pass  # a node still starting
            time.sleep(0.1)
        raise RuntimeError("the test cluster did not recover")

    def client(self, **options: Any) -> Any:
        """A ``redis.cluster.RedisCluster`` client (``decode_responses`` by default)."""
        from redis.cluster import ClusterNode, RedisCluster

        options.setdefault("decode_responses", True)
        nodes = [ClusterNode(h, p) for h, p in self.addresses]  # type: ignore[no-untyped-call]
        return RedisCluster(startup_nodes=nodes, **options)

    def close(self) -> None:
        for node in self.nodes:
            node.stop()
        if self._tmp is not None:
            self._tmp.cleanup()


def _cluster_info(node: RedisServer) -> str:
    return _cluster_text(node, "INFO")


def _cluster_nodes(node: RedisServer) -> str:
    return _cluster_text(node, "NODES")


def _cluster_text(node: RedisServer, what: str) -> str:
    with socket.create_connection((node.host, node.port), timeout=5) as sock:
        sock.sendall(resp_command("CLUSTER", what))
        with sock.makefile("rb") as reader:
            header = reader.readline()  # $<length>
            return reader.read(int(header[1:]) + 2).decode() if header.startswith(b"$") else ""


_MONITOR_LINE = re.compile(rb"^\+\d+\.\d+ \[\d+ (?P<source>[^\]]+)\] (?P<args>.*)$")
_QUOTED = re.compile(rb'"((?:[^"\\]|\\.)*)"')


class CommandRecorder:
    """Records the commands a Redis server receives from clients, through ``MONITOR``.

    Commands a Lua script runs are left out, so an ``EVALSHA`` counts once. Use::

        with CommandRecorder(server) as recorder:
            recorder.reset()
            ...  # exercise the code
            names = recorder.names()  # e.g. ["EVALSHA"]
    """

    def __init__(self, server: RedisServer) -> None:
        self.server = server
        self._lines: list[tuple[str, list[bytes]]] = []
        self._cond = threading.Condition()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> CommandRecorder:
        self._sock = socket.create_connection((self.server.host, self.server.port), timeout=10)
        self._sock.sendall(resp_command("MONITOR"))
        reader = self._sock.makefile("rb")
        if not reader.readline().startswith(b"+OK"):
            raise RuntimeError("MONITOR was refused")
        self._thread = threading.Thread(target=self._read, args=(reader,), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._sock is not None:
            self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _read(self, reader: Any) -> None:
        try:
            for raw in reader:
                match = _MONITOR_LINE.match(raw.rstrip(b"\r\n"))
                if match is None:
                    continue
                args = [_unescape(a) for a in _QUOTED.findall(match["args"])]
                with self._cond:
                    self._lines.append((match["source"].decode(), args))
                    self._cond.notify_all()
        except (OSError, ValueError):
            pass  # closed by __exit__

    def _sync(self) -> int:
        """Wait until everything sent before now has been seen; return its position."""
        token = b"sync-" + secrets.token_hex(8).encode()
        self.server.command("ECHO", token)
        with self._cond:
            found = self._cond.wait_for(lambda: any(token in args for _, args in self._lines), timeout=10)
            if not found:
                raise RuntimeError("MONITOR did not see the sync marker")
            return next(i for i, (_, args) in enumerate(self._lines) if token in args)

    def reset(self) -> None:
        """Forget what was recorded so far."""
        position = self._sync()
        with self._cond:
            del self._lines[: position + 1]

    def commands(self) -> list[list[bytes]]:
        """Client commands since :meth:`reset`, each as its argument list (without script internals)."""
        position = self._sync()
        with self._cond:
            return [
                args for source, args in self._lines[:position] if source != "lua" and args and not _is_marker(args)
            ]

    def names(self) -> list[str]:
        return [args[0].decode().upper() for args in self.commands()]


def _is_marker(args: list[bytes]) -> bool:
    return len(args) == 2 and args[0].upper() == b"ECHO" and args[1].startswith(b"sync-")


def _unescape(quoted: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(quoted):
        c = quoted[i]
        if c == 0x5C and i + 1 < len(quoted):  # backslash
            nxt = quoted[i + 1 : i + 2]
            if nxt == b"x" and i + 3 < len(quoted):
                out.append(int(quoted[i + 2 : i + 4], 16))
                i += 4
                continue
            out += {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"a": b"\a", b"b": b"\b"}.get(nxt, nxt)
            i += 2
            continue
        out.append(c)
        i += 1
    return bytes(out)
