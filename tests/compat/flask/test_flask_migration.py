"""Switching a running Flask app from its cookie session to ``init_app(app, migrate_from="flask")``.

The same app is built twice: first as it ran before (Flask's own signed cookie session),
then with ``init_app``. A browser that signed in before the switch keeps its session.
"""

from __future__ import annotations

import time
from typing import Any

import flask
from markupsafe import Markup

from session_middleware import MemoryStore
from session_middleware.integrations.flask import init_app
from session_middleware.testing.clock import FakeClock

KEY = "the app's own secret key"


def build_app(*, secret_key: str = KEY, fallbacks: list[str] | None = None, **init: Any) -> flask.Flask:
    """The app; with ``init`` (init_app's options) it has server-side sessions, without it Flask's own."""
    app = flask.Flask(__name__)
    app.config.update(TESTING=True, SECRET_KEY=secret_key, SECRET_KEY_FALLBACKS=fallbacks or [])

    @app.post("/login")
    def login() -> str:
        flask.session["_user_id"] = "ada"
        flask.session["cart"] = (1, 2)
        flask.session.permanent = True
        flask.flash(Markup("<b>welcome</b>"), "info")
        return ""

    @app.get("/me")
    def me() -> dict[str, Any]:
        cart = flask.session.get("cart")
        return {"user": flask.session.get("_user_id"), "cart": cart, "tuple": type(cart) is tuple,
                "permanent": flask.session.permanent}  # fmt: skip

    @app.get("/flashes")
    def flashes() -> str:
        return flask.render_template_string("{% for c, m in get_flashed_messages(True) %}{{ c }}:{{ m }}{% endfor %}")

    if init:
        init_app(app, **init)
    return app


def signed_in_with_flask(**app_options: Any) -> str:
    """A browser signs in while the app still uses Flask's cookie session: its cookie value."""
    client = build_app(**app_options).test_client()
    client.post("/login")
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.value.count(".") >= 2  # Flask's own: payload.timestamp.signature
    return cookie.value


def test_a_user_signed_in_before_the_switch_stays_signed_in() -> None:
    flask_cookie = signed_in_with_flask()
    store = MemoryStore()
    client = build_app(store=store, migrate_from="flask").test_client()
    client.set_cookie("session", flask_cookie)

    first = client.get("/me")
    assert first.json == {"user": "ada", "cart": [1, 2], "tuple": True, "permanent": True}
    ours = client.get_cookie("session")
    assert ours is not None and ours.value != flask_cookie  # replaced by a signed session id
    assert "Expires=" in first.headers["Set-Cookie"]  # still a permanent session's cookie
    assert client.get("/me").json == first.json  # from the store now
    session_id = ours.value.rsplit(".", 1)[0]
    record = store.load_and_touch(session_id)
    assert record is not None
    assert record.data["_user_id"] == '"ada"' and record.data["cart"] == '{" t":[1,2]}'  # JSON, as Flask tags it


def test_flashed_messages_waiting_in_the_flask_cookie_are_shown_once() -> None:
    flask_cookie = signed_in_with_flask()
    client = build_app(migrate_from="flask").test_client()
    client.set_cookie("session", flask_cookie)
    assert client.get("/flashes").text == "info:<b>welcome</b>"
    assert client.get("/flashes").text == ""


def test_without_the_option_a_flask_cookie_is_ignored_and_left_alone() -> None:
    flask_cookie = signed_in_with_flask()
    client = build_app(store=MemoryStore()).test_client()
    client.set_cookie("session", flask_cookie)
    response = client.get("/me")
    assert response.json is not None and response.json["user"] is None
    assert "Set-Cookie" not in response.headers  # as Flask treats a cookie it cannot verify


def test_a_cookie_signed_with_a_fallback_key_is_carried_over() -> None:
    flask_cookie = signed_in_with_flask(secret_key="retired key")
    client = build_app(fallbacks=["retired key"], migrate_from="flask").test_client()
    client.set_cookie("session", flask_cookie)
    assert client.get("/me").json["user"] == "ada"  # type: ignore[index]


def test_a_flask_cookie_past_its_lifetime_is_not_carried_over() -> None:
    flask_cookie = signed_in_with_flask()
    clock = FakeClock(time.time() + 32 * 24 * 3600)  # Flask's default lifetime is 31 days
    client = build_app(store=MemoryStore(clock=clock), migrate_from="flask").test_client()
    client.set_cookie("session", flask_cookie)
    assert client.get("/me").json["user"] is None  # type: ignore[index]


def test_a_forged_flask_cookie_is_no_session() -> None:
    forged = signed_in_with_flask(secret_key="an attacker's key")
    client = build_app(migrate_from="flask").test_client()
    client.set_cookie("session", forged)
    response = client.get("/me")
    assert response.status_code == 200 and response.json["user"] is None  # type: ignore[index]
