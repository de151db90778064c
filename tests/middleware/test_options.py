"""Option validation: both middlewares refuse bad configuration at construction."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import pytest

from session_middleware import MemoryStore, SessionMiddleware, WSGISessionMiddleware
from session_middleware._cookies import set_cookie
from session_middleware._core import SessionCore, SessionOptions
from session_middleware._options import OPTION_NAMES

from .support import KEY, FakeClock


async def _asgi(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("never called")


def _wsgi(environ: Any, start_response: Any) -> Any:
    raise AssertionError("never called")


@pytest.fixture(params=["asgi", "wsgi"])
def build(request: pytest.FixtureRequest) -> Any:
    if request.param == "asgi":
        return lambda **options: SessionMiddleware(_asgi, **options)
    return lambda **options: WSGISessionMiddleware(_wsgi, **options)


def test_unknown_option_is_a_type_error_naming_it(build: Any) -> None:
    with pytest.raises(TypeError, match="cookie_maxage.*cookie_max_age"):
        build(secret_key=KEY, cookie_maxage=10)
    with pytest.raises(TypeError, match="secret"):
        build(secret=KEY)


def test_secret_key_is_required(build: Any) -> None:
    with pytest.raises(TypeError, match="secret_key"):
        build()


def test_the_secret_key_may_be_positional_as_in_starlette_and_nothing_else() -> None:
    assert SessionMiddleware(_asgi, KEY).core.signer.verify(SessionMiddleware(_asgi, KEY).core.signer.sign("A" * 43))
    assert WSGISessionMiddleware(_wsgi, KEY).core.cookie_name == "session"
    with pytest.raises(TypeError):
        cast(Any, SessionMiddleware)(_asgi, KEY, "session")
    with pytest.raises(TypeError):
        cast(Any, SessionMiddleware)(_asgi, KEY, secret_key=KEY)


def test_every_documented_option_is_accepted(build: Any) -> None:
    clock = FakeClock()
    middleware = build(
        secret_key=[KEY, KEY + "2"],
        store=MemoryStore(clock=clock),
        clock=clock,
        idle_timeout=timedelta(minutes=30),
        absolute_timeout=12 * 3600,
        cookie_name="__Host-sid",
        cookie_path="/",
        cookie_domain=None,
        cookie_secure=None,
        cookie_httponly=True,
        cookie_samesite="Strict",
        cookie_partitioned=False,
        trusted_proxies=["10.0.0.0/8", "::1"],
        client_name=lambda headers: headers.get("x-app", ""),
        max_sessions_per_user=3,
        api_path="/api/sessions/",
        api_token=["t1", "t2"],
        api_authorize=lambda request: False,
    )
    core: SessionCore = middleware.core
    assert core.idle_timeout == 1800.0 and core.absolute_timeout == 43200.0
    assert core.cookie_secure is True  # forced by the __Host- prefix
    assert core.cookie_samesite == "strict"
    assert core.api_path == "/api/sessions"
    assert core.api_options()["api_token"] == ["t1", "t2"]
    assert core.api_options()["policy"].max_sessions_per_user == 3
    assert core.store.clock is clock


def test_option_names_match_the_spec() -> None:
    spec = {
        "secret_key",
        "store",
        "idle_timeout",
        "absolute_timeout",
        "cookie_name",
        "cookie_path",
        "cookie_domain",
        "cookie_secure",
        "cookie_httponly",
        "cookie_samesite",
        "trusted_proxies",
        "client_name",
        "max_sessions_per_user",
        "api_path",
        "api_token",
        "api_authorize",
    }
    spec |= {"touch_interval", "cookie_max_age", "cookie_partitioned"}
    assert spec <= set(SessionOptions.__annotations__)
    assert set(SessionOptions.__annotations__) - spec == {"clock", "id_header", "on_event", "migrate_from"}
    assert set(SessionOptions.__annotations__) == set(OPTION_NAMES)


@pytest.mark.parametrize(
    "options",
    [
        {"idle_timeout": 0},
        {"idle_timeout": -1},
        {"idle_timeout": float("nan")},
        {"idle_timeout": float("inf")},
        {"idle_timeout": timedelta(0)},
        {"absolute_timeout": 0},
        {"absolute_timeout": timedelta(seconds=-5)},
        {"absolute_timeout": float("inf")},
        {"absolute_timeout": float("nan")},
        {"absolute_timeout": 1e12},  # the cookie's Expires date would overflow at the first login
        {"cookie_samesite": "sometimes"},
        {"max_sessions_per_user": 0},
        {"max_sessions_per_user": -2},
        {"touch_interval": -1},
        {"touch_interval": 24 * 3600},  # as long as the idle timeout: sessions would expire while used
        {"cookie_max_age": float("nan")},
        {"api_path": "sessions"},
        {"api_path": "/"},
        {"api_path": ""},
        {"api_path": "//"},  # stripped to "", it would route every request to the API
        {"api_path": "///"},
        {"api_path": "/sessions?x=1"},
        {"api_path": "/ses\nsions"},
        {"trusted_proxies": ["not-an-address"]},
        {"trusted_proxies": ["10.0.0.0/33"]},
        {"store": MemoryStore(), "clock": FakeClock()},
    ],
)
def test_bad_values_are_value_errors(build: Any, options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        build(secret_key=KEY, **options)


@pytest.mark.parametrize("options", [{"idle_timeout": "soon"}, {"max_sessions_per_user": 2.5}, {"cookie_secure": 1}])
def test_values_of_the_wrong_type_are_type_errors(build: Any, options: dict[str, Any]) -> None:
    with pytest.raises(TypeError):
        build(secret_key=KEY, **options)


@pytest.mark.parametrize("seconds", [1, 90.5, 100 * 365 * 24 * 3600])
def test_timeouts_in_range_give_a_working_cookie(seconds: float) -> None:
    core = SessionCore(secret_key=KEY, idle_timeout=seconds, absolute_timeout=seconds)
    assert f"Max-Age={int(seconds)}" in set_cookie(core.cookies, "x", False)


def test_clock_option_builds_the_default_store_on_it(build: Any) -> None:
    clock = FakeClock(1234.0)
    middleware = build(secret_key=KEY, clock=clock)
    assert isinstance(middleware.core.store, MemoryStore) and middleware.core.store.clock() == 1234.0


def test_default_timeouts_and_cookie() -> None:
    core = SessionCore(secret_key=KEY)
    assert core.idle_timeout == 24 * 3600 and core.absolute_timeout == 14 * 24 * 3600
    assert core.policy.touch_interval == 60 and core.policy.max_sessions_per_user is None
    cookies = core.cookies
    assert (cookies.name, cookies.path, cookies.domain, cookies.max_age) == ("session", "/", None, 14 * 24 * 3600)
    assert (cookies.secure, cookies.httponly, cookies.samesite, cookies.partitioned) == (None, True, "lax", False)
    assert core.api_path is None  # adding the middleware adds no route
    assert isinstance(core.store, MemoryStore)


@pytest.mark.parametrize(("idle", "touch"), [(24 * 3600, 60), (300, 30), (10, 1)])
def test_touch_interval_defaults_to_the_smaller_of_a_minute_and_a_tenth_of_the_idle_timeout(
    idle: float, touch: float
) -> None:
    assert SessionCore(secret_key=KEY, idle_timeout=idle).policy.touch_interval == touch
    assert SessionCore(secret_key=KEY, idle_timeout=idle, touch_interval=0).policy.touch_interval == 0


@pytest.mark.parametrize(
    ("store", "message"),
    [("redis://127.0.0.1:6379/0", "str"), (MemoryStore, "the class MemoryStore"), ({}, "dict"), (None, None)],
)
def test_anything_but_a_store_is_refused_at_construction_with_how_to_build_one(
    build: Any, store: Any, message: str | None
) -> None:
    if message is None:  # None is the default store
        assert isinstance(build(secret_key=KEY, store=store).core.store, MemoryStore)
        return
    with pytest.raises(TypeError, match=f"{message}.*store=MemoryStore\\(\\)"):
        build(secret_key=KEY, store=store)


def test_each_middleware_gets_its_own_default_store() -> None:
    first, second = SessionMiddleware(_asgi, secret_key=KEY), SessionMiddleware(_asgi, secret_key=KEY)
    assert first.core.store is not second.core.store
