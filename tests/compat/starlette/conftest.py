"""Every test here runs through Starlette's TestClient on asyncio and on trio."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal, cast

import pytest
from starlette.testclient import TestClient

from .support import ClientFactory

Backend = Literal["asyncio", "trio"]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> Backend:
    return cast(Backend, request.param)


@pytest.fixture
def client_factory(anyio_backend: Backend) -> Iterator[ClientFactory]:
    """``client_factory(app, **kwargs)``: a TestClient on the test's event loop backend,
    without the lifespan (as Starlette's own session tests use it)."""
    clients: list[TestClient] = []

    def factory(app: Any, **kwargs: Any) -> TestClient:
        client = TestClient(app, backend=anyio_backend, **kwargs)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()
