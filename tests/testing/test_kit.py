"""The kit's plumbing: the fake clock, lazy imports, the in-process client and the probe routes."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pytest

from session_middleware import MemoryStore, SessionMiddleware, WSGISessionMiddleware
from session_middleware.records import SessionRecord
from session_middleware.testing import AppClient, FakeClock, Request
from session_middleware.testing.probes import probe_asgi_app, probe_wsgi_app
from session_middleware.types import Receive, Scope, Send

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

KEY = "a test key of more than thirty-two bytes, for signing"


def test_fake_clock_moves_only_forward() -> None:
    clock = FakeClock(1000)
    assert clock() == clock.now == 1000.0
    assert clock.advance(2.5) == 1002.5 and clock.tick() == 1003.5 and clock.set(2000) == 2000.0
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        clock.advance(math.nan)
    with pytest.raises(ValueError):
        clock.set(1999)
    assert clock() == 2000.0
    assert abs(FakeClock()() - time.time()) < 5


def test_a_store_on_the_fake_clock_expires_when_told() -> None:
    clock = FakeClock(1000)
    store = MemoryStore(clock=clock)
    store.create(SessionRecord("s" * 43, 1000, 1000, idle_timeout=10, absolute_expiry=5000))
    clock.advance(9)
    assert store.load_and_touch("s" * 43) is not None
    clock.advance(10)
    assert store.load_and_touch("s" * 43) is None


def test_hypothesis_is_imported_only_when_the_kit_needs_it() -> None:
    code = (
        "import sys, session_middleware, session_middleware.testing\n"
        "from session_middleware.testing import FakeClock, AppClient, probe_action\n"
        "assert 'hypothesis' not in sys.modules, 'imported too early'\n"
        "from session_middleware.testing import StoreLifecycle, strategies\n"
        "assert 'hypothesis' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _recording_asgi(events: list[str]) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        name = scope["path"].rsplit("/", 1)[-1]
        events.append(f"start {name}")
        body = (await receive())["body"]
        events.append(f"body {name}")
        payload = json.dumps({"path": scope["path"], "raw": scope["raw_path"].decode(), "body": body.decode()})
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-q", scope["query_string"])]})
        await send({"type": "http.response.body", "body": payload.encode()})
        events.append(f"end {name}")

    return app


def _recording_wsgi(events: list[str]) -> Any:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ["PATH_INFO"].encode("latin-1").decode()
        name = path.rsplit("/", 1)[-1]
        events.append(f"start {name}")
        body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        events.append(f"body {name}")
        start_response("200 OK", [("X-Q", environ["QUERY_STRING"])])
        events.append(f"end {name}")
        return [json.dumps({"path": path, "body": body.decode()}).encode()]

    return app


@pytest.mark.parametrize("kind", ["asgi", "wsgi"])
def test_the_client_sends_paths_queries_and_bodies(kind: str) -> None:
    events: list[str] = []
    client = AppClient.asgi(_recording_asgi(events)) if kind == "asgi" else AppClient.wsgi(_recording_wsgi(events))
    reply = client.send(Request("POST", "/sessions/Bob Ünï/x", query={"a": "1 2"}, body=b"hi"))
    assert reply.status == 200 and reply.header("x-q") == "a=1+2"
    assert reply.json()["path"] == "/sessions/Bob Ünï/x" and reply.json()["body"] == "hi"
    if kind == "asgi":
        assert reply.json()["raw"] == "/sessions/Bob%20%C3%9Cn%C3%AF/x"
    client.close()


@pytest.mark.parametrize("kind", ["asgi", "wsgi"])
def test_overlapping_requests_are_both_in_flight_then_run_in_order(kind: str) -> None:
    events: list[str] = []
    client = AppClient.asgi(_recording_asgi(events)) if kind == "asgi" else AppClient.wsgi(_recording_wsgi(events))
    one, two = client.send_overlapping(Request("POST", "/one", body=b"1"), Request("POST", "/two", body=b"2"))
    assert (one.json()["body"], two.json()["body"]) == ("1", "2")
    assert events == ["start one", "start two", "body one", "end one", "body two", "end two"]
    client.close()


@pytest.mark.parametrize("kind", ["asgi", "wsgi"])
def test_overlapping_writes_through_the_middleware_keep_both_keys(kind: str) -> None:
    options: dict[str, Any] = {"secret_key": KEY, "clock": FakeClock()}
    client = (
        AppClient.asgi(SessionMiddleware(probe_asgi_app(), **options))
        if kind == "asgi"
        else AppClient.wsgi(WSGISessionMiddleware(probe_wsgi_app(), **options))
    )
    first = client.send(Request.json("POST", "/_probe/write", {"set": {"a": 0}}))
    cookie = first.header("set-cookie")
    assert cookie is not None
    header = [("cookie", cookie.split(";")[0])]
    client.send_overlapping(
        Request.json("POST", "/_probe/write", {"set": {"b": 1}}, headers=header),
        Request.json("POST", "/_probe/write", {"set": {"c": 2}}, headers=header),
    )
    assert client.send(Request("GET", "/_probe/state", headers=header)).json()["data"] == {"a": 0, "b": 1, "c": 2}


@pytest.mark.parametrize("kind", ["asgi", "wsgi"])
def test_probe_apps_pass_other_paths_on_and_refuse_unknown_probes(kind: str) -> None:
    async def asgi_fallback(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def wsgi_fallback(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("204 No Content", [])
        return []

    options: dict[str, Any] = {"secret_key": KEY}
    if kind == "asgi":
        with_fallback = AppClient.asgi(SessionMiddleware(probe_asgi_app(asgi_fallback), **options))
        alone = AppClient.asgi(SessionMiddleware(probe_asgi_app(), **options))
    else:
        with_fallback = AppClient.wsgi(WSGISessionMiddleware(probe_wsgi_app(wsgi_fallback), **options))
        alone = AppClient.wsgi(WSGISessionMiddleware(probe_wsgi_app(), **options))
    assert with_fallback.send(Request("GET", "/elsewhere")).status == 204
    assert alone.send(Request("GET", "/elsewhere")).status == 404
    assert alone.send(Request("GET", "/_probe/nothing")).status == 404
    assert alone.send(Request.json("POST", "/_probe/write", [1, 2])).status == 400
    state = alone.send(Request.json("POST", "/_probe/append", {"key": "k", "item": 1})).json()
    assert state == {"user": None, "data": {"k": [1]}, "is_new": True}
