"""How (b) and (c) grow with the session's size: 1 key, 100 keys, 64 KiB of data."""

from __future__ import annotations

import json
import random
import statistics
from collections.abc import Callable
from typing import Any

from session_middleware import MemoryStore, SessionMiddleware
from session_middleware.records import SessionRecord, new_session_id

from .drive import asgi_scope
from .inprocess import Cell
from .stacks import SECRET, Probe, Stack, raw_asgi_app
from .stats import Summary, overheads

SHAPES: dict[str, dict[str, str]] = {
    "1 key": {"k": json.dumps("v")},
    "100 keys": {"k": json.dumps("v"), **{f"key{i:02d}": json.dumps({"n": i, "tag": f"t{i}"}) for i in range(99)}},
    "64 KiB": {"k": json.dumps("v"), "blob": json.dumps("x" * (64 * 1024 - 10))},
}


def growth_cells(store_factory: Callable[[], Any], label: str, prefix: str) -> list[Cell]:
    """(b) and (c) cells of our ASGI middleware for each session shape, sharing one store."""
    store = store_factory()
    probe = Probe()
    app = SessionMiddleware(raw_asgi_app(probe), secret_key=SECRET, store=store)
    cells = []
    for shape, data in SHAPES.items():
        now = store.clock()
        sid = new_session_id()
        store.create(SessionRecord(sid, now, now, 86400.0, now + 14 * 86400.0, "127.0.0.1", "bench", None, data))
        cookie = "session=" + app.core.signer.sign(sid)
        stack = Stack(f"{prefix} {shape}", f"{label}, {shape}", "asgi", "asgi", app, probe, is_ours=True)
        cells += [
            Cell(stack, scenario, cookie, asgi_scope(path, cookie)) for scenario, path in (("b", "/b"), ("c", "/c"))
        ]
    return cells


def memory_growth_cells() -> list[Cell]:
    return growth_cells(MemoryStore, "ours, memory store", "growth-memory")


def summarize(cells: list[Cell], floor: dict[str, list[float]]) -> dict[str, Any]:
    """Overheads per shape and scenario, and the (c) 100-key / 1-key ratio of the memory store."""
    table: dict[str, dict[str, Any]] = {}
    for cell in cells:
        over = overheads(cell.medians, floor[cell.scenario])
        table.setdefault(cell.stack.label, {})[cell.scenario] = {
            "us": Summary.of(cell.medians).__dict__,
            "overhead": Summary.of(over).__dict__,
            "overheads": over,
        }
    result: dict[str, Any] = {"table": table}
    one, hundred = table.get("ours, memory store, 1 key"), table.get("ours, memory store, 100 keys")
    if one and hundred:
        ratios = [h / o for h, o in zip(hundred["c"]["overheads"], one["c"]["overheads"], strict=True)]
        result["c_100_vs_1"] = statistics.median(ratios)
        result["c_100_vs_1_range"] = [min(ratios), max(ratios)]
    return result


def shuffled(cells: list[Cell], rng: random.Random) -> list[Cell]:
    order = cells[:]
    rng.shuffle(order)
    return order
