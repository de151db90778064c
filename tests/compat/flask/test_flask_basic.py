"""What Flask's own session and flashing tests check, on an app that only added ``init_app(app)``.

Each test restates one behaviour of Flask's cookie session (``tests/test_basic.py`` in
Flask 3.1) in its own words; the differences that are on purpose are in docs/migrating.md.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import flask
import pytest
from flask.globals import request_ctx
from flask.testing import FlaskClient
from markupsafe import Markup
from werkzeug.http import parse_date


def held_session() -> Any:
    """The request context's session object, read without marking it accessed (Flask 3.1.3
    marks the session accessed whenever ``ctx.session`` is read)."""
    ctx = vars(request_ctx._get_current_object())  # type: ignore[attr-defined]
    return ctx["_session"] if "_session" in ctx else ctx["session"]


def set_cookie_header(response: Any) -> str:
    return str(response.headers["Set-Cookie"]).lower()


def test_accessed_and_modified_follow_what_the_view_did(app: flask.Flask, client: FlaskClient) -> None:
    @app.post("/")
    def write() -> str:
        flask.session["value"] = flask.request.form["value"]
        return "written"

    @app.get("/")
    def read() -> str:
        return str(flask.session.get("value", "None"))

    @app.get("/nothing")
    def nothing() -> str:
        return ""

    with client:
        response = client.get("/nothing")
        assert "cookie" not in response.vary
        assert not held_session().accessed and not held_session().modified
    with client:
        response = client.post("/", data={"value": "42"})
        assert response.text == "written" and "cookie" in response.vary
        assert held_session().accessed and held_session().modified
    with client:
        response = client.get("/")
        assert response.text == "42" and "cookie" in response.vary
        assert held_session().accessed and not held_session().modified
    with client:
        response = client.get("/nothing")
        assert "cookie" not in response.vary and "Set-Cookie" not in response.headers
        assert not held_session().accessed and not held_session().modified


def _store_something(app: flask.Flask) -> None:
    @app.route("/")
    def index() -> str:
        flask.session["testing"] = 42
        return "stored"


def test_cookie_path_is_application_root(app: flask.Flask, client: FlaskClient) -> None:
    app.config.update(APPLICATION_ROOT="/foo")
    _store_something(app)
    assert "path=/foo" in set_cookie_header(client.get("/", "http://example.com:8080/foo"))


def test_cookie_path_under_a_mount_prefix(app: flask.Flask, client: FlaskClient) -> None:
    inner = app.wsgi_app

    def mounted(environ: dict[str, Any], start_response: Any) -> Any:
        environ["SCRIPT_NAME"] = "/bar"
        return inner(environ, start_response)

    app.wsgi_app = mounted  # type: ignore[method-assign]
    app.config.update(APPLICATION_ROOT="/bar")
    _store_something(app)
    assert "path=/bar" in set_cookie_header(client.get("/", "http://example.com:8080/"))


def test_cookie_attributes_follow_the_session_cookie_settings(app: flask.Flask, client: FlaskClient) -> None:
    app.config.update(
        SERVER_NAME="www.example.com:8080",
        APPLICATION_ROOT="/test",
        SESSION_COOKIE_DOMAIN=".example.com",
        SESSION_COOKIE_HTTPONLY=False,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_PARTITIONED=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/",
    )
    _store_something(app)

    @app.route("/clear")
    def clear() -> str:
        flask.session.pop("testing", None)
        return "cleared"

    written = set_cookie_header(client.get("/", "http://www.example.com:8080/test/"))
    for attribute in ("domain=example.com", "path=/", "secure", "samesite=lax", "partitioned"):
        assert attribute in written
    assert "httponly" not in written
    removed = set_cookie_header(client.get("/clear", "http://www.example.com:8080/test/"))
    assert removed.startswith("session=;")
    for attribute in ("domain=example.com", "path=/", "secure", "samesite=lax", "partitioned"):
        assert attribute in removed


def test_samesite_setting_is_checked_and_applied(app: flask.Flask, client: FlaskClient) -> None:
    _store_something(app)
    app.config.update(SESSION_COOKIE_SAMESITE="invalid")
    with pytest.raises(ValueError):
        client.get("/")
    app.config.update(SESSION_COOKIE_SAMESITE=None)
    assert "samesite" not in set_cookie_header(client.get("/"))
    app.config.update(SESSION_COOKIE_SAMESITE="Strict")
    assert "samesite=strict" in set_cookie_header(client.get("/"))
    app.config.update(SESSION_COOKIE_SAMESITE="Lax")
    assert "samesite=lax" in set_cookie_header(client.get("/"))


def test_without_a_secret_key_the_session_reads_empty_and_refuses_writes(app: flask.Flask) -> None:
    app.secret_key = None
    with app.test_request_context():
        assert flask.session.get("missing_key") is None
        for write in (lambda: flask.session.__setitem__("foo", 42), lambda: flask.session.pop("foo")):
            with pytest.raises(RuntimeError, match="session is unavailable"):
                write()


def test_secret_key_fallbacks_rotate(app: flask.Flask, client: FlaskClient) -> None:
    @app.post("/")
    def write() -> str:
        flask.session["a"] = 1
        return ""

    @app.get("/")
    def read() -> dict[str, Any]:
        return dict(flask.session)

    app.secret_key, app.config["SECRET_KEY_FALLBACKS"] = "0 key", ["-1 key", "-2 key"]
    client.post("/")
    assert client.get("/").json == {"a": 1}
    app.secret_key = "? key"  # no longer any key the cookie was signed with
    assert client.get("/").json == {}
    app.secret_key, app.config["SECRET_KEY_FALLBACKS"] = "+1 key", ["0 key", "-1 key"]
    assert client.get("/").json == {"a": 1}


def test_a_permanent_session_cookie_expires_after_the_lifetime(app: flask.Flask, client: FlaskClient) -> None:
    permanent = True

    @app.route("/")
    def index() -> str:
        flask.session["test"] = 42
        flask.session.permanent = permanent
        return ""

    @app.route("/test")
    def test() -> str:
        return str(flask.session.permanent)

    header = client.get("/").headers["Set-Cookie"]
    match = re.search(r"(?i)\bexpires=([^;]+)", header)
    assert match is not None
    expires = parse_date(match.group(1))
    assert expires is not None
    assert abs(expires - (datetime.now(UTC) + app.permanent_session_lifetime)) < timedelta(minutes=5)
    assert client.get("/test").data == b"True"

    permanent = False
    header = client.get("/").headers["Set-Cookie"]
    assert re.search(r"(?i)\b(expires|max-age)=", header) is None  # a browser-session cookie


def test_changes_made_in_after_request_are_kept(app: flask.Flask, client: FlaskClient) -> None:
    @app.after_request
    def late_write(response: flask.Response) -> flask.Response:
        flask.session["foo"] = 42
        return response

    @app.route("/")
    def show() -> str:
        return repr(flask.session.get("foo"))

    assert client.get("/").data == b"None"
    assert client.get("/").data == b"42"


def test_tagged_types_come_back_as_themselves(app: flask.Flask, client: FlaskClient) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    the_uuid = uuid.uuid4()

    @app.route("/")
    def store() -> tuple[str, int]:
        flask.session.update(
            t=(1, 2, 3),
            b=b"\xff",
            m=Markup("<html>"),
            u=the_uuid,
            d=now,
            t_tag={" t": "not-a-tuple"},
            di_t_tag={" t__": "not-a-tuple"},
            di_tag={" di": "not-a-dict"},
        )
        return "", 204

    client.get("/")  # stored by one request ...
    with client:
        client.get("/missing")  # ... and read back, decoded, by the next
        held = held_session()
        assert held["t"] == (1, 2, 3)
        assert type(held["b"]) is bytes and held["b"] == b"\xff"
        assert type(held["m"]) is Markup and held["m"] == Markup("<html>")
        assert held["u"] == the_uuid
        assert held["d"] == now
        assert held["t_tag"] == {" t": "not-a-tuple"}
        assert held["di_t_tag"] == {" t__": "not-a-tuple"}
        assert held["di_tag"] == {" di": "not-a-dict"}


@pytest.mark.parametrize(
    ("permanent", "refresh", "cookie_on_read"),
    [(True, True, True), (True, False, False), (False, True, False), (False, False, False)],
)
def test_refresh_each_request_resends_only_permanent_cookies(
    app: flask.Flask, permanent: bool, refresh: bool, cookie_on_read: bool
) -> None:
    @app.route("/bump")
    def bump() -> str:
        value = flask.session["foo"] = flask.session.get("foo", 0) + 1
        flask.session.permanent = permanent
        return str(value)

    @app.route("/read")
    def read() -> str:
        return str(flask.session.get("foo", 0))

    app.config["SESSION_REFRESH_EACH_REQUEST"] = refresh
    with app.test_client() as client:
        assert [client.get("/bump").data for _ in range(3)] == [b"1", b"2", b"3"]
        response = client.get("/read")
        assert ("Set-Cookie" in response.headers) is cookie_on_read
        assert response.data == b"3"


def test_vary_cookie_is_sent_once_whenever_the_session_is_used(app: flask.Flask, client: FlaskClient) -> None:
    @app.route("/set")
    def set_value() -> str:
        flask.session["test"] = "test"
        return ""

    @app.route("/get")
    def get() -> str:
        return str(flask.session.get("test"))

    @app.route("/getitem")
    def getitem() -> str:
        return str(flask.session["test"])

    @app.route("/setdefault")
    def setdefault() -> str:
        return str(flask.session.setdefault("test", "default"))

    @app.route("/clear")
    def clear() -> str:
        flask.session.clear()
        return ""

    @app.route("/vary-cookie-header-set")
    def vary_cookie_already() -> flask.Response:
        response = flask.Response()
        response.vary.add("Cookie")
        flask.session["test"] = "test"
        return response

    @app.route("/vary-header-set")
    def vary_other() -> flask.Response:
        response = flask.Response()
        response.vary.update(("Accept-Encoding", "Accept-Language"))
        flask.session["test"] = "test"
        return response

    @app.route("/no-vary-header")
    def untouched() -> str:
        return ""

    def vary_of(path: str) -> list[str]:
        return client.get(path).headers.get_all("Vary")

    for path in ("/set", "/get", "/getitem", "/setdefault", "/clear", "/vary-cookie-header-set"):
        assert vary_of(path) == ["Cookie"], path
    assert vary_of("/vary-header-set") == ["Accept-Encoding, Accept-Language, Cookie"]
    assert vary_of("/no-vary-header") == []


def test_a_refreshed_permanent_cookie_varies_by_cookie(app: flask.Flask, client: FlaskClient) -> None:
    @app.get("/login")
    def login() -> str:
        flask.session["user_id"] = 1
        flask.session.permanent = True
        return ""

    @app.get("/ignored")
    def ignored() -> str:
        return ""

    assert client.get("/login").headers["Vary"] == "Cookie"
    refreshed = client.get("/ignored")
    assert "Set-Cookie" in refreshed.headers and refreshed.headers["Vary"] == "Cookie"


def test_flashing_marks_the_session_modified(app: flask.Flask, req_ctx: object) -> None:
    assert not flask.session.modified
    flask.flash("Zap")
    flask.session.modified = False
    flask.flash("Zip")
    assert flask.session.modified
    assert list(flask.get_flashed_messages()) == ["Zap", "Zip"]


def test_flashed_messages_keep_their_categories_and_markup(app: flask.Flask) -> None:
    seen: dict[str, Any] = {}

    @app.route("/")
    def flash_three() -> str:
        flask.flash("Hello World")
        flask.flash("Hello World", "error")
        flask.flash(Markup("<em>Testing</em>"), "warning")
        return ""

    @app.route("/read/<kind>")
    def read(kind: str) -> str:
        options: dict[str, Any] = {
            "plain": {},
            "categories": {"with_categories": True},
            "filter": {"category_filter": ["message"], "with_categories": True},
            "filters": {"category_filter": ["message", "warning"], "with_categories": True},
            "filters-bare": {"category_filter": ["message", "warning"]},
        }[kind]
        seen[kind] = flask.get_flashed_messages(**options)
        return ""

    for kind in ("plain", "categories", "filter", "filters", "filters-bare"):
        client = app.test_client()  # a fresh browser: fresh flashes
        client.get("/")
        client.get(f"/read/{kind}")
    emphasis = Markup("<em>Testing</em>")
    assert seen["plain"] == ["Hello World", "Hello World", emphasis]
    assert seen["categories"] == [("message", "Hello World"), ("error", "Hello World"), ("warning", emphasis)]
    assert all(type(pair) is tuple for pair in seen["categories"])
    assert type(seen["categories"][2][1]) is Markup
    assert seen["filter"] == [("message", "Hello World")]
    assert seen["filters"] == [("message", "Hello World"), ("warning", emphasis)]
    assert seen["filters-bare"] == ["Hello World", emphasis]


def test_flashed_markup_renders_unescaped(app: flask.Flask, client: FlaskClient) -> None:
    @app.route("/")
    def flash_markup() -> str:
        flask.flash(Markup("<b>bold</b>"))
        flask.flash("<i>escaped</i>")
        return ""

    @app.route("/show")
    def show() -> str:
        return flask.render_template_string("{% for m in get_flashed_messages() %}{{ m }}|{% endfor %}")

    client.get("/")
    assert client.get("/show").text == "<b>bold</b>|&lt;i&gt;escaped&lt;/i&gt;|"


def test_new_and_permanent_as_flask_defines_them(app: flask.Flask, client: FlaskClient) -> None:
    seen: list[tuple[bool, bool]] = []

    @app.route("/")
    def look() -> str:
        seen.append((flask.session.new, flask.session.permanent))
        flask.session["n"] = flask.session.get("n", 0) + 1
        return ""

    client.get("/")
    client.get("/")
    assert seen == [(True, False), (False, False)]
