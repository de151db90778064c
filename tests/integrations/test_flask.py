"""flask.session under init_app: the tracked session, configured from app.config, with Flask's habits intact."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import flask
import pytest
from flask import Flask, abort, request, session
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from session_middleware import MemoryStore, RedisStore
from session_middleware.integrations.flask import FlaskSession, FlaskSessions, Session, get_session, init_app
from tests.middleware.support import SpyStore

SECRET = "integration-tests-secret-key-0123456789abcdef"


def make_app(store: Any = None, *, config: dict[str, Any] | None = None, **options: Any) -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    app.config.update(config or {})
    init_app(app, store=store if store is not None else MemoryStore(), **options)

    @app.get("/")
    def show() -> dict[str, Any]:
        return {"data": dict(session), "user": get_session().user}

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

    @app.post("/raise")
    def explode() -> str:
        session["lost"] = True
        raise RuntimeError("boom")

    @app.post("/regenerate")
    def regenerate() -> str:
        flask.current_app.session_interface.regenerate(session)  # type: ignore[attr-defined]
        return get_session().sid

    @app.get("/untouched")
    def untouched() -> str:
        return "plain"

    return app


def cookie_of(response: Any) -> str | None:
    header = response.headers.get("Set-Cookie")
    return None if header is None else header.split(";")[0].split("=", 1)[1]


def test_flask_session_is_the_tracked_session_and_persists() -> None:
    client = make_app().test_client()
    assert client.get("/").get_json() == {"data": {}, "user": None}
    first = client.post("/set", json={"key": "a", "value": {"nested": [1, 2]}})
    assert cookie_of(first)
    client.post("/append?item=x")
    client.post("/append?item=y")  # nested mutation with no session.modified = True
    assert client.get("/").get_json()["data"] == {"a": {"nested": [1, 2]}, "cart": ["x", "y"]}


def test_login_rotates_the_id_and_logout_kills_the_old_cookie() -> None:
    store = MemoryStore()
    client = make_app(store).test_client()
    anonymous = cookie_of(client.post("/set", json={"key": "k", "value": 1}))
    signed_in = cookie_of(client.post("/login?id=ada"))
    assert signed_in and signed_in != anonymous
    assert client.get("/").get_json() == {"data": {"k": 1}, "user": {"id": "ada", "name": "N"}}
    assert [r.user_id for r in store.list_by_user("ada")] == ["ada"]
    out = client.post("/logout")
    assert "Max-Age=0" in out.headers["Set-Cookie"]
    assert store.list_by_user("ada") == []
    replay = make_app(store).test_client()
    replay.set_cookie("session", signed_in)
    assert replay.get("/").get_json()["user"] is None


def test_a_500_saves_nothing_and_a_raising_view_neither() -> None:
    app = make_app()
    client = app.test_client()
    client.post("/set", json={"key": "kept", "value": 1})
    assert client.post("/fail").status_code == 500
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.post("/raise").status_code == 500
    assert client.get("/").get_json()["data"] == {"kept": 1}


def test_session_transaction_reads_and_writes_through_the_store() -> None:
    store = MemoryStore()
    client = make_app(store).test_client()
    with client.session_transaction() as sess:
        assert isinstance(sess, FlaskSession)
        sess["prepared"] = "by the test"
        sess.login({"id": "grace"})
    assert client.get("/").get_json() == {"data": {"prepared": "by the test"}, "user": {"id": "grace"}}
    with client.session_transaction() as sess:
        assert sess["prepared"] == "by the test"
        del sess["prepared"]
    assert client.get("/").get_json()["data"] == {}
    assert len(store.list_by_user("grace")) == 1


def test_keyword_options_win_over_the_config() -> None:
    config = {"SESSION_COOKIE_NAME": "from_config", "SESSION_COOKIE_SAMESITE": "Strict"}
    app = make_app(config=config, cookie_name="sid", cookie_samesite="lax", cookie_secure=True, secret_key=SECRET * 2)
    client = app.test_client()
    header = client.post("/set", json={"key": "k", "value": 1}).headers["Set-Cookie"]
    assert header.startswith("sid=") and "SameSite=Lax" in header and "Secure" in header
    app.secret_key = "changed, but the explicit key stays"
    assert client.get("/").get_json()["data"] == {"k": 1}


def test_a_secret_key_set_after_init_app_is_used() -> None:
    app = Flask(__name__)
    init_app(app)
    app.add_url_rule("/set", "set", lambda: session.update(k=1) or "", methods=["POST"])
    app.add_url_rule("/", "get", lambda: dict(session))
    app.secret_key = SECRET
    client = app.test_client()
    client.post("/set")
    assert client.get("/").get_json() == {"k": 1}


def test_timeouts_follow_permanent_session_lifetime_unless_given() -> None:
    app = make_app(config={"PERMANENT_SESSION_LIFETIME": timedelta(days=40)})
    core = app.extensions["session_middleware"].core_for(app)
    assert core.idle_timeout == 40 * 86400 and core.absolute_timeout == 40 * 86400
    short = make_app(config={"PERMANENT_SESSION_LIFETIME": 3600})
    core = short.extensions["session_middleware"].core_for(short)
    assert core.idle_timeout == 3600 and core.absolute_timeout == 14 * 86400
    explicit = make_app(idle_timeout=60, absolute_timeout=120)
    core = explicit.extensions["session_middleware"].core_for(explicit)
    assert (core.idle_timeout, core.absolute_timeout) == (60, 120)


def test_session_type_redis_uses_the_apps_client_and_an_explicit_store_wins() -> None:
    import redis

    client = redis.Redis(host="127.0.0.1", port=1)  # never connected to: nothing is requested
    app = Flask(__name__)
    app.config.update(SECRET_KEY=SECRET, SESSION_TYPE="redis", SESSION_REDIS=client, SESSION_KEY_PREFIX="app1:")
    sessions = init_app(app)
    assert isinstance(sessions.store, RedisStore) and sessions.store.prefix == "app1:"
    other = Flask(__name__)
    other.config.update(SECRET_KEY=SECRET, SESSION_TYPE="filesystem")
    store = MemoryStore()
    assert init_app(other, store=store).store is store


def test_a_store_outage_answers_503_and_keeps_the_cookie() -> None:
    spy = SpyStore(MemoryStore())
    client = make_app(spy).test_client()
    cookie = cookie_of(client.post("/set", json={"key": "k", "value": 1}))
    spy.failing = {"load_and_touch"}
    down = client.get("/")
    assert down.status_code == 503 and down.headers["Retry-After"] and "Set-Cookie" not in down.headers
    spy.failing = {"save_changes"}
    failed_save = client.post("/set", json={"key": "k", "value": 2})
    assert failed_save.status_code == 503 and "Set-Cookie" not in failed_save.headers
    spy.failing = set()
    assert client.get("/").get_json()["data"] == {"k": 1}
    assert client.get_cookie("session").value == cookie  # type: ignore[union-attr]


def test_the_rest_api_shows_the_stored_tagged_json() -> None:
    store = MemoryStore()
    app = make_app(store, api_path="/sessions", api_token="t" * 40)
    app.add_url_rule("/tuple", "tuple", lambda: session.update(pair=(1, 2)) or "", methods=["POST"])
    client = app.test_client()
    client.post("/login?id=ada")
    client.post("/tuple")
    listed = client.get("/sessions/ada", headers={"Authorization": "Bearer " + "t" * 40})
    assert listed.status_code == 200
    assert listed.get_json()[0]["data"] == {"pair": {" t": [1, 2]}}


def test_a_cookie_whose_session_ended_is_cleared_and_a_foreign_one_left_alone() -> None:
    store = MemoryStore()
    client = make_app(store).test_client()
    client.post("/login?id=ada")
    store.close_by_user("ada")
    assert "Max-Age=0" in client.get("/").headers["Set-Cookie"]
    client.set_cookie("session", "not-one-of-ours")
    assert "Set-Cookie" not in client.get("/").headers


def test_regenerate_the_flask_session_way_and_sid() -> None:
    client = make_app().test_client()
    first = cookie_of(client.post("/set", json={"key": "k", "value": 1}))
    response = client.post("/regenerate")
    assert cookie_of(response) not in (None, first)
    assert client.get("/").get_json()["data"] == {"k": 1}


def test_values_that_are_not_json_are_refused_naming_the_key() -> None:
    app = make_app()
    with app.test_request_context("/"):
        with pytest.raises(TypeError, match="'cart'"):
            session["cart"] = {1, 2}


def test_installing_twice_and_unknown_options_are_errors() -> None:
    app = make_app()
    with pytest.raises(RuntimeError, match="already installed"):
        init_app(app)
    with pytest.raises(TypeError, match="SESSION_PERMANENT|permanent"):
        init_app(Flask(__name__), permanent=True)
    with pytest.raises(ValueError, match="migrate_from"):
        init_app(Flask(__name__), migrate_from="beaker")


def test_get_session_without_init_app_says_what_to_do() -> None:
    app = Flask(__name__)
    app.secret_key = SECRET
    with app.test_request_context("/"), pytest.raises(RuntimeError, match="init_app"):
        get_session()


def test_the_flask_session_spelling_installs_the_same() -> None:
    sessions = Session()
    app = Flask(__name__)
    app.secret_key = SECRET
    assert isinstance(sessions.init_app(app), FlaskSessions)
    assert app.extensions["session_middleware"] is app.wsgi_app


def test_a_short_secret_key_works_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="session_middleware.security"):
        client = make_app(config={"SECRET_KEY": "dev"}).test_client()
        client.post("/set", json={"key": "k", "value": 1})
    assert client.get("/").get_json()["data"] == {"k": 1}
    assert any("shorter than 32 bytes" in r.getMessage() for r in caplog.records)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.text(min_size=1, max_size=8), json_values, max_size=4))
def test_any_json_session_round_trips(data: dict[str, Any]) -> None:
    client = make_app().test_client()
    for key, value in data.items():
        client.post("/set", json={"key": key, "value": value})
    assert client.get("/").get_json()["data"] == data


def test_the_cookie_follows_what_a_proxy_fix_inside_tells_flask() -> None:
    from werkzeug.middleware.proxy_fix import ProxyFix

    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)  # type: ignore[method-assign]
    init_app(app)  # wraps the ProxyFix: the scheme changes after the session is loaded
    app.add_url_rule("/set", "set", lambda: session.update(k=1) or "", methods=["POST"])
    header = app.test_client().post("/set", headers={"X-Forwarded-Proto": "https"}).headers["Set-Cookie"]
    assert "Secure" in header


def test_a_new_cookie_name_takes_effect_on_the_next_request() -> None:
    app = make_app()
    client = app.test_client()
    client.post("/set", json={"key": "k", "value": 1})
    app.config["SESSION_COOKIE_NAME"] = "renamed"
    assert client.get("/").get_json()["data"] == {}  # the old cookie is not this app's any more
    assert cookie_of(client.post("/set", json={"key": "k", "value": 2})) and client.get_cookie("renamed")
