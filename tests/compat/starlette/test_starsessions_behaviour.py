"""What starsessions' own tests check, for an app moving from starsessions to this package.

starsessions needs a store and ``await load_session(request)``; here the session is
loaded before the app runs, and starsessions' cookie and store options are ours under the
same or a close name (docs/migrating.md has the table).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from session_middleware import MemoryStore, SessionMiddleware, StoreError
from session_middleware.integrations.starlette import get_session
from session_middleware.testing.clock import FakeClock

from .support import ROUTES, SECRET, ClientFactory, session_app, set_cookies, the_set_cookie

HOUR = 3600.0


def test_no_cookie_loads_an_empty_session_and_sends_no_cookie(client_factory: ClientFactory) -> None:
    response = client_factory(session_app()).get("/view_session")
    assert response.json() == {"session": {}}
    assert set_cookies(response) == []


def test_an_unknown_session_id_is_an_empty_session(client_factory: ClientFactory) -> None:
    client = client_factory(session_app(), cookies={"session": "session_id"})
    assert client.get("/view_session").json() == {"session": {}}


def test_a_cookie_is_sent_when_a_session_is_created_and_not_on_every_update(client_factory: ClientFactory) -> None:
    client = client_factory(session_app())
    created = client.post("/update_session", json={"key": "value"})
    cookie = the_set_cookie(created)
    # starsessions re-sends its cookie on every save; the signed id here does not change,
    # so an update saves on the server and the browser keeps the cookie it has.
    updated = client.post("/update_session", json={"key2": "value2"})
    assert set_cookies(updated) == []
    assert client.cookies["session"] == cookie.value
    assert client.get("/view_session").json() == {"session": {"key": "value", "key2": "value2"}}


def test_clearing_a_stored_session_deletes_it_and_expires_the_cookie(client_factory: ClientFactory) -> None:
    app = session_app(domain="example.com")
    client = client_factory(app, base_url="http://example.com")
    value = the_set_cookie(client.post("/update_session", json={"key": "value"})).value
    cleared = the_set_cookie(client.post("/clear_session"))
    assert cleared.clears and cleared.get("domain") == "example.com"
    # Deleted on the server too: the old cookie, sent again, finds nothing.
    replay = client_factory(app, base_url="http://example.com", cookies={"session": value})
    assert replay.get("/view_session").json() == {"session": {}}


def test_clearing_a_session_that_never_existed_sends_no_cookie(client_factory: ClientFactory) -> None:
    response = client_factory(session_app()).post("/clear_session")
    assert response.json() == {"session": {}}
    assert set_cookies(response) == []


@pytest.mark.parametrize(
    ("options", "attribute", "expected"),
    [
        ({"cookie_max_age": 60}, "max-age", "60"),
        ({"cookie_max_age": timedelta(minutes=2)}, "max-age", "120"),
        ({"cookie_path": "/admin"}, "path", "/admin"),
        ({"cookie_domain": "example.com"}, "domain", "example.com"),
        ({"cookie_samesite": "strict"}, "samesite", "strict"),
        ({"cookie_samesite": "none"}, "samesite", "none"),
        ({"cookie_secure": True}, "secure", ""),
    ],
)
def test_cookie_options_under_our_names(
    client_factory: ClientFactory, options: dict[str, Any], attribute: str, expected: str
) -> None:
    client = client_factory(session_app(**options), base_url="http://example.com")
    cookie = the_set_cookie(client.post("/update_session", json={"key": "value"}))
    value = cookie.get(attribute)
    assert (value.lower() if attribute == "samesite" and value else value) == expected
    if options.get("cookie_samesite") == "none":
        assert cookie.has("secure")  # browsers refuse SameSite=None without it


def test_a_browser_session_cookie_has_no_max_age(client_factory: ClientFactory) -> None:
    cookie = the_set_cookie(client_factory(session_app(cookie_max_age=None)).post("/update_session", json={"k": 1}))
    assert not cookie.has("max-age") and not cookie.has("expires")


@pytest.mark.parametrize("name", ["bad name; inject=1", "bad\r\nname", "a=b", ""])
def test_an_invalid_cookie_name_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="cookie_name"):
        SessionMiddleware(Starlette(), secret_key=SECRET, cookie_name=name)


@pytest.mark.parametrize("name", ["session", "my-session_v2", "__Host-session"])
def test_valid_cookie_names_are_accepted(client_factory: ClientFactory, name: str) -> None:
    client = client_factory(session_app(cookie_name=name), base_url="https://testserver")
    assert the_set_cookie(client.post("/update_session", json={"k": 1}), name).value
    assert client.get("/view_session").json() == {"session": {"k": 1}}


def test_a_cookie_value_with_header_injection_is_no_session(client_factory: ClientFactory) -> None:
    client = client_factory(session_app())
    response = client.get("/view_session", headers={"Cookie": "session=abc\tSet-Cookie: evil=1"})
    assert response.status_code == 200 and response.json() == {"session": {}}
    assert all("evil" not in header for header in response.headers.get_list("set-cookie"))


class _FailingStore(MemoryStore):
    """A store whose backend is down for loads."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error
        self.failing = False

    async def aload_and_touch(self, session_id: str, **kwargs: Any) -> Any:
        if self.failing:
            raise self.error
        return await super().aload_and_touch(session_id, **kwargs)


def test_a_store_outage_answers_503_and_keeps_the_cookie(client_factory: ClientFactory) -> None:
    # starsessions lets the store's exception propagate (a 500); here the request gets a
    # 503 with Retry-After and the browser keeps its session for when the store is back.
    store = _FailingStore(StoreError("connection refused"))
    client = client_factory(session_app(store=store))
    client.post("/update_session", json={"key": "value"})
    store.failing = True
    response = client.get("/view_session")
    assert response.status_code == 503 and "retry-after" in response.headers
    assert set_cookies(response) == []
    store.failing = False
    assert client.get("/view_session").json() == {"session": {"key": "value"}}


def test_a_store_bug_propagates(client_factory: ClientFactory) -> None:
    store = _FailingStore(RuntimeError("a bug in the store"))
    client = client_factory(session_app(store=store))
    client.post("/update_session", json={"key": "value"})
    store.failing = True
    with pytest.raises(RuntimeError, match="a bug in the store"):
        client.get("/view_session")


def test_a_cookie_signed_with_another_key_is_no_session_even_with_a_shared_store(
    client_factory: ClientFactory,
) -> None:
    store = MemoryStore()
    writer = client_factory(session_app(secret_key="one-secret-0123456789abcdef0123456789", store=store))
    value = the_set_cookie(writer.post("/update_session", json={"secret": "classified"})).value
    reader = session_app(secret_key="another-secret-0123456789abcdef01234567", store=store)
    response = client_factory(reader, cookies={"session": value}).get("/view_session")
    assert response.status_code == 200 and response.json() == {"session": {}}


def test_two_processes_sharing_the_store_and_key_share_sessions(client_factory: ClientFactory) -> None:
    store = MemoryStore()
    writer = client_factory(session_app(store=store))
    value = the_set_cookie(writer.post("/update_session", json={"secret": "classified"})).value
    reader = client_factory(session_app(store=store), cookies={"session": value})
    assert reader.get("/view_session").json() == {"session": {"secret": "classified"}}


def test_sessions_slide_on_use_and_end_after_the_idle_timeout(client_factory: ClientFactory) -> None:
    # starsessions' "rolling" lifetime: here every session slides, on the server.
    clock = FakeClock()
    app = session_app(store=MemoryStore(clock=clock), idle_timeout=HOUR, absolute_timeout=10 * HOUR)
    client = client_factory(app)
    client.post("/update_session", json={"key": "value"})
    for _ in range(3):
        clock.advance(HOUR - 60)
        assert client.get("/view_session").json() == {"session": {"key": "value"}}
    clock.advance(HOUR + 1)
    response = client.get("/view_session")
    assert response.json() == {"session": {}}
    assert the_set_cookie(response).clears  # the stale cookie goes


def test_sessions_end_at_the_absolute_timeout_however_active(client_factory: ClientFactory) -> None:
    # starsessions' fixed ("expiring") lifetime is absolute_timeout here.
    clock = FakeClock()
    app = session_app(store=MemoryStore(clock=clock), idle_timeout=HOUR, absolute_timeout=3 * HOUR)
    client = client_factory(app)
    client.post("/update_session", json={"key": "value"})
    for _ in range(5):
        clock.advance(HOUR / 2)
        assert client.get("/view_session").json() == {"session": {"key": "value"}}
    clock.advance(HOUR / 2 + 1)
    assert client.get("/view_session").json() == {"session": {}}


async def metadata(request: Request) -> Response:
    session = get_session(request)
    if request.method == "POST":
        session["touched"] = True
    return JSONResponse({"opened": session.opened.timestamp(), "last_request": session.last_request.timestamp()})


def test_session_metadata_opened_and_last_request(client_factory: ClientFactory) -> None:
    clock = FakeClock(1_800_000_000)
    app = session_app(
        store=MemoryStore(clock=clock), touch_interval=0, routes=[Route("/", metadata, methods=["GET", "POST"])]
    )
    client = client_factory(app)
    client.post("/")
    clock.advance(100)
    first = client.get("/").json()
    assert first["opened"] == 1_800_000_000
    clock.advance(100)
    second = client.get("/").json()
    assert second["opened"] == 1_800_000_000
    assert second["last_request"] > first["last_request"] >= first["opened"]


async def regenerate(request: Request) -> Response:
    get_session(request).regenerate()
    return PlainTextResponse("ok")


def test_regenerating_the_id_keeps_the_data_and_retires_the_old_id(client_factory: ClientFactory) -> None:
    app = session_app(routes=[Route("/regenerate", regenerate, methods=["POST"]), *ROUTES])
    client = client_factory(app)
    old = the_set_cookie(client.post("/update_session", json={"key": "value"})).value
    new = the_set_cookie(client.post("/regenerate")).value
    assert new != old
    assert client.get("/view_session").json() == {"session": {"key": "value"}}
    replay = client_factory(app, cookies={"session": old})
    assert replay.get("/view_session").json() == {"session": {}}


def test_the_session_is_loaded_without_asking(client_factory: ClientFactory) -> None:
    # starsessions raises SessionNotLoaded until load_session(); here it is always loaded.
    async def view(request: Request) -> Response:
        return JSONResponse(dict(request.session))

    client = client_factory(session_app(routes=[Route("/plain", view), *ROUTES]))
    client.post("/update_session", json={"key": "value"})
    assert client.get("/plain").json() == {"key": "value"}
