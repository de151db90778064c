"""End to end: uvicorn on loopback under a load generator in another process.

The load generator is ``wrk`` when installed (``apt-get install wrk``), else a small
asyncio client (``benchmarks.loadgen``) in its own process. Scenario (b) only: each
stack's valid cookie is obtained with one ``/set`` request first. Reported, no target.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from typing import Any

import httpx

from .redis_server import RedisServer, _free_port
from .stacks import have_our_redis_store

ASGI_STACKS = [
    "asgi-floor",
    "asgi-ours-memory",
    "asgi-ours-redis",
    "asgi-starlette",
    "asgi-starsessions-memory",
    "asgi-starsessions-redis",
]
WSGI_STACKS = [
    "flask-floor",
    "flask-ours-memory",
    "flask-ours-redis",
    "flask-cookie",
    "flask-session-redis",
    "flask-session-redis-refresh",
]


def _serve(stack: str, interface: str, server: RedisServer | None) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = dict(os.environ, BENCH_STACK=stack)
    if server is not None:
        env["BENCH_REDIS_PORT"] = str(server.port)
    args = [sys.executable, "-m", "uvicorn", "benchmarks.e2e_app:create", "--factory", "--interface", interface]
    args += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"]
    proc = subprocess.Popen(args, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"uvicorn for {stack} exited with {proc.returncode}")
        try:
            httpx.get(base + "/a", timeout=1)
            return proc, base
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"uvicorn for {stack} did not start")


def _cookie(base: str, floor: bool) -> str:
    if floor:
        return "session=" + "x" * 87
    response = httpx.get(base + "/set", timeout=5)
    name, _, value = response.headers["set-cookie"].split(";", 1)[0].partition("=")
    check = httpx.get(base + "/b", headers={"cookie": f"{name}={value}"}, timeout=5)
    if check.status_code != 200:
        raise RuntimeError(f"{base}/b answered {check.status_code}")
    return f"{name}={value}"


def _wrk(url: str, cookie: str, seconds: float, connections: int) -> dict[str, float]:
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-H", f"Cookie: {cookie}", url]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p99 is not None
    scale = {"us": 1e-3, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p99_ms": float(p99.group(1)) * scale, "errors": float(errors.group(1)) if errors else 0.0}


def _python_client(url: str, cookie: str, seconds: float, connections: int) -> dict[str, float]:
    args = [sys.executable, "-m", "benchmarks.loadgen", url, cookie, str(seconds), str(connections)]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rps, p99, errors = (float(x) for x in out.split())
    return {"rps": rps, "p99_ms": p99, "errors": errors}


def run(server: RedisServer | None, *, seconds: float, connections: int, stacks: list[str]) -> dict[str, Any]:
    tool = "wrk" if shutil.which("wrk") else "python"
    results: dict[str, Any] = {"tool": tool, "seconds": seconds, "connections": connections, "stacks": {}}
    for stack in stacks:
        if "redis" in stack and (server is None or ("ours" in stack and not have_our_redis_store())):
            continue
        interface = "asgi3" if stack.startswith("asgi") else "wsgi"
        proc, base = _serve(stack, interface, server)
        try:
            cookie = _cookie(base, stack.endswith("floor"))
            load = _wrk if tool == "wrk" else _python_client
            load(base + "/b", cookie, 1, connections)  # warm-up
            results["stacks"][stack] = load(base + "/b", cookie, seconds, connections)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    return results
