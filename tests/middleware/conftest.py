"""Fixtures of the middleware suite: harnesses over every adapter, and the log-leak guard."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import session_middleware._session
import session_middleware.records
from session_middleware import MemoryStore

from .support import KEY, FakeClock, Harness, IdRegistry, Kind, SpyStore, build_app, find_leaks

KINDS: tuple[Kind, ...] = ("asgi", "wsgi", "starlette", "flask")
RAW_KINDS: tuple[Kind, ...] = ("asgi", "wsgi")


@pytest.fixture(autouse=True)
def id_registry(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> Iterator[IdRegistry]:
    """Fails the test when a raw session id (hence any cookie value) reaches a log record."""
    registry = IdRegistry()
    original = session_middleware.records.new_session_id
    monkeypatch.setattr(session_middleware.records, "new_session_id", registry.wrap(original))
    monkeypatch.setattr(session_middleware._session, "new_session_id", registry.wrap(original))
    caplog.set_level(logging.DEBUG, logger="session_middleware")
    yield registry
    records = caplog.get_records("setup") + caplog.get_records("call")
    leaks = find_leaks(records, registry.ids)
    if leaks:
        pytest.fail(f"raw session id in the logs: {leaks}")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make(clock: FakeClock) -> Iterator[Callable[..., Harness]]:
    """``make(kind, **options)``: the scenario app behind the middleware, with a spy store."""
    runners: list[asyncio.Runner] = []

    def factory(
        kind: Kind, *, store: Any = None, peer: str = "127.0.0.1", root_path: str = "", **options: Any
    ) -> Harness:
        spy = store if store is not None else SpyStore(MemoryStore(clock=clock))
        options.setdefault("secret_key", KEY)
        options["store"] = spy
        harness = Harness(kind, None, spy, clock, options.get("cookie_name", "session"), peer, root_path)
        harness.app = build_app(kind, options, (harness.asgi_gates, harness.thread_gates))
        if harness.is_asgi:
            harness.runner = asyncio.Runner()
            runners.append(harness.runner)
        return harness

    yield factory
    for runner in runners:
        runner.close()


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> Kind:
    """Every way the middleware is used: raw ASGI, raw WSGI, Starlette and Flask."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(params=RAW_KINDS)
def raw_kind(request: pytest.FixtureRequest) -> Kind:
    """The two adapters around raw callables."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def h(make: Callable[..., Harness], kind: Kind) -> Harness:
    """The default harness of a test parametrized over every kind."""
    return make(kind)
