"""What Flask-Session's Redis tests check, on an app configured for Flask-Session.

The app keeps its ``SESSION_*`` settings and its own ``redis.Redis`` client; only the import
of ``Session`` changes (``from session_middleware.integrations.flask import Session``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import flask
import pytest
import redis

from session_middleware.integrations.flask import FlaskSession, Session
from tests.support import fixtures
from tests.support.redis_server import RedisServer

redis_server = fixtures.redis_server
redis_prefix = fixtures.redis_prefix


@pytest.fixture
def redis_client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis(host=redis_server.host, port=redis_server.port)  # as an app builds it for Flask-Session
    try:
        yield client
    finally:
        client.close()


def make_app(config: dict[str, Any]) -> flask.Flask:
    app = flask.Flask(__name__)
    app.config.update(config)
    app.config["SESSION_PERMANENT"] = False

    @app.get("/")
    def hello() -> str:
        return "hello world"

    @app.post("/set")
    def set_value() -> str:
        flask.session["value"] = flask.request.form["value"]
        return "value set"

    @app.post("/modify")
    def modify() -> str:
        flask.session["value"] = flask.request.form["value"]
        return "value set"

    @app.post("/delete")
    def delete() -> str:
        del flask.session["value"]
        return "value deleted"

    @app.get("/get")
    def get() -> str:
        return str(flask.session.get("value", "no value set"))

    Session(app)
    return app


def redis_config(client: redis.Redis, prefix: str, **more: Any) -> dict[str, Any]:
    return {"SECRET_KEY": "flask-session-compat", "SESSION_TYPE": "redis", "SESSION_REDIS": client,
            "SESSION_KEY_PREFIX": prefix, **more}  # fmt: skip


def test_a_redis_session_sets_modifies_and_deletes_a_value(redis_client: redis.Redis, redis_prefix: str) -> None:
    app = make_app(redis_config(redis_client, redis_prefix))
    with app.test_request_context():
        assert isinstance(flask.session._get_current_object(), FlaskSession)  # type: ignore[attr-defined]
    client = app.test_client()
    assert client.get("/get").data == b"no value set"
    assert "Vary" not in client.get("/").headers
    assert client.post("/set", data={"value": "42"}).data == b"value set"
    assert client.get("/get").data == b"42"
    assert client.get("/get").headers["Vary"] == "Cookie"
    assert client.post("/modify", data={"value": "43"}).data == b"value set"
    assert client.get("/get").data == b"43"
    assert client.post("/delete").data == b"value deleted"
    assert client.get("/get").data == b"no value set"


def test_the_session_lives_in_the_apps_redis_under_its_prefix(redis_client: redis.Redis, redis_prefix: str) -> None:
    app = make_app(redis_config(redis_client, redis_prefix))
    response = app.test_client().post("/set", data={"value": "44"})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    session_id = cookie.split(";")[0].split("=", 1)[1].rsplit(".", 1)[0]
    keys = redis_client.keys(redis_prefix + "*")
    assert keys and all(key.startswith(redis_prefix.encode()) for key in keys)
    store = app.extensions["session_middleware"].store
    assert store.prefix == redis_prefix
    record = store.load_and_touch(session_id)
    assert record is not None and dict(record.data) == {"value": '"44"'}  # JSON text, never pickle


def test_session_permanent_is_flask_sessions_default(redis_client: redis.Redis, redis_prefix: str) -> None:
    app = flask.Flask(__name__)
    app.config.update(redis_config(redis_client, redis_prefix))  # no SESSION_PERMANENT: Flask-Session's True
    app.add_url_rule("/set", "set", lambda: flask.session.update(v=1) or "", methods=["POST"])
    session = Session()
    session.init_app(app)  # the app factory spelling
    cookie = app.test_client().post("/set").headers["Set-Cookie"]
    assert re.search(r"(?i)\bexpires=", cookie)


def test_use_signer_is_accepted_the_cookie_is_always_signed(redis_client: redis.Redis, redis_prefix: str) -> None:
    app = make_app(redis_config(redis_client, redis_prefix, SESSION_USE_SIGNER=True))
    client = app.test_client()
    client.post("/set", data={"value": "7"})
    assert client.get("/get").data == b"7"


@pytest.mark.parametrize("kind", ["filesystem", "null", "memcached", "no-such-type"])
def test_back_ends_without_a_counterpart_are_refused_clearly(kind: str) -> None:
    app = flask.Flask(__name__)
    app.config.update(SECRET_KEY="k", SESSION_TYPE=kind)
    with pytest.raises(ValueError, match="store=RedisStore"):
        Session(app)
