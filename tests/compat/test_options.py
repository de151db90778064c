"""resolve_options: what apps written for Starlette, starsessions or Flask-Session pass."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import Secret

from session_middleware import MemoryStore, WSGISessionMiddleware
from session_middleware._options import HINTS, OPTION_NAMES, STARLETTE_ALIASES, resolve_options

KEY = "options-test-secret-key-0123456789abcdef"


def test_canonical_options_pass_through_unchanged() -> None:
    store = MemoryStore()
    options = {"secret_key": KEY, "store": store, "cookie_name": "sid", "cookie_max_age": None, "api_path": None}
    assert resolve_options((), options) == options
    assert resolve_options((), options)["store"] is store


def test_the_secret_key_may_be_positional() -> None:
    assert resolve_options((KEY,), {"cookie_name": "sid"}) == {"secret_key": KEY, "cookie_name": "sid"}


def test_no_arguments_resolve_to_nothing() -> None:
    # A missing secret_key is the middleware's error to raise, with its own message.
    assert resolve_options((), {}) == {}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (Secret(KEY), KEY),
        ([Secret("old-" + KEY), KEY], ["old-" + KEY, KEY]),
        ((b"old-" + KEY.encode(), Secret(KEY)), [b"old-" + KEY.encode(), KEY]),
        (KEY.encode(), KEY.encode()),
    ],
)
def test_secrets_become_their_str_and_key_lists_keep_their_order(given: Any, expected: Any) -> None:
    assert resolve_options((given,), {})["secret_key"] == expected
    assert resolve_options((), {"secret_key": given})["secret_key"] == expected


@pytest.mark.parametrize(("alias", "canonical"), sorted(STARLETTE_ALIASES.items()))
def test_starlette_keywords_are_aliases(alias: str, canonical: str) -> None:
    value = True if alias in ("https_only", "partitioned") else "x"
    assert resolve_options((), {alias: value}) == {canonical: value}


def test_starlette_call_maps_every_keyword() -> None:
    resolved = resolve_options(
        (Secret(KEY),),
        {
            "session_cookie": "app_session",
            "max_age": None,
            "path": "/app",
            "domain": "example.com",
            "same_site": "strict",
            "https_only": True,
            "partitioned": True,
        },
    )
    assert resolved == {
        "secret_key": KEY,
        "cookie_name": "app_session",
        "cookie_max_age": None,
        "cookie_path": "/app",
        "cookie_domain": "example.com",
        "cookie_samesite": "strict",
        "cookie_secure": True,
        "cookie_partitioned": True,
    }


@pytest.mark.parametrize(("https_only", "secure"), [(True, True), (False, False), (1, True), (0, False)])
def test_https_only_is_never_the_automatic_mode(https_only: Any, secure: bool) -> None:
    # Starlette never marks the cookie Secure when https_only is false, even on https:
    # the alias must not become cookie_secure=None ("Secure on https").
    resolved = resolve_options((), {"https_only": https_only})
    assert resolved["cookie_secure"] is secure


@pytest.mark.parametrize(("alias", "canonical"), sorted(STARLETTE_ALIASES.items()))
def test_an_option_under_both_names_is_refused(alias: str, canonical: str) -> None:
    with pytest.raises(TypeError, match=f"{alias!r}.*same option|{canonical!r}.*same option"):
        resolve_options((), {canonical: True, alias: True})


def test_a_positional_and_a_keyword_secret_are_refused() -> None:
    with pytest.raises(TypeError, match="positional secret key and 'secret_key'"):
        resolve_options((KEY,), {"secret_key": KEY})


def test_more_than_one_positional_argument_is_refused() -> None:
    with pytest.raises(TypeError, match="at most one positional argument.*got 2"):
        resolve_options((KEY, "session"), {})


@pytest.mark.parametrize(
    ("typo", "suggestion"),
    [("cookie_nmae", "cookie_name"), ("idle_timout", "idle_timeout"), ("sesion_cookie", "session_cookie")],
)
def test_a_typo_names_the_closest_option(typo: str, suggestion: str) -> None:
    with pytest.raises(TypeError, match=f"unknown session option {typo!r}.*did you mean {suggestion!r}"):
        resolve_options((), {typo: 1})


@pytest.mark.parametrize(
    ("name", "advice"),
    [
        ("rolling", "sessions always slide: see idle_timeout"),
        ("lifetime", "idle_timeout"),
        ("cookie_https_only", "cookie_secure"),
        ("cookie_same_site", "cookie_samesite"),
        ("serializer", "JSON"),
        ("SESSION_TYPE", r"store=RedisStore\("),
        ("permanent", "absolute_timeout"),
        ("key_prefix", "prefix="),
        ("use_signer", "signed"),
        ("sid_length", "256"),
        ("serialization_format", "JSON"),
        ("secret", "secret_key"),
        ("secure", "cookie_secure"),
        ("httponly", "cookie_httponly"),
        ("samesite", "cookie_samesite"),
        ("expires", "cookie_max_age"),
        ("ttl", "idle_timeout"),
        ("timeout", "idle_timeout"),
        ("redis_url", r"RedisStore\('redis://"),
    ],
)
def test_names_from_other_libraries_say_what_to_write(name: str, advice: str) -> None:
    with pytest.raises(TypeError, match=f"unknown session option {name!r}: .*{advice}"):
        resolve_options((), {name: 1})


def test_every_hint_names_an_option_or_an_action() -> None:
    for name, hint in HINTS.items():
        assert name not in OPTION_NAMES and name not in STARLETTE_ALIASES
        assert any(option in hint for option in OPTION_NAMES) or "always" in hint or "nothing" in hint, name


@given(st.text(min_size=1, max_size=30))
def test_no_unknown_name_slips_through(name: str) -> None:
    if name in OPTION_NAMES or name in STARLETTE_ALIASES:
        assert resolve_options((), {name: None}) != {}
    else:
        with pytest.raises(TypeError, match="unknown session option"):
            resolve_options((), {name: None})


class _StarsessionsLikeStore:
    """The shape of a starsessions store: read/write/remove, none of our methods."""

    async def read(self, session_id: str, lifetime: int) -> bytes:
        return b""

    async def write(self, session_id: str, data: bytes, lifetime: int, ttl: int) -> str:
        return session_id

    async def remove(self, session_id: str) -> None:
        return None


@pytest.mark.parametrize(
    ("store", "what"),
    [
        ("redis://:hunter2@localhost:6379/0", "string 'redis://...'"),
        ("memory", "string 'memory'"),
        (MemoryStore, "class MemoryStore"),
        (_StarsessionsLikeStore(), "_StarsessionsLikeStore is not a session_middleware store"),
        (object(), "object is not a session_middleware store"),
    ],
)
def test_anything_but_a_store_is_refused_with_how_to_build_one(store: Any, what: str) -> None:
    with pytest.raises(TypeError, match=what) as raised:
        resolve_options((), {"store": store})
    message = str(raised.value)
    assert "store=MemoryStore()" in message and "store=RedisStore('redis://" in message
    assert "hunter2" not in message  # a URL's password is never echoed


def test_a_store_none_means_the_default() -> None:
    assert resolve_options((), {"store": None}) == {"store": None}


@pytest.mark.parametrize("needs_secure", [{"partitioned": True}, {"same_site": "none"}, {"same_site": "None"}])
def test_https_only_false_gives_way_where_browsers_require_secure(
    needs_secure: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    # Starlette would send a cookie without Secure that browsers refuse: ours is Secure.
    caplog.set_level("WARNING", logger="session_middleware.security")
    assert resolve_options((), {"https_only": False, **needs_secure})["cookie_secure"] is True
    assert "https_only=False ignored" in caplog.text


def test_an_explicit_cookie_secure_false_is_left_for_the_middleware_to_refuse() -> None:
    assert resolve_options((), {"cookie_secure": False, "partitioned": True})["cookie_secure"] is False
    assert resolve_options((), {"https_only": False, "same_site": "lax"})["cookie_secure"] is False


def _wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    environ["session"]["seen"] = True
    start_response("204 No Content", [])
    return []


def test_the_wsgi_middleware_takes_starlettes_conventions_too() -> None:
    app = WSGISessionMiddleware(_wsgi_app, Secret(KEY), session_cookie="app_session", max_age=None, https_only=True)
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://testserver") as client:
        (header,) = client.get("/").headers.get_list("set-cookie")
    assert header.startswith("app_session=")
    attributes = [part.strip().lower() for part in header.split(";")[1:]]
    assert "secure" in attributes and not any(a.startswith(("max-age", "expires")) for a in attributes)
    with pytest.raises(TypeError, match="rolling"):
        WSGISessionMiddleware(_wsgi_app, KEY, rolling=True)
