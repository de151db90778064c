"""A throwaway redis-server on a free loopback port, and its command counters."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import redis

# Commands the harness itself sends to read or reset the statistics.
_BOOKKEEPING = {"info", "config|resetstat", "config", "ping", "hello", "client|setinfo", "select", "echo", "monitor"}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class RedisServer:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host=self.host, port=self.port)

    def reset_stats(self) -> None:
        with self.client() as client:
            client.config_resetstat()

    def command_counts(self) -> dict[str, int]:
        """Calls per command since the last reset, without the harness's own commands."""
        with self.client() as client:
            stats = client.info("commandstats")
        counts = {}
        for key, value in stats.items():
            name = key.removeprefix("cmdstat_")
            if name not in _BOOKKEEPING and value["calls"]:
                counts[name] = int(value["calls"])
        return counts

    @contextmanager
    def sent_commands(self) -> Iterator[dict[str, int]]:
        """Count the commands clients send (MONITOR), leaving out those a Lua script runs.

        ``INFO commandstats`` counts a script's inner calls too; a request's round trips
        are the commands its client sent, so those are what this counts.
        """
        counts: dict[str, int] = {}
        ready = threading.Event()
        stop_word = "bench-monitor-stop"

        def listen() -> None:
            with self.client() as client, client.monitor() as monitor:
                ready.set()
                while True:
                    entry = monitor.next_command()
                    words = entry["command"].split()
                    if stop_word in entry["command"]:
                        return
                    if entry.get("client_type") == "lua" or not words:
                        continue
                    name = words[0].lower()
                    if name not in _BOOKKEEPING:
                        counts[name] = counts.get(name, 0) + 1

        thread = threading.Thread(target=listen, daemon=True)
        thread.start()
        ready.wait(5)
        time.sleep(0.05)  # MONITOR is in place once its reply has been read
        try:
            yield counts
        finally:
            with self.client() as client:
                client.echo(stop_word)
            thread.join(10)

    def version(self) -> str:
        with self.client() as client:
            return str(client.info("server")["redis_version"])


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    """Start ``redis-server`` (no persistence) on 127.0.0.1 and stop it on exit.

    :raises RuntimeError: if the binary is missing or the server does not answer.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server not found: install it (apt-get install redis-server)")
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as workdir:
        for _attempt in range(5):
            port = _free_port()
            args = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
            args += ["--dir", workdir, "--daemonize", "no", "--loglevel", "warning"]
            proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            server = RedisServer("127.0.0.1", port)
            if _wait_ready(server, proc):
                break
            proc.kill()
            proc.wait()
        else:
            raise RuntimeError("redis-server did not start")
        try:
            yield server
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_ready(server: RedisServer, proc: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with server.client() as client:
                if client.ping():
                    return True
        except redis.ConnectionError:
            time.sleep(0.02)
    return False
