"""SessionsClient and AsyncSessionsClient against the standalone service on loopback."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from sessions_api.client import (
    AsyncSessionsClient,
    BadRequestError,
    NotFoundError,
    SessionInfo,
    SessionNotFoundError,
    SessionsClient,
    UnauthorizedError,
)

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "client-tests-token-3f9a"  # noqa: S105 - a test value


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def service() -> Iterator[str]:
    """``python -m sessions_api --port P --token T`` in a subprocess."""
    port = free_port()
    command = [sys.executable, "-m", "sessions_api", "--port", str(port), "--token", TOKEN, "--log-level", "warning"]
    server = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{url}/health", timeout=1).raise_for_status()
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        "the sessions service did not start: "
                        + (server.stdout.read().decode() if server.stdout else "")
                    )
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_four_operations(service: str) -> None:
    with SessionsClient(service, token=TOKEN) as api:
        ada = {"id": "client-ada", "name": "Ada"}
        opened = api.open_session(ada, address="10.0.0.7", client="app/1.0", data={"cart": [1]})
        assert isinstance(opened, SessionInfo) and opened.user == ada and opened.data == {"cart": [1]}
        assert opened.address == "10.0.0.7" and opened.client == "app/1.0"
        assert abs(opened.opened - datetime.now(UTC)) < timedelta(minutes=1)
        # The protocol reuses the user's open session from the same address and client.
        assert api.open_session(ada, address="10.0.0.7", client="app/1.0").id == opened.id
        phone = api.open_session(ada, address="10.0.0.8", client="phone/2.0")
        assert [s.id for s in api.list_sessions("client-ada")] == [opened.id, phone.id]

        api.replace_data("client-ada", opened.id, {"theme": {"dark": True}})
        got = api.get_session("client-ada", opened.id)
        assert got.data == {"theme": {"dark": True}} and got.last_request >= opened.last_request

        api.close_session("client-ada", opened.id)
        api.close_session("client-ada", opened.id)  # already gone: still fine
        with pytest.raises(SessionNotFoundError) as missing:
            api.get_session("client-ada", opened.id, correlation_id="trace-1")
        assert (missing.value.status, missing.value.code, missing.value.correlation_id) == (
            404,
            "SESSION_NOT_FOUND",
            "trace-1",
        )
        api.close_sessions("client-ada", client="phone/2.0")
        assert api.list_sessions("client-ada") == []


def test_user_ids_are_path_segments_whatever_they_contain(service: str) -> None:
    with SessionsClient(service, token=TOKEN) as api:
        odd = {"id": "ü?#&=% x"}
        opened = api.open_session(odd, address="::1", client="c")
        assert [s.id for s in api.list_sessions(odd["id"])] == [opened.id]
        assert api.list_sessions("ü") == []
        api.close_sessions(odd["id"], address="::1", client="c")
        assert api.list_sessions(odd["id"]) == []


def test_standard_errors_become_typed_exceptions(service: str) -> None:
    with SessionsClient(service, token="wrong-token") as api, pytest.raises(UnauthorizedError) as denied:
        api.list_sessions("anyone")
    assert denied.value.code == "UNAUTHORIZED" and denied.value.status == 401
    with SessionsClient(service) as anonymous, pytest.raises(UnauthorizedError):
        anonymous.list_sessions("anyone")
    with SessionsClient(service, token=TOKEN) as api:
        with pytest.raises(BadRequestError) as bad:
            api.get_session("someone", "not-a-session-id")
        assert bad.value.code == "BAD_PARAMETER" and bad.value.details == {"parameter": "session_id"}
        with pytest.raises(BadRequestError) as no_user:
            api.open_session({"id": ""}, address="a", client="c")
        assert no_user.value.code == "NO_USER_ID"
        with pytest.raises(ValueError, match="JSON"):  # refused before sending
            api.open_session({"id": "u"}, address="a", client="c", data={"x": float("nan")})
        with pytest.raises(ValueError, match="address and/or client"):
            api.close_sessions("someone")
        with pytest.raises(ValueError, match="address and/or client"):
            api.close_sessions("someone", address="  ")
    with SessionsClient(service, token=TOKEN, api_path="/elsewhere") as lost, pytest.raises(NotFoundError) as nf:
        lost.list_sessions("x")
    assert nf.value.code == "NOT_FOUND" and not isinstance(nf.value, SessionNotFoundError)


def test_async_client(service: str) -> None:
    async def scenario() -> None:
        async with AsyncSessionsClient(service, token=TOKEN) as api:
            user = {"id": "client-async"}
            first = await api.open_session(user, address="10.1.1.1", client="a")
            second = await api.open_session(user, address="10.1.1.2", client="b", data={"k": "v"})
            await api.replace_data("client-async", first.id, {"n": 1})
            assert (await api.get_session("client-async", first.id)).data == {"n": 1}
            assert [s.id for s in await api.list_sessions("client-async")] == [first.id, second.id]
            await api.close_session("client-async", first.id)
            await api.close_sessions("client-async", address="10.1.1.2", client="b")
            assert await api.list_sessions("client-async") == []
            with pytest.raises(SessionNotFoundError):
                await api.get_session("client-async", second.id)

    asyncio.run(scenario())
