"""The ``Session`` mapping on its own, and the isolation of what it hands the app."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from session_middleware import MemoryStore, Session, SessionMiddleware, WSGISessionMiddleware
from session_middleware._core import SessionCore
from session_middleware._ops import run_flow
from session_middleware._request import RequestView
from session_middleware._session import Action
from session_middleware.records import SessionRecord, encode_value

from .support import KEY, T0, Browser, FakeClock, Harness, Kind, null_start_response, unsign


def record(**data: Any) -> SessionRecord:
    return SessionRecord(
        id="A" * 43,
        opened=T0,
        last_request=T0 + 5,
        idle_timeout=60,
        absolute_expiry=T0 + 600,
        address="10.0.0.1",
        client="agent",
        user={"id": "u1", "name": "Ada", "roles": ["reader"]},
        data={k: encode_value(k, v) for k, v in data.items()},
    )


def origin() -> tuple[str, str]:
    return "192.0.2.1", "new-agent"


def test_session_is_a_mutable_mapping() -> None:
    session = Session(record(a=1, b=[1, 2]), now=T0, origin=origin)
    assert isinstance(session, MutableMapping)
    assert len(session) == 2 and set(session) == {"a", "b"} and "a" in session and "z" not in session
    assert session.get("z", 7) == 7 and session["b"] == [1, 2]
    assert session.pop("a") == 1 and "a" not in session
    session.update(c=3)
    assert session.setdefault("c", 4) == 3 and dict(session) == {"b": [1, 2], "c": 3}
    with pytest.raises(KeyError):
        session["missing"]
    with pytest.raises(KeyError):
        del session["missing"]


def test_metadata_of_a_loaded_session() -> None:
    session = Session(record(), now=T0 + 5, origin=origin)
    assert session.id == "A" * 43 and session.is_new is False
    assert session.user == {"id": "u1", "name": "Ada", "roles": ["reader"]} and session.user_id == "u1"
    assert (session.address, session.client) == ("10.0.0.1", "agent")
    assert session.opened == datetime.fromtimestamp(T0, tz=UTC) and session.opened.tzinfo is UTC
    assert session.last_request == datetime.fromtimestamp(T0 + 5, tz=UTC)


def test_metadata_of_a_new_session() -> None:
    session = Session(None, now=T0, origin=origin)
    assert session.is_new and session.user is None and session.user_id is None
    assert (session.address, session.client) == origin()
    assert session.opened == session.last_request == datetime.fromtimestamp(T0, tz=UTC)
    assert session.id == session.id and len(session.id) == 43  # made once, lazily


def test_metadata_is_read_only() -> None:
    session = Session(None, now=T0, origin=origin)
    for name in ("id", "user", "user_id", "address", "client", "opened", "last_request", "is_new"):
        with pytest.raises(AttributeError):
            setattr(session, name, "x")


def test_repr_shows_neither_id_nor_data() -> None:
    session = Session(record(secret="hunter2"), now=T0, origin=origin)
    text = repr(session)
    assert "A" * 43 not in text and "hunter2" not in text and "u1" in text


@pytest.mark.parametrize("key", [1, None, ("a",), b"a"])
def test_keys_must_be_strings(key: Any) -> None:
    session = Session(None, now=T0, origin=origin)
    with pytest.raises(TypeError, match="keys must be str"):
        session[key] = 1


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), {1, 2}, b"x", object(), {"a": [float("-inf")]}, {("t",): 1}, datetime.now()]
)
def test_values_must_be_json(value: Any) -> None:
    session = Session(record(keep=1), now=T0, origin=origin)
    with pytest.raises(TypeError, match="'the_key'"):
        session["the_key"] = value
    assert "the_key" not in session and dict(session) == {"keep": 1}


@given(st.none() | st.booleans() | st.integers() | st.floats() | st.text())
def test_scalars_encode_exactly_as_the_json_module_would(value: Any) -> None:
    try:
        expected = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except ValueError:
        with pytest.raises(TypeError, match="'k'"):
            encode_value("k", value)
        return
    assert encode_value("k", value) == expected


def test_reserved_looking_keys_are_plain_data() -> None:
    names = ["keys", "items", "get", "clear", "login", "logout", "id", "user", "__class__", "_record", "__dict__"]
    session = Session(record(**{name: name for name in names}), now=T0, origin=origin)
    assert dict(session) == {name: name for name in names}
    assert session.id == "A" * 43 and session.user_id == "u1" and isinstance(session, Session)
    assert sorted(session.keys()) == sorted(names)
    session["login"] = 1
    session.clear()
    assert len(session) == 0 and session.user_id == "u1"


def test_circular_values_are_a_type_error() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(TypeError, match="'loop'"):
        Session(None, now=T0, origin=origin)["loop"] = loop


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=10), json_values, max_size=5))
def test_any_json_data_survives_a_save_and_load(data: dict[str, Any]) -> None:
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    core = SessionCore(secret_key=KEY, store=store)
    view = RequestView(method="GET", scheme="http", path="/")
    opened = run_flow(core.load(view), store)
    opened.session.update(data)
    session = opened.session
    flow = core.commit(opened, view, 200)
    if not data:
        assert flow is None and len(store) == 0
        return
    assert flow is not None and run_flow(flow, store) is not None
    loaded = store.load_and_touch(session.id)
    assert loaded is not None and loaded.decoded_data() == data
    again = Session(loaded, now=clock(), origin=origin)
    assert dict(again) == data and again.outcome().action is Action.NONE  # read back: nothing to write


# -- isolation: what the app holds is never the stored object ------------------------


def test_mutating_the_user_dict_after_login_does_not_change_the_stored_user(
    make: Callable[..., Harness], raw_kind: Kind
) -> None:
    roles = ["reader"]
    user = {"id": "u1", "roles": roles}
    h = make(raw_kind)
    session = Session(None, now=h.clock(), origin=origin)
    session.login(user)
    roles.append("admin")
    user["id"] = "u2"
    assert session.user == {"id": "u1", "roles": ["reader"]}


def test_mutating_session_user_does_not_change_the_store(make: Callable[..., Harness], kind: Kind) -> None:
    h = make(kind)
    browser = Browser(h)
    browser.get('/login?_user={"id":"u1","roles":["reader"]}')
    loaded = h.store.inner.load_and_touch(browser.session_id or "")
    assert loaded is not None
    session = Session(loaded, now=h.clock(), origin=origin)
    session.user["roles"].append("admin")  # type: ignore[index]
    session.user["id"] = "someone-else"  # type: ignore[index]
    assert session.user == {"id": "u1", "roles": ["reader"]}
    stored = h.store.peek(browser.session_id or "")
    assert stored is not None and stored.user == {"id": "u1", "roles": ["reader"]}


def test_login_in_an_app_keeps_a_copy_of_the_user(clock: FakeClock) -> None:
    roles = ["reader"]
    store = MemoryStore(clock=clock)

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        environ["session"].login({"id": "u1", "roles": roles})
        start_response("200 OK", [])
        return [b""]

    WSGISessionMiddleware(app, secret_key=KEY, store=store)(
        {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "wsgi.url_scheme": "http"}, null_start_response
    )
    roles.append("admin")  # the app reuses its list afterwards
    (stored,) = store.list_by_user("u1")
    assert stored.user == {"id": "u1", "roles": ["reader"]}


def test_values_read_from_a_session_are_private_to_the_request(clock: FakeClock) -> None:
    store = MemoryStore(clock=clock)
    seen: list[Session] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        session = scope["session"]
        if "cart" not in session:
            session["cart"] = ["book"]
        else:
            session["cart"].append("pen")  # mutated, then the request fails
            seen.append(session)
            await send({"type": "http.response.start", "status": 500, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    middleware = SessionMiddleware(app, secret_key=KEY, store=store)
    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    async def receive() -> MutableMapping[str, Any]:
        return {"type": "http.request", "body": b""}

    scope: dict[str, Any] = {"type": "http", "path": "/", "headers": []}
    asyncio.run(middleware(dict(scope), receive, send))
    cookie = next(v for k, v in sent[0]["headers"] if k == b"set-cookie").decode().split(";")[0]
    asyncio.run(middleware({**scope, "headers": [(b"cookie", cookie.encode())]}, receive, send))
    assert seen and seen[0]["cart"] == ["book", "pen"]
    session_id = unsign(cookie.partition("=")[2])
    loaded = store.load_and_touch(session_id or "")
    assert loaded is not None and loaded.decoded_data() == {"cart": ["book"]}
