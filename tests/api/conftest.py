"""Fixtures of the REST API suite: every test runs against the ASGI and the WSGI sub-app."""

from __future__ import annotations

import pytest

from .support import Harness, Kind


@pytest.fixture(params=["asgi", "wsgi"])
def kind(request: pytest.FixtureRequest) -> Kind:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def harness(kind: Kind) -> Harness:
    return Harness(kind)
