"""The memory store at scale: 1,000,000 live sessions against 1,000.

Runs in its own process (``python -m benchmarks.scale``, JSON on stdout) so that the
resident-memory delta is this store's alone. Each session is a realistic one
(``benchmarks.memory.realistic_record``: a user, four data keys, its own IPv4 address, a
browser User-Agent) plus the key ``k`` that scenario (b) reads; requests of scenario (b)
pick random sessions, so the 1M store is not measured on one hot entry.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import statistics
import sys
import time
from dataclasses import replace
from typing import Any

from session_middleware import MemoryStore, SessionMiddleware
from session_middleware.records import SessionRecord, new_session_id

from .drive import asgi_scope, discard, fresh_scope, receive
from .memory import realistic_record, rss_bytes
from .stacks import SECRET, Probe, raw_asgi_app
from .stats import Summary, median_ns

PROBE_USER = "probe-user"


#: The value scenario (b) reads, beside the realistic session's own four keys.
READ_VALUE = json.dumps("v")


def fill(store: MemoryStore, count: int, rng: random.Random) -> list[str]:
    """``count`` realistic sessions, plus three of ``PROBE_USER``; their ids."""
    now = store.clock()
    ids = []
    for i in range(count):
        record = realistic_record(i, now)
        store.create(replace(record, data={"k": READ_VALUE, **record.data}))
        ids.append(record.id)
    for _ in range(3):
        sid = new_session_id()
        store.create(SessionRecord(sid, now, now, 86400.0, now + 14 * 86400.0, "", "", {"id": PROBE_USER}, {}))
    return ids


async def time_b(app: Any, templates: list[dict[str, Any]], requests: int) -> list[int]:
    clock = time.perf_counter_ns
    samples = []
    for i in range(requests):
        scope = fresh_scope(templates[i % len(templates)])
        start = clock()
        await app(scope, receive, discard)
        samples.append(clock() - start)
    return samples


def time_listing(store: MemoryStore, calls: int) -> float:
    clock = time.perf_counter_ns
    samples = []
    for _ in range(calls):
        start = clock()
        store.list_by_user(PROBE_USER)
        samples.append(clock() - start)
    return median_ns(samples)


async def measure(large: int, small: int, repetitions: int, requests: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    gc.collect()
    before = rss_bytes()
    started = time.monotonic()
    big_store = MemoryStore(maxsize=large + 10)
    big_ids = fill(big_store, large, rng)
    fill_seconds = time.monotonic() - started
    gc.collect()
    bytes_per_session = (rss_bytes() - before) / large
    small_store = MemoryStore(maxsize=small + 10)
    small_ids = fill(small_store, small, rng)

    stacks: dict[str, tuple[Any, list[dict[str, Any]]]] = {}
    for name, store, ids in (("large", big_store, big_ids), ("small", small_store, small_ids)):
        app = SessionMiddleware(raw_asgi_app(Probe()), secret_key=SECRET, store=store)
        picks = rng.sample(ids, min(len(ids), 2000))
        templates = [asgi_scope("/b", "session=" + app.core.signer.sign(sid)) for sid in picks]
        stacks[name] = (app, templates)
    stacks["floor"] = (raw_asgi_app(Probe(), sessions=False), [asgi_scope("/b", "session=" + "x" * 87)])

    medians: dict[str, list[float]] = {name: [] for name in stacks}
    listing: dict[str, list[float]] = {"large": [], "small": []}
    blocks = 5  # interleaved rounds per repetition
    per_block = max(1, requests // blocks)
    for _ in range(repetitions):
        samples: dict[str, list[int]] = {name: [] for name in stacks}
        for _block in range(blocks):
            order = list(stacks)
            rng.shuffle(order)
            for name in order:
                app, templates = stacks[name]
                await time_b(app, templates, per_block // 5)  # warm-up
                samples[name] += await time_b(app, templates, per_block)
        for name in stacks:
            medians[name].append(median_ns(samples[name]))
        listing["large"].append(time_listing(big_store, 500))
        listing["small"].append(time_listing(small_store, 500))
    over_large = [m - f for m, f in zip(medians["large"], medians["floor"], strict=True)]
    over_small = [m - f for m, f in zip(medians["small"], medians["floor"], strict=True)]
    b_ratios = [big / little for big, little in zip(over_large, over_small, strict=True)]
    list_ratios = [big / little for big, little in zip(listing["large"], listing["small"], strict=True)]
    return {
        "large": large,
        "small": small,
        "fill_seconds": fill_seconds,
        "bytes_per_session": bytes_per_session,
        "b_us": {name: values for name, values in medians.items()},
        "b_overhead_large": Summary.of(over_large).__dict__,
        "b_overhead_small": Summary.of(over_small).__dict__,
        "b_ratio": statistics.median(b_ratios),
        "b_ratio_range": [min(b_ratios), max(b_ratios)],
        "list_us": listing,
        "list_ratio": statistics.median(list_ratios),
        "list_ratio_range": [min(list_ratios), max(list_ratios)],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--repetitions", type=int, default=9)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args()
    result = asyncio.run(measure(args.large, args.small, args.repetitions, args.requests, args.seed))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
