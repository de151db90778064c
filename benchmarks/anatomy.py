"""Where a Redis-backed read goes: the round trips that separate ours from the peers'.

The peers read with a native ``GET``. Our read is one ``HGETALL`` of the session's hash
when this process saw its last request within ``touch_interval``, else one ``EVALSHA`` of
a script that loads the hash and, when due, records the request and moves the expiry.
This part times, with the store's own clients and interleaved like the in-process run,
the steps between them: a ``GET``, a script that does nothing, a script that only returns
the session's hash (the least any one-command read of a hash through a script can cost),
our load script, and the store's whole ``load_and_touch`` both ways (the command plus
decoding the record). Server time per call comes from ``INFO commandstats``.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from session_middleware.records import SessionRecord, new_session_id
from session_middleware.stores._redis_schema import Keys
from session_middleware.stores._redis_scripts import LOAD_AND_TOUCH
from session_middleware.stores.redis import RedisStore

from .redis_server import RedisServer
from .stats import median_ns

NOOP = "return 1"
HASH_ONLY = "return redis.call('HGETALL', KEYS[1])"
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"

ROWS = {
    "get": "`GET` of a 400-byte string (the peers' read)",
    "hgetall": "`HGETALL` of the session's hash (a read that records nothing)",
    "noop": "`EVALSHA` of `return 1` (a script's fixed cost)",
    "hash": "`EVALSHA` returning the session's hash, nothing written",
    "load": "`EVALSHA` of our load script (`LOAD_AND_TOUCH`)",
    "store": "`RedisStore.load_and_touch`, touch due: the script and decoding the record",
    "store_read": "`RedisStore.load_and_touch` within `touch_interval`: `HGETALL` and decoding",
}

#: The interval the middleware passes by default (the smaller of 60 s and idle / 10).
TOUCH_INTERVAL = 60.0


#: The command each row sends, for its server time.
SENT = {"get": "get", "hgetall": "hgetall", "noop": "evalsha", "hash": "evalsha", "load": "evalsha"}


def _session(store: RedisStore) -> tuple[str, str]:
    now = time.time()
    sid = new_session_id()
    user = {"id": "user-1", "name": "User 1"}
    store.create(SessionRecord(sid, now, now, 86400.0, now + 14 * 86400.0, "203.0.113.7", UA, user, {"k": '"v"'}))
    return sid, Keys(store.prefix).session(sid)


async def _median_of_medians(calls: dict[str, Callable[[], Any]], repetitions: int, requests: int) -> dict[str, float]:
    """Median µs per call: each repetition times every call ``requests`` times, in a
    shuffled order; the result is the median of the per-repetition medians."""
    rng = random.Random(7)
    medians: dict[str, list[float]] = {name: [] for name in calls}
    clock = time.perf_counter_ns
    for _ in range(repetitions):
        order = list(calls)
        rng.shuffle(order)
        for name in order:
            call = calls[name]
            samples = []
            for i in range(requests + requests // 10):
                start = clock()
                result = call()
                if isinstance(result, Awaitable):
                    await result
                if i >= requests // 10:
                    samples.append(clock() - start)
            medians[name].append(median_ns(samples))
    return {name: statistics.median(values) for name, values in medians.items()}


def _server_usec(server: RedisServer, call: Callable[[], Any], command: str, count: int = 2000) -> float:
    """Server time per call of ``command`` (what the client sent; a script's own time
    includes the commands it runs)."""
    server.reset_stats()
    for _ in range(count):
        call()
    with server.client() as client:
        stats = client.info("commandstats")[f"cmdstat_{command}"]
    return float(stats["usec"]) / max(1, int(stats["calls"]))


def run(server: RedisServer, repetitions: int, requests: int) -> dict[str, Any]:
    store = RedisStore(server.url, prefix="anatomy:")
    try:
        return asyncio.run(_run(server, store, repetitions, requests))
    finally:
        store.close()


async def _run(server: RedisServer, store: RedisStore, repetitions: int, requests: int) -> dict[str, Any]:
    sid, key = _session(store)
    sync, aio = store._client, store._async_client
    assert sync is not None and aio is not None
    sync.set("anatomy:string", b"x" * 400)
    noop, hash_only = sync.script_load(NOOP), sync.script_load(HASH_ONLY)
    sync.script_load(LOAD_AND_TOUCH.lua)

    def now() -> str:
        return repr(time.time())

    sync_calls: dict[str, Callable[[], Any]] = {
        "get": lambda: sync.get("anatomy:string"),
        "hgetall": lambda: sync.hgetall(key),
        "noop": lambda: sync.evalsha(noop, 1, key),
        "hash": lambda: sync.evalsha(hash_only, 1, key),
        "load": lambda: sync.evalsha(LOAD_AND_TOUCH.sha, 1, key, now(), "0"),
        "store": lambda: store.load_and_touch(sid),
        "store_read": lambda: store.load_and_touch(sid, touch_interval=TOUCH_INTERVAL),
    }
    async_calls: dict[str, Callable[[], Any]] = {
        "get": lambda: aio.get("anatomy:string"),
        "hgetall": lambda: aio.hgetall(key),
        "noop": lambda: aio.evalsha(noop, 1, key),
        "hash": lambda: aio.evalsha(hash_only, 1, key),
        "load": lambda: aio.evalsha(LOAD_AND_TOUCH.sha, 1, key, now(), "0"),
        "store": lambda: store.aload_and_touch(sid),
        "store_read": lambda: store.aload_and_touch(sid, touch_interval=TOUCH_INTERVAL),
    }
    result = {
        "async_us": await _median_of_medians(async_calls, repetitions, requests),
        "sync_us": await _median_of_medians(sync_calls, repetitions, requests),
        "server_us": {name: _server_usec(server, sync_calls[name], command) for name, command in SENT.items()},
    }
    await store.aclose()
    return result


def render(result: dict[str, Any]) -> str:
    rows = []
    for name, label in ROWS.items():
        server_us = result["server_us"].get(name)
        rows.append(
            f"| {label} | {result['async_us'][name]:.1f} | {result['sync_us'][name]:.1f} | "
            + ("–" if server_us is None else f"{server_us:.1f}")
            + " |"
        )
    head = "| call | async client, µs | sync client, µs | Redis server time, µs |\n| --- | --- | --- | --- |\n"
    return head + "\n".join(rows)
