"""The standalone service's /health and /ready, in-process, over stores that answer, fail or hang."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from session_middleware import MemoryStore, StoreError
from sessions_api import openapi
from sessions_api.server import PREFIX, Service, build_service, openapi_document

TOKEN = "probe-token-0123456789"


class ControlledStore(MemoryStore):
    """A memory store whose ping the test controls: answer, fail with ``error``, or hang."""

    def __init__(self) -> None:
        super().__init__()
        self.error: BaseException | None = None
        self.hang = False
        self.pings = 0

    async def aping(self) -> None:
        self.pings += 1
        if self.hang:
            await asyncio.Event().wait()
        if self.error is not None:
            raise self.error


Scenario = Callable[[httpx.AsyncClient], Awaitable[None]]


def run(service: Service, scenario: Scenario) -> None:
    async def main() -> None:
        transport = httpx.ASGITransport(app=service)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            await scenario(client)

    asyncio.run(main())


def service(store: MemoryStore, **options: Any) -> Service:
    return build_service(store, [TOKEN], **options)


def test_health_answers_without_credentials_and_is_never_cached() -> None:
    store = ControlledStore()
    store.error = StoreError("down")  # liveness does not depend on the store

    async def scenario(client: httpx.AsyncClient) -> None:
        response = await client.get("/health")
        assert response.status_code == 200 and response.json() == {"status": "ok"}
        assert response.headers["cache-control"] == "no-store"
        head = await client.head("/health")
        assert head.status_code == 200 and head.content == b""
        assert (await client.post("/health")).status_code == 405

    run(service(store), scenario)
    assert store.pings == 0


def test_ready_follows_the_store_and_recovers_by_itself() -> None:
    store = ControlledStore()

    async def scenario(client: httpx.AsyncClient) -> None:
        assert (await client.get("/ready")).json() == {"status": "ok"}
        store.error = StoreError("connection refused")
        down = await client.get("/ready")
        assert down.status_code == 503 and down.json() == {"status": "unavailable"}
        assert int(down.headers["retry-after"]) > 0 and down.headers["cache-control"] == "no-store"
        store.error = None
        back = await client.get("/ready")
        assert back.status_code == 200 and "retry-after" not in back.headers

    run(service(store), scenario)
    assert store.pings == 3


def test_a_store_that_does_not_answer_in_time_is_not_ready() -> None:
    store = ControlledStore()
    store.hang = True

    async def scenario(client: httpx.AsyncClient) -> None:
        response = await client.get("/ready")
        assert response.status_code == 503 and response.json() == {"status": "unavailable"}

    run(service(store, ready_timeout=0.05), scenario)


def test_a_bug_in_the_store_is_not_disguised_as_unavailability() -> None:
    store = ControlledStore()
    store.error = KeyError("a bug")

    async def scenario(client: httpx.AsyncClient) -> None:
        with pytest.raises(KeyError):
            await client.get("/ready")

    run(service(store), scenario)


def test_failed_readiness_checks_are_logged_once_per_burst_and_flushed_at_shutdown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = ControlledStore()
    store.error = StoreError("connection refused to 10.0.0.9")
    probed = service(store)

    async def scenario(client: httpx.AsyncClient) -> None:
        for _ in range(50):
            assert (await client.get("/ready")).status_code == 503

    caplog.set_level(logging.WARNING, logger="sessions_api")
    run(probed, scenario)
    first = [r.getMessage() for r in caplog.records if r.name == "sessions_api"]
    assert first == ["session store failure: StoreError during a readiness check (session none)"]

    async def shutdown() -> None:
        messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
        sent: list[str] = []

        async def receive() -> dict[str, Any]:
            return next(messages)

        async def send(message: Any) -> None:
            sent.append(message["type"])

        await probed({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
        assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]

    asyncio.run(shutdown())
    summary = [r.getMessage() for r in caplog.records if r.name == "sessions_api"][1:]
    assert len(summary) == 1 and summary[0].startswith("49 more store failures in the last ")


def test_the_served_document_adds_the_probes_to_the_api() -> None:
    async def scenario(client: httpx.AsyncClient) -> None:
        document = (await client.get("/openapi.json")).json()
        assert document == openapi_document()
        api = openapi(PREFIX)
        assert {k: v for k, v in document["paths"].items() if k.startswith(PREFIX)} == api["paths"]
        assert set(document["paths"]) == {*api["paths"], "/health", "/ready"}
        for path in ("/health", "/ready"):
            operation = document["paths"][path]["get"]
            assert operation["security"] == []  # probes carry no credentials
        ready = document["paths"]["/ready"]["get"]["responses"]
        assert set(ready) == {"200", "503"} and "Retry-After" in ready["503"]["headers"]
        assert document["components"]["schemas"]["Status"]["properties"]["status"]["enum"] == ["ok", "unavailable"]
        assert set(api["components"]["schemas"]) < set(document["components"]["schemas"])

    run(service(ControlledStore()), scenario)
    assert "/health" not in openapi(PREFIX)["paths"]  # the API's own document is left alone


@pytest.mark.parametrize("timeout", [0.0, -1.0, float("nan"), float("inf")])
def test_a_readiness_timeout_must_be_positive_and_finite(timeout: float) -> None:
    with pytest.raises(ValueError, match="readiness timeout"):
        build_service(ControlledStore(), [TOKEN], ready_timeout=timeout)
