"""The memory store's bounds: bytes per realistic session, memory under churn, a mass expiry.

Each part runs in its own process (``python -m benchmarks.memory churn|expiry``, JSON on
stdout) so that resident memory is the store's alone.

- ``churn``: a store filled to ``maxsize`` with realistic sessions, then fed three times
  as many new ones (every one evicts the least recently used): its resident memory
  after the fill, and how much it grew over the feed.
- ``expiry``: ``sessions`` sessions that all expire in the same second, then a stream
  of ordinary calls (reads of live sessions, new sessions): the longest single call
  while the store reclaims them, and how many calls that took.

A realistic session: a user ``{id, name}``, four data keys (a CSRF token, a cart, a
theme, the last page), its own IPv4 address and a browser User-Agent (ten variants).
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import secrets
import sys
import time
from typing import Any

from session_middleware import MemoryStore
from session_middleware.records import SessionRecord, new_session_id

USER_AGENTS = [
    f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.{i}.0 Safari/537.36"
    for i in range(10)
]
IDLE = 86400.0
ABSOLUTE = 14 * 86400.0


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def realistic_record(i: int, now: float, *, idle: float = IDLE) -> SessionRecord:
    """Session number ``i``: its own user and IPv4 address, four data keys."""
    data = {
        "csrf": json.dumps(secrets.token_urlsafe(24)),
        "cart": json.dumps([100 + i % 900, 7, 42]),
        "theme": json.dumps("dark" if i % 2 else "light"),
        "last_page": json.dumps(f"/products/{i % 10_000}"),
    }
    address = f"{10 + (i >> 24) % 200}.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
    user = {"id": f"user-{i}", "name": f"User {i}"}
    client = USER_AGENTS[i % len(USER_AGENTS)]
    return SessionRecord(new_session_id(user["id"]), now, now, idle, now + ABSOLUTE, address, client, user, data)


def churn(maxsize: int) -> dict[str, Any]:
    gc.collect()
    before = rss_bytes()
    store = MemoryStore(maxsize=maxsize)
    now = store.clock()
    for i in range(maxsize):
        store.create(realistic_record(i, now))
    gc.collect()
    filled = rss_bytes()
    started = time.monotonic()
    steps = []  # growth after each maxsize of new sessions: a step, not a leak
    for feed in range(1, 4):
        for i in range(feed * maxsize, (feed + 1) * maxsize):
            store.create(realistic_record(i, now))
        gc.collect()
        steps.append((rss_bytes() - filled) / 2**20)
    fed = rss_bytes()
    store_bytes = max(filled - before, 1)  # a fresh process; elsewhere freed memory may be reused
    return {
        "maxsize": maxsize,
        "bytes_per_session": store_bytes / maxsize,
        "store_mb": store_bytes / 2**20,
        "growth_mb": (fed - filled) / 2**20,
        "growth_steps_mb": steps,
        "growth": (fed - filled) / store_bytes,
        "process_growth": (fed - filled) / filled,
        "held": len(store),
        "feed_seconds": time.monotonic() - started,
    }


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def expiry(sessions: int, live: int, calls: int) -> dict[str, Any]:
    clock = _Clock(float(int(time.time())))
    store = MemoryStore(maxsize=sessions + live + calls, clock=clock)
    start = clock.now
    for i in range(sessions):  # all idle-expire in the same second
        store.create(realistic_record(i, start, idle=3600.0))
    live_ids = []
    for i in range(sessions, sessions + live):
        record = realistic_record(i, start)
        store.create(record)
        live_ids.append(record.id)
    gc.collect()
    clock.now = start + 3600.0 + 1.0
    timer = time.perf_counter_ns
    longest, created = 0, 0
    drained_after: int | None = None
    drained_seconds: float | None = None
    began = time.monotonic()
    for n in range(calls):
        fresh = realistic_record(sessions + live + n, clock.now) if n % 4 == 3 else None
        started = timer()
        if fresh is not None:
            store.create(fresh)
            created += 1
        else:
            store.load_and_touch(live_ids[n % live], touch_interval=60.0)
        longest = max(longest, timer() - started)
        if drained_after is None and len(store._sessions) == live + created:  # every expired one reclaimed
            drained_after, drained_seconds = n + 1, time.monotonic() - began
    return {
        "sessions": sessions,
        "longest_ms": longest / 1e6,
        "calls_to_reclaim": drained_after,
        "seconds_to_reclaim": drained_seconds,
        "calls": calls,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory")
    parts = parser.add_subparsers(dest="part", required=True)
    churn_args = parts.add_parser("churn")
    churn_args.add_argument("--maxsize", type=int, default=100_000)
    expiry_args = parts.add_parser("expiry")
    expiry_args.add_argument("--sessions", type=int, default=500_000)
    expiry_args.add_argument("--live", type=int, default=1_000)
    expiry_args.add_argument("--calls", type=int, default=10_000)
    args = parser.parse_args()
    if args.part == "churn":
        result = churn(args.maxsize)
    else:
        result = expiry(args.sessions, args.live, args.calls)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
