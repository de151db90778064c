"""The benchmark harness measures what it claims: cells checked, ratios paired, commands counted."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from benchmarks import anatomy, memory, report, stacks
from benchmarks.inprocess import SCENARIOS, Cell, close_stacks, prepare_cells, run_repetitions
from benchmarks.redis_server import redis_server
from benchmarks.report import InProcess, outcomes
from benchmarks.stats import Summary, overheads, paired_ratios
from benchmarks.targets import RatioTarget, check_ratio


def test_overheads_and_ratios_pair_each_repetition() -> None:
    ours = overheads([10.0, 20.0, 3.0], [1.0, 2.0, 3.0])
    peer = overheads([19.0, 20.0, 3.02], [1.0, 2.0, 3.0])
    assert ours == [9.0, 18.0, 0.0]
    ratios = paired_ratios(ours, peer)
    assert ratios[:2] == [0.5, 1.0]
    assert ratios[2] == float("inf")  # a peer within timer noise of its floor gives no ratio
    assert Summary.of(ratios[:2]) == Summary(0.75, 0.5, 1.0)


def test_a_ratio_target_also_needs_the_command_count() -> None:
    target = RatioTarget("ours", "peer", "b", 0.5, commands=1)
    good = Summary(0.4, 0.3, 0.6)
    assert check_ratio(target, good, 1.0).met is True
    assert check_ratio(target, good, 2.0).met is False
    assert check_ratio(target, Summary(0.6, 0.5, 0.7), 1.0).met is False
    assert check_ratio(target, None, None).met is None


def _cell(stack: str, family: str, scenario: str, medians: list[float], *, floor: bool = False) -> dict[str, Any]:
    return {
        "stack": stack,
        "label": stack,
        "family": family,
        "is_floor": floor,
        "redis": False,
        "scenario": scenario,
        "medians": medians,
        "set_cookie": False,
        "commands": {},
    }


def test_each_side_of_a_ratio_is_measured_against_its_own_floor() -> None:
    doc = {
        "cells": [
            _cell("asgi-floor", "asgi", "b", [1.0, 2.0], floor=True),
            _cell("asgi-ours-memory", "asgi", "b", [3.0, 6.0]),
            _cell("flask-floor", "flask", "b", [100.0, 90.0], floor=True),
            _cell("flask-cookie", "flask", "b", [104.0, 98.0]),
        ]
    }
    data = InProcess(doc)
    ratio = data.ratio("asgi-ours-memory", "flask-cookie", "b")
    assert ratio is not None
    assert (ratio.low, ratio.high) == (0.5, 0.5)  # 2/4 and 4/8, not against the other family's floor
    met = [o for o in outcomes({"inprocess": doc}) if o.target.startswith("asgi-ours-memory (b)")]
    assert [o.met for o in met] == [None]  # the Starlette cell was not run


def test_a_short_run_checks_and_times_every_cell() -> None:
    async def run() -> list[Cell]:
        chosen = [stacks.asgi_floor(), stacks.ours_asgi_memory(), stacks.starlette_cookie()]
        chosen += [stacks.wsgi_floor(), stacks.ours_wsgi_memory()]
        cells = await prepare_cells(chosen, ["a", "b", "c", "d"])
        await run_repetitions(cells, repetitions=2, requests=20, warmup=2, seed=1, progress=lambda _: None, blocks=2)
        return cells

    cells = asyncio.run(run())
    assert len(cells) == 20
    assert all(len(c.medians) == 2 and all(m > 0 for m in c.medians) for c in cells)
    cookies = {(c.stack.key, c.scenario): c.set_cookie for c in cells}
    assert cookies[("asgi-starlette", "c")] is True  # Starlette resends the whole cookie on a write
    assert not any(cookies[("asgi-ours-memory", s)] for s in "abcd")  # ours keeps its cookie


def test_a_stack_that_does_not_keep_its_session_is_refused() -> None:
    broken = stacks.asgi_floor()
    broken.is_floor = False  # claims sessions, but never sets a cookie
    with pytest.raises(RuntimeError, match="no session cookie in the response"):
        asyncio.run(prepare_cells([broken], ["b"]))


def test_the_command_counter_sees_what_clients_send_not_script_internals() -> None:
    with redis_server() as server, server.client() as client:
        client.ping()
        server.reset_stats()
        with server.sent_commands() as sent:
            client.set("a", "1")
            client.eval("redis.call('GET', KEYS[1]); return redis.call('INCR', KEYS[1])", 1, "a")
        assert sent == {"set": 1, "eval": 1}
        ran = server.command_counts()
        assert ran["incr"] == 1 and ran["get"] == 1 and ran["set"] == 1


def test_the_anatomy_of_a_read_times_every_step_with_the_stores_clients() -> None:
    with redis_server() as server:
        result = anatomy.run(server, repetitions=1, requests=20)
    for client in ("async_us", "sync_us"):
        assert set(result[client]) == set(anatomy.ROWS) and all(v > 0 for v in result[client].values())
    server_us = result["server_us"]
    assert server_us["hgetall"] < server_us["hash"] < server_us["load"]  # our script does the most inside Redis
    table = anatomy.render(result)
    assert all(label in table for label in anatomy.ROWS.values())


def _doc(cells: list[Cell]) -> dict[str, Any]:
    return {
        "cells": [
            {
                "stack": c.stack.key,
                "label": c.stack.label,
                "family": c.stack.family,
                "is_floor": c.stack.is_floor,
                "is_ours": c.stack.is_ours,
                "is_reference": c.stack.is_reference,
                "redis": c.stack.redis is not None,
                "scenario": c.scenario,
                "medians": c.medians,
                "set_cookie": c.set_cookie,
                "commands": c.commands,
            }
            for c in cells
        ]
    }


def test_scenario_e_times_our_stacks_with_every_request_due_for_a_touch() -> None:
    async def run() -> list[Cell]:
        chosen = [stacks.asgi_floor(), stacks.ours_asgi_memory(), stacks.starlette_cookie()]
        cells = await prepare_cells(chosen, list(SCENARIOS))
        await run_repetitions(cells, repetitions=1, requests=10, warmup=1, seed=1, progress=lambda _: None, blocks=1)
        return cells

    cells = asyncio.run(run())
    by_key = {c.key: c for c in cells}
    ours = by_key[("asgi-ours-memory", "e")]
    assert ours.app is ours.stack.due_app and ours.app is not ours.stack.app
    assert by_key[("asgi-ours-memory", "b")].app is ours.stack.app
    assert ("asgi-starlette", "e") not in by_key and ("asgi-floor", "e") not in by_key  # their (b) stands in
    data = InProcess(_doc(cells))
    assert data.medians("asgi-starlette", "e") == by_key[("asgi-starlette", "b")].medians
    assert data.ratio("asgi-ours-memory", "asgi-starlette", "e") is not None
    table = report.render_inprocess(_doc(cells))
    assert "as (b)" in table and "(e) read one key, session due for a touch" in table


def test_the_round_trip_floor_is_one_get_per_request_and_our_redis_reads_are_paired_with_it() -> None:
    async def run(server: Any) -> list[Cell]:
        chosen = [stacks.asgi_floor(), stacks.asgi_redis_get(server), stacks.ours_asgi_redis(server)]
        cells = await prepare_cells(chosen, ["b", "e"])
        await run_repetitions(cells, repetitions=2, requests=10, warmup=1, seed=1, progress=lambda _: None, blocks=1)
        await close_stacks(chosen)
        return cells

    with redis_server() as server:
        cells = asyncio.run(run(server))
    keys = {c.key for c in cells}
    assert ("asgi-redis-get", "b") in keys and ("asgi-redis-get", "e") not in keys
    table = report.render_round_trip(InProcess(_doc(cells)))
    assert "ours, Redis store (ASGI)" in table and "x (" in table


def test_the_memory_bounds_are_measured_on_realistic_sessions() -> None:
    record = memory.realistic_record(7, 1_800_000_000.0)
    assert record.user == {"id": "user-7", "name": "User 7"} and len(record.data) == 4
    assert record.address != memory.realistic_record(8, 1_800_000_000.0).address
    churn = memory.churn(500)  # resident memory in this test process says little: the shape is what counts
    assert churn["held"] == 500 and len(churn["growth_steps_mb"]) == 3
    expiry = memory.expiry(2_000, 50, 200)
    assert expiry["calls_to_reclaim"] is not None and expiry["calls_to_reclaim"] <= 200
    assert expiry["longest_ms"] > 0
    doc = {"memory": {"churn": churn, "expiry": expiry}}
    checked = {o.target: o for o in outcomes(doc)}
    assert set(checked) == {
        "bytes per realistic session",
        "store of 500 fed 3x 500 new sessions: memory growth",
        "longest call after 2,000 sessions expire at once",
    }
    assert checked["longest call after 2,000 sessions expire at once"].met is (expiry["longest_ms"] <= 50)


def test_the_tables_for_the_docs_leave_the_targets_out() -> None:
    doc = {
        "machine": {"cpu": "x", "cores": 2, "python": "CPython", "os": "Linux", "versions": {}},
        "config": {"repetitions": 1, "requests": 1, "warmup": 0},
        "command": "python -m benchmarks",
        "memory": {"expiry": {"sessions": 10, "longest_ms": 1.0, "calls_to_reclaim": 3, "seconds_to_reclaim": 0.1}},
    }
    assert "## Targets" in report.render(doc)
    text = report.render(doc, targets=False)
    assert "Targets" not in text and "missed" not in text and "longest single call" in text
