"""A Flask app as Flask's own session tests build it, with nothing added but ``init_app(app)``."""

from __future__ import annotations

from collections.abc import Iterator

import flask
import pytest
from flask.testing import FlaskClient

from session_middleware.integrations.flask import init_app


@pytest.fixture
def app() -> flask.Flask:
    app = flask.Flask("flask_compat")
    app.config.update(TESTING=True, SECRET_KEY="test key")
    init_app(app)
    return app


@pytest.fixture
def client(app: flask.Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def req_ctx(app: flask.Flask) -> Iterator[object]:
    with app.test_request_context() as ctx:
        yield ctx
