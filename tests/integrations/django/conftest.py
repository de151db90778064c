"""Django configured for this package only (``settings.configure()``), a shared in-memory
database with auth's tables, and a fresh store per test (memory, or a real Redis)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from typing import Any

import django
import pytest
from django.conf import settings
from django.test.utils import override_settings

from session_middleware import MemoryStore
from session_middleware.stores.base import Store
from tests.support import fixtures

from .settings import DATABASE_NAME, SETTINGS

redis_server = fixtures.redis_server
redis_prefix = fixtures.redis_prefix

if not settings.configured:
    settings.configure(**SETTINGS)
    django.setup()

# The shared in-memory database lives while a connection to it is open.
_keeper = sqlite3.connect(DATABASE_NAME, uri=True, check_same_thread=False)


@pytest.fixture(scope="session", autouse=True)
def _database() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, run_syncdb=True)


@pytest.fixture(scope="session")
def runner() -> Iterator[asyncio.Runner]:
    """One event loop for every async test, so async Redis clients stay on their loop."""
    with asyncio.Runner() as loop:
        yield loop


@pytest.fixture(params=["memory", "redis"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(store_kind: str, request: pytest.FixtureRequest, runner: asyncio.Runner) -> Iterator[Store]:
    """A fresh store of this test's kind, installed as ``SESSION_MIDDLEWARE["store"]``."""
    made: Store
    if store_kind == "memory":
        made = MemoryStore()
    else:
        from session_middleware.stores.redis import RedisStore

        server = request.getfixturevalue("redis_server")
        made = RedisStore(server.url, prefix=request.getfixturevalue("redis_prefix"))
    with override_settings(SESSION_MIDDLEWARE={"store": made}):
        yield made
    made.close()
    runner.run(made.aclose())


@pytest.fixture
def memory_store() -> Iterator[MemoryStore]:
    made = MemoryStore()
    with override_settings(SESSION_MIDDLEWARE={"store": made}):
        yield made


def configure(**options: Any) -> Any:
    """``override_settings`` for SESSION_MIDDLEWARE options."""
    return override_settings(SESSION_MIDDLEWARE=options)


@pytest.fixture(params=["wsgi", "asgi"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def browser(kind: str, runner: asyncio.Runner) -> Any:
    from .clients import Browser

    return Browser(kind, runner)


@pytest.fixture
def new_browser(kind: str, runner: asyncio.Runner) -> Any:
    """Another browser of the same kind (another device)."""
    from .clients import Browser

    return lambda **defaults: Browser(kind, runner, **defaults)
