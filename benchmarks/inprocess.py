"""The in-process comparison: every (stack, scenario) cell, interleaved in shuffled order.

One repetition runs every cell once (warm-up, then ``requests`` timed requests each) in
a fresh random order; garbage collection stays on. A cell's result is the list of its
per-repetition median times, so floors and peers can be paired per repetition.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .drive import (
    asgi_request,
    asgi_scope,
    consume,
    cookie_from,
    discard,
    fresh_environ,
    fresh_scope,
    receive,
    start_response_noop,
    wsgi_environ,
    wsgi_request,
)
from .redis_server import RedisServer
from .stacks import Stack
from .stats import median_ns

#: Scenario -> (path, whether the request carries the stack's valid cookie).
SCENARIOS: dict[str, tuple[str, bool]] = {
    "a": ("/a", False),
    "b": ("/b", True),
    "c": ("/c", True),
    "d": ("/a", True),
    "e": ("/b", True),
}
SCENARIO_TITLES = {
    "a": "(a) no cookie, untouched",
    "b": "(b) cookie, read one key",
    "c": "(c) cookie, write one key",
    "d": "(d) cookie, untouched",
    "e": "(e) read one key, session due for a touch",
}
#: Scenario (e) is (b) with every request due to record itself: our stacks serve it with
#: ``touch_interval=0`` (``Stack.due_app``); the peers record every request or never.
DUE_SCENARIO = "e"
# A floor has no session; it still gets a Cookie header of the usual size.
_FLOOR_COOKIE = "session=" + "x" * 87


@dataclass
class Cell:
    stack: Stack
    scenario: str
    cookie: str | None
    template: dict[str, Any]
    medians: list[float] = field(default_factory=list)
    set_cookie: bool = False
    commands: dict[str, float] = field(default_factory=dict)
    #: Every command the server ran per request, a Lua script's inner calls included.
    server_commands: dict[str, float] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.stack.key, self.scenario)

    @property
    def app(self) -> Any:
        """The app this cell times: the stack's, or its ``due_app`` in scenario (e)."""
        if self.scenario == DUE_SCENARIO and self.stack.due_app is not None:
            return self.stack.due_app
        return self.stack.app


async def request(stack: Stack, path: str, cookie: str | None, app: Any = None) -> Any:
    app = stack.app if app is None else app
    if stack.interface == "asgi":
        return await asgi_request(app, path, cookie)
    return wsgi_request(app, path, cookie)


async def prepare_cells(stacks: list[Stack], scenarios: list[str]) -> list[Cell]:
    """Obtain a valid cookie per stack and check every cell does what it claims."""
    cells = []
    for stack in stacks:
        cookie = _FLOOR_COOKIE
        if not (stack.is_floor or stack.is_reference):
            cookie = cookie_from(await request(stack, "/set", None), stack.cookie_name)
        for scenario in scenarios:
            if stack.scenarios is not None and scenario not in stack.scenarios:
                continue
            if scenario == DUE_SCENARIO and stack.due_app is None:
                continue  # a peer does in (e) what it does in (b): its (b) cell stands for both
            path, with_cookie = SCENARIOS[scenario]
            sent = cookie if with_cookie else None
            template = asgi_scope(path, sent) if stack.interface == "asgi" else wsgi_environ(path, sent)
            cell = Cell(stack, scenario, sent, template)
            await check(cell)
            cells.append(cell)
    return cells


async def check(cell: Cell) -> None:
    stack = cell.stack
    path = SCENARIOS[cell.scenario][0]
    stack.probe.read = None
    response = await request(stack, path, cell.cookie, cell.app)
    if response.status != 200:
        raise RuntimeError(f"{stack.key} scenario {cell.scenario}: status {response.status}")
    if path == "/b" and not stack.is_floor and stack.probe.read != "v":
        raise RuntimeError(f"{stack.key} (b) read {stack.probe.read!r}, not the stored value")
    cell.set_cookie = bool(response.header_values("set-cookie"))


async def time_cell(cell: Cell, requests: int, warmup: int) -> list[int]:
    """One block of one cell: ``warmup`` untimed requests, then ``requests`` timed ones (ns)."""
    app, template = cell.app, cell.template
    clock = time.perf_counter_ns
    samples: list[int] = []
    if cell.stack.interface == "asgi":
        for i in range(warmup + requests):
            scope = fresh_scope(template)
            start = clock()
            await app(scope, receive, discard)
            elapsed = clock() - start
            if i >= warmup:
                samples.append(elapsed)
    else:
        for i in range(warmup + requests):
            environ = fresh_environ(template)
            start = clock()
            consume(app(environ, start_response_noop))
            elapsed = clock() - start
            if i >= warmup:
                samples.append(elapsed)
    return samples


async def run_repetitions(
    cells: list[Cell],
    *,
    repetitions: int,
    requests: int,
    warmup: int,
    seed: int,
    progress: Callable[[str], None],
    blocks: int = 25,
) -> None:
    """Each repetition times every cell in ``blocks`` rounds of ``requests / blocks``
    requests, each round in a fresh random order, so that cells compared with each other
    are measured close together in time: load that comes and goes on the machine then
    shifts ours and the peers alike. A cell's result for the repetition is the median of
    all its requests in it. (Short rounds pair better than long ones: with 5 rounds of
    300 requests, Flask cells' paired ratios ranged over 0.93..1.51 in one test where 25
    rounds of 60 gave 1.05..1.29, around the same median.)"""
    rng = random.Random(seed)
    per_block = max(1, requests // blocks)
    for rep in range(repetitions):
        started = time.monotonic()
        samples: dict[int, list[int]] = {id(cell): [] for cell in cells}
        for block in range(blocks):
            order = cells[:]
            rng.shuffle(order)
            for cell in order:
                samples[id(cell)] += await time_cell(cell, per_block, warmup if block == 0 else warmup // 5)
        for cell in cells:
            cell.medians.append(median_ns(samples[id(cell)]))
        progress(f"  repetition {rep + 1}/{repetitions}: {time.monotonic() - started:.1f} s")


async def count_commands(cells: list[Cell], server: RedisServer, requests: int) -> None:
    """Redis commands per request for each Redis cell: those its clients sent (MONITOR) and
    all the server ran (INFO commandstats)."""
    for cell in cells:
        if cell.stack.redis is None:
            continue
        await _one_request(cell)  # connections are open before counting starts
        server.reset_stats()
        with server.sent_commands() as sent:
            for _ in range(requests):
                await _one_request(cell)
        cell.server_commands = {name: calls / requests for name, calls in server.command_counts().items()}
        cell.commands = {name: calls / requests for name, calls in sent.items()}


async def _one_request(cell: Cell) -> None:
    if cell.stack.interface == "asgi":
        await cell.app(fresh_scope(cell.template), receive, discard)
    else:
        consume(cell.app(fresh_environ(cell.template), start_response_noop))


async def close_stacks(stacks: list[Stack]) -> None:
    for stack in stacks:
        for closer in stack.closers:
            result = closer()
            if asyncio.iscoroutine(result):
                await result
