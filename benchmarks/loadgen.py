"""A minimal closed-loop HTTP load generator (used when ``wrk`` is not installed).

``python -m benchmarks.loadgen URL COOKIE SECONDS CONNECTIONS`` prints requests/s, p99
latency in ms and the count of non-200 answers.
"""

from __future__ import annotations

import asyncio
import sys
import time

import httpx


async def _worker(client: httpx.AsyncClient, url: str, stop: float, latencies: list[float], errors: list[int]) -> None:
    while time.perf_counter() < stop:
        start = time.perf_counter()
        response = await client.get(url)
        latencies.append(time.perf_counter() - start)
        if response.status_code != 200:
            errors.append(response.status_code)


async def main(url: str, cookie: str, seconds: float, connections: int) -> None:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    latencies: list[float] = []
    errors: list[int] = []
    async with httpx.AsyncClient(headers={"cookie": cookie}, limits=limits) as client:
        started = time.perf_counter()
        stop = started + seconds
        await asyncio.gather(*(_worker(client, url, stop, latencies, errors) for _ in range(connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99)] * 1000 if latencies else 0.0
    print(f"{len(latencies) / elapsed} {p99} {len(errors)}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])))
