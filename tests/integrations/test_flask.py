"""flask.session is the tracked session under init_app, with Flask's own habits intact."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from flask import Flask, abort, flash, get_flashed_messages, request, session
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from session_middleware import MemoryStore, SessionRecord
from session_middleware.integrations.flask import FlaskSession, get_session, init_app

SECRET = "integration-tests-secret-key-0123456789abcdef"


def make_app(store: MemoryStore | None = None, **options: Any) -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    init_app(app, store=store if store is not None else MemoryStore(), **options)

    @app.get("/")
    def show() -> dict[str, Any]:
        return {"data": dict(session), "user": get_session().user, "kind": type(session._get_current_object()).__name__}  # type: ignore[attr-defined]

    @app.post("/set")
    def set_value() -> str:
        body = request.get_json()
        session[body["key"]] = body["value"]
        return "ok"

    @app.post("/append")
    def append() -> str:
        session.setdefault("cart", []).append(request.args["item"])
        return "ok"

    @app.post("/login")
    def login() -> str:
        get_session().login({"id": request.args["id"], "name": "N"})
        return "ok"

    @app.post("/logout")
    def logout() -> str:
        get_session().logout()
        return "ok"

    @app.post("/fail")
    def fail() -> str:
        session["lost"] = True
        abort(500)

    @app.post("/flash")
    def flash_it() -> str:
        flash("saved", "info")
        return "ok"

    @app.get("/flashes")
    def flashes() -> dict[str, Any]:
        return {"messages": get_flashed_messages(with_categories=True)}

    @app.get("/untouched")
    def untouched() -> str:
        return "plain"

    return app


def cookie_of(response: Any) -> str | None:
    header = response.headers.get("Set-Cookie")
    return None if header is None else header.split(";")[0].split("=", 1)[1]


def test_flask_session_is_the_tracked_session_and_persists() -> None:
    client = make_app().test_client()
    assert client.get("/").get_json() == {"data": {}, "user": None, "kind": "FlaskSession"}
    first = client.post("/set", json={"key": "a", "value": {"nested": [1, 2]}})
    assert cookie_of(first)
    client.post("/append?item=x")
    client.post("/append?item=y")  # nested mutation with no explicit save, as SPEC rule 4 requires
    assert client.get("/").get_json()["data"] == {"a": {"nested": [1, 2]}, "cart": ["x", "y"]}


def test_login_rotates_the_id_and_logout_kills_the_old_cookie() -> None:
    store = MemoryStore()
    client = make_app(store).test_client()
    anonymous = cookie_of(client.post("/set", json={"key": "k", "value": 1}))
    signed_in = cookie_of(client.post("/login?id=ada"))
    assert signed_in and signed_in != anonymous
    assert client.get("/").get_json() == {"data": {"k": 1}, "user": {"id": "ada", "name": "N"}, "kind": "FlaskSession"}
    assert [r.user_id for r in store.list_by_user("ada")] == ["ada"]
    out = client.post("/logout")
    assert "Max-Age=0" in out.headers["Set-Cookie"]
    assert store.list_by_user("ada") == []
    replay = make_app(store).test_client()
    replay.set_cookie("session", signed_in)
    assert replay.get("/").get_json()["user"] is None


def test_a_500_saves_nothing() -> None:
    client = make_app().test_client()
    client.post("/set", json={"key": "kept", "value": 1})
    assert client.post("/fail").status_code == 500
    assert client.get("/").get_json()["data"] == {"kept": 1}


def test_flash_messages_live_in_the_session() -> None:
    client = make_app().test_client()
    client.post("/flash")
    assert client.get("/flashes").get_json() == {"messages": [["info", "saved"]]}
    assert client.get("/flashes").get_json() == {"messages": []}


def test_accessing_the_session_adds_vary_cookie_and_untouched_views_do_not() -> None:
    client = make_app().test_client()
    assert "Cookie" in client.get("/").headers.get("Vary", "")
    plain = client.get("/untouched")
    assert "Vary" not in plain.headers and "Set-Cookie" not in plain.headers


def test_session_transaction_reads_and_writes_through_the_store() -> None:
    store = MemoryStore()
    client = make_app(store).test_client()
    with client.session_transaction() as sess:
        assert isinstance(sess, FlaskSession)
        sess["prepared"] = "by the test"
        sess.login({"id": "grace"})
    assert client.get("/").get_json()["data"] == {"prepared": "by the test"}
    assert client.get("/").get_json()["user"] == {"id": "grace"}
    with client.session_transaction() as sess:
        assert sess["prepared"] == "by the test"
        del sess["prepared"]
    assert client.get("/").get_json()["data"] == {}
    assert len(store.list_by_user("grace")) == 1


def test_permanent_is_accepted_and_stores_nothing() -> None:
    app = make_app()
    with app.test_request_context("/"):
        session.permanent = False
        assert session.permanent is True
        assert "_permanent" not in session


def test_secret_key_comes_from_the_config_and_a_short_one_warns(caplog: pytest.LogCaptureFixture) -> None:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "short"
    caplog.set_level(logging.WARNING, logger="session_middleware.security")
    init_app(app)
    assert "secret_key of 5 bytes" in caplog.text
    app = Flask(__name__)
    with pytest.raises(TypeError, match="secret_key is required"):
        init_app(app)


def test_init_app_twice_is_refused_and_unknown_options_are_named() -> None:
    app = make_app()
    with pytest.raises(RuntimeError, match="already installed"):
        init_app(app)
    with pytest.raises(TypeError, match="cookie_nmae"):
        init_app(Flask(__name__), secret_key=SECRET, cookie_nmae="x")


def test_get_session_without_init_app_is_a_clear_error() -> None:
    app = Flask(__name__)
    app.secret_key = SECRET
    with app.test_request_context("/"), pytest.raises(RuntimeError, match="init_app"):
        get_session()


class DownStore(MemoryStore):
    """A store whose backend is unreachable for loads."""

    def load_and_touch(self, session_id: str, *, user_id: str | None = None) -> SessionRecord | None:
        raise ConnectionError("backend down")


def test_a_store_outage_is_a_503_that_keeps_the_cookie() -> None:
    store = DownStore()
    client = make_app(store).test_client()
    cookie = cookie_of(client.post("/set", json={"key": "k", "value": 1}))
    assert cookie
    down = client.get("/")
    assert down.status_code == 503 and down.headers["Retry-After"]
    assert "Set-Cookie" not in down.headers


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.text(min_size=1, max_size=12), value=json_values)
def test_any_json_value_round_trips_through_flask_session(key: str, value: Any) -> None:
    client = make_app().test_client()
    client.post("/set", json={"key": key, "value": value})
    assert client.get("/").get_json()["data"] == {key: json.loads(json.dumps(value))}
