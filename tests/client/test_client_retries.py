"""Timeouts, bounded retries (idempotent calls only) and error mapping, without a live service."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessions_api.client import (
    AsyncSessionsClient,
    BadRequestError,
    ConnectionFailedError,
    ForbiddenError,
    ProtocolError,
    ServerError,
    SessionInfo,
    SessionsApiError,
    SessionsClient,
    StoreUnavailableError,
)

SESSION = {
    "id": "s" * 43,
    "opened": "2026-01-31T12:00:00.000Z",
    "last_request": "2026-01-31T12:00:01.500Z",
    "address": "10.0.0.1",
    "client": "c",
    "user": {"id": "u"},
}
STORE_DOWN = {"code": "STORE_UNAVAILABLE", "status": 503, "message": "down", "correlation_id": None}

# An outcome of one attempt: an HTTP status, or a transport error raised before any answer.
Outcome = int | type[httpx.TransportError]


def scripted(outcomes: list[Outcome], seen: list[httpx.Request]) -> httpx.MockTransport:
    """A transport answering each request with the next outcome (200/201/204 bodies fit the call)."""

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        outcome = outcomes[len(seen) - 1] if len(seen) <= len(outcomes) else 200
        if not isinstance(outcome, int):
            raise outcome("scripted failure", request=request)
        if outcome == 503:
            return httpx.Response(503, json=STORE_DOWN, headers={"Retry-After": "2"})
        if outcome >= 400:
            return httpx.Response(outcome, json={"code": "BAD_PARAMETER", "status": outcome, "message": "no"})
        if request.method == "DELETE":
            return httpx.Response(204)
        return httpx.Response(201 if request.url.path == "/sessions" else 200, json=SESSION)

    return httpx.MockTransport(handle)


def client(outcomes: list[Outcome], seen: list[httpx.Request], retries: int = 2) -> SessionsClient:
    return SessionsClient(
        "http://svc", token="t", retries=retries, backoff=0.001, max_backoff=0.001, transport=scripted(outcomes, seen)
    )


def test_idempotent_calls_retry_through_a_store_outage() -> None:
    seen: list[httpx.Request] = []
    assert client([503, 503], seen).get_session("u", "s" * 43) == SessionInfo.from_json(SESSION)
    assert len(seen) == 3
    assert all(r.headers["authorization"] == "Bearer t" for r in seen)


def test_retries_are_bounded_and_the_last_error_is_raised() -> None:
    seen: list[httpx.Request] = []
    with pytest.raises(StoreUnavailableError) as failed:
        client([503, 503, 503, 503], seen, retries=2).close_session("u", "s" * 43)
    assert len(seen) == 3 and failed.value.status == 503 and failed.value.message == "down"


def test_opening_is_not_retried_once_the_request_may_have_arrived() -> None:
    for first in (503, httpx.ReadTimeout, httpx.RemoteProtocolError):
        seen: list[httpx.Request] = []
        with pytest.raises((StoreUnavailableError, ConnectionFailedError)):
            client([first], seen).open_session({"id": "u"}, address="a", client="c")
        assert len(seen) == 1, first


def test_opening_is_retried_when_the_connection_never_opened() -> None:
    seen: list[httpx.Request] = []
    opened = client([httpx.ConnectError, httpx.ConnectTimeout], seen).open_session({"id": "u"}, address="a", client="c")
    assert opened.id == SESSION["id"] and len(seen) == 3
    assert json.loads(seen[-1].content) == {"user": {"id": "u"}, "address": "a", "client": "c"}


def test_client_errors_are_never_retried() -> None:
    seen: list[httpx.Request] = []
    with pytest.raises(BadRequestError) as bad:
        client([400], seen).list_sessions("u")
    assert len(seen) == 1 and bad.value.code == "BAD_PARAMETER"


@settings(max_examples=60, deadline=None)
@given(
    outcomes=st.lists(
        st.sampled_from([200, 400, 404, 500, 502, 503, 504, httpx.ConnectError, httpx.ReadTimeout]), max_size=6
    ),
    retries=st.integers(0, 3),
    opening=st.booleans(),
)
def test_attempts_follow_the_retry_policy(outcomes: list[Outcome], retries: int, opening: bool) -> None:
    """Attempts = 1 + the retryable outcomes before the first final one, at most 1 + retries."""
    retryable: Callable[[Outcome], bool]
    if opening:
        retryable = lambda o: o is httpx.ConnectError  # noqa: E731
    else:
        retryable = lambda o: o in (502, 503, 504, httpx.ConnectError, httpx.ReadTimeout)  # noqa: E731
    expected = 1
    for outcome in outcomes:
        if not retryable(outcome) or expected > retries:
            break
        expected += 1
    seen: list[httpx.Request] = []
    api = client(outcomes, seen, retries=retries)
    try:
        if opening:
            api.open_session({"id": "u"}, address="a", client="c")
        else:
            api.get_session("u", "s" * 43)
    except SessionsApiError:
        pass  # which error is checked elsewhere; here only the number of attempts matters
    assert len(seen) == expected


def test_retry_after_is_respected_within_max_backoff() -> None:
    seen: list[httpx.Request] = []
    stamps: list[float] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        stamps.append(time.monotonic())
        if len(seen) == 1:
            return httpx.Response(503, json=STORE_DOWN, headers={"Retry-After": "30"})
        return httpx.Response(200, json=[SESSION])

    api = SessionsClient("http://svc", max_backoff=0.2, transport=httpx.MockTransport(handle))
    assert [s.id for s in api.list_sessions("u")] == [SESSION["id"]]
    assert 0.15 <= stamps[1] - stamps[0] < 5  # waited, but capped at max_backoff rather than 30 s


def test_answers_outside_the_protocol() -> None:
    def answer(response: httpx.Response) -> SessionsClient:
        return SessionsClient("http://svc", retries=0, transport=httpx.MockTransport(lambda r: response))

    with pytest.raises(ServerError) as gateway:
        answer(httpx.Response(502, text="<html>bad gateway</html>")).list_sessions("u")
    assert gateway.value.status == 502 and gateway.value.code is None
    with pytest.raises(ForbiddenError):
        answer(httpx.Response(403, text="no")).list_sessions("u")
    with pytest.raises(ProtocolError):
        answer(httpx.Response(200, text="not json")).list_sessions("u")
    with pytest.raises(ProtocolError):
        answer(httpx.Response(200, json={"not": "a list"})).list_sessions("u")
    with pytest.raises(ProtocolError):
        answer(httpx.Response(200, json={**SESSION, "opened": "yesterday"})).get_session("u", "s" * 43)


def test_refused_connections_fail_fast_after_the_retries() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nothing listens there
    api = SessionsClient(f"http://127.0.0.1:{port}", retries=2, backoff=0.01, max_backoff=0.01)
    started = time.monotonic()
    with pytest.raises(ConnectionFailedError) as failed:
        api.list_sessions("u")
    assert isinstance(failed.value.__cause__, httpx.ConnectError) and failed.value.status is None
    assert time.monotonic() - started < 5


@pytest.fixture
def silent_server() -> Iterator[tuple[int, list[socket.socket]]]:
    """A loopback server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1], accepted
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_a_hung_service_costs_at_most_the_timeout_per_attempt(silent_server: tuple[int, list[Any]]) -> None:
    port, accepted = silent_server
    api = SessionsClient(f"http://127.0.0.1:{port}", timeout=0.2, retries=1, backoff=0.01, max_backoff=0.01)
    started = time.monotonic()
    with pytest.raises(ConnectionFailedError) as failed:
        api.list_sessions("u")
    elapsed = time.monotonic() - started
    assert isinstance(failed.value.__cause__, httpx.ReadTimeout)
    assert 0.4 <= elapsed < 3 and len(accepted) == 2  # two attempts, each cut at 0.2 s
    with pytest.raises(ConnectionFailedError):
        api.open_session({"id": "u"}, address="a", client="c")  # not retried: it may have arrived
    assert len(accepted) == 3


def test_async_client_retries_the_same_way() -> None:
    seen: list[httpx.Request] = []

    async def scenario() -> None:
        transport = scripted([httpx.ConnectError, 503], seen)
        async with AsyncSessionsClient("http://svc", backoff=0.001, max_backoff=0.001, transport=transport) as api:
            assert await api.get_session("u", "s" * 43) == SessionInfo.from_json(SESSION)
        seen.clear()
        transport = scripted([503], seen)
        async with AsyncSessionsClient("http://svc", max_backoff=0.001, transport=transport) as api:
            with pytest.raises(StoreUnavailableError):
                await api.open_session({"id": "u"}, address="a", client="c")

    asyncio.run(scenario())
    assert len(seen) == 1


def test_negative_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        SessionsClient("http://svc", retries=-1)
