"""Flask's testing habits around the session (Flask's ``tests/test_testing.py`` and
``tests/test_reqctx.py``), on an app that only added ``init_app(app)``."""

from __future__ import annotations

import threading
from typing import Any

import flask
import pytest
from flask.testing import FlaskClient

from session_middleware.integrations.flask import init_app


def test_session_transaction_prepares_and_reads_the_session(app: flask.Flask, client: FlaskClient) -> None:
    @app.route("/")
    def index() -> str:
        return str(flask.session["foo"])

    with client:
        with client.session_transaction() as sess:
            assert len(sess) == 0
            sess["foo"] = [42]
            assert len(sess) == 1
        assert client.get("/").data == b"[42]"
        with client.session_transaction() as sess:
            assert len(sess) == 1 and sess["foo"] == [42]


def test_session_transaction_without_a_secret_key_says_so() -> None:
    app = flask.Flask(__name__)
    init_app(app)
    with app.test_client() as client, pytest.raises(RuntimeError, match="Session backend did not open a session"):
        with client.session_transaction():
            pass


def test_session_transaction_keeps_the_current_request(app: flask.Flask, client: FlaskClient, req_ctx: Any) -> None:
    client.get("/")
    current = flask.request._get_current_object()  # type: ignore[attr-defined]
    with client.session_transaction():
        assert flask.request._get_current_object() is current  # type: ignore[attr-defined]


def test_session_transaction_needs_cookies(app: flask.Flask) -> None:
    with pytest.raises(TypeError, match="Cookies are disabled"):
        with app.test_client(use_cookies=False).session_transaction():
            pass


def test_a_copied_request_context_sees_the_session(app: flask.Flask, client: FlaskClient) -> None:
    later: list[Any] = []

    @app.route("/")
    def index() -> str:
        flask.session["fizz"] = "buzz"

        @flask.copy_current_request_context
        def in_the_background() -> Any:
            return flask.request.args["foo"], flask.session.get("fizz")

        later.append(in_the_background)
        return "Hello World!"

    assert client.get("/?foo=bar").data == b"Hello World!"
    results: list[Any] = []
    worker = threading.Thread(target=lambda: results.append(later[0]()))
    worker.start()
    worker.join()
    assert results == [("bar", "buzz")]
