"""Switching from Starlette's SessionMiddleware logs nobody out with migrate_from="starlette"."""

from __future__ import annotations

import time
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware as StarletteSessionMiddleware

from ..legacy import encoded, signed_like_starlette
from .support import ROUTES, SECRET, ClientFactory, session_app, set_cookies, the_set_cookie


def starlette_app(**options: Any) -> Starlette:
    """The app before the switch: Starlette's own cookie sessions."""
    return Starlette(routes=ROUTES, middleware=[Middleware(StarletteSessionMiddleware, secret_key=SECRET, **options)])


def legacy_cookie(client_factory: ClientFactory, data: dict[str, Any], **options: Any) -> str:
    name = str(options.get("session_cookie", "session"))
    response = client_factory(starlette_app(**options)).post("/update_session", json=data)
    return the_set_cookie(response, name).value


def test_a_starlette_session_carries_over_to_a_server_side_one(client_factory: ClientFactory) -> None:
    data = {"user": "ada", "cart": ["tea", {"milk": 2}], "admin": False}
    browser = client_factory(starlette_app())
    browser.post("/update_session", json=data)
    legacy = browser.cookies["session"]

    # The app is redeployed with ours; the browser keeps its cookie jar.
    app = session_app(migrate_from="starlette")
    client = client_factory(app, cookies=browser.cookies)
    response = client.get("/view_session")
    assert response.json() == {"session": data}
    ours = the_set_cookie(response)  # our cookie replaces Starlette's at once
    assert ours.value != legacy and not ours.clears
    assert "ada" not in ours.value

    # From now on the browser sends our cookie: same data, nothing more to migrate.
    assert client.cookies["session"] == ours.value
    response = client.get("/view_session")
    assert response.json() == {"session": data} and set_cookies(response) == []
    client.post("/update_session", json={"step": 2})
    assert client.get("/view_session").json() == {"session": {**data, "step": 2}}


def test_the_first_request_after_the_switch_may_change_the_data(client_factory: ClientFactory) -> None:
    legacy = legacy_cookie(client_factory, {"a": 1})
    client = client_factory(session_app(migrate_from="starlette"), cookies={"session": legacy})
    assert client.post("/update_session", json={"b": 2}).json() == {"session": {"a": 1, "b": 2}}
    assert client.get("/view_session").json() == {"session": {"a": 1, "b": 2}}


def test_starlettes_own_keyword_options_carry_over_with_the_migration(client_factory: ClientFactory) -> None:
    options: dict[str, Any] = {"session_cookie": "app_session", "max_age": 3600, "path": "/"}
    legacy = legacy_cookie(client_factory, {"user": "ada"}, **options)
    client = client_factory(session_app(migrate_from="starlette", **options), cookies={"app_session": legacy})
    response = client.get("/view_session")
    assert response.json() == {"session": {"user": "ada"}}
    assert the_set_cookie(response, "app_session").get("max-age") == "3600"


@pytest.mark.parametrize(
    "legacy",
    [
        signed_like_starlette(encoded({"user": "admin"}), "not the app's secret"),
        signed_like_starlette(encoded({"user": "ada"}), SECRET, at=time.time() - 15 * 24 * 3600),
        signed_like_starlette(encoded(["not", "an", "object"]), SECRET),
        "eyJ1c2VyIjogImFkbWluIn0=.forged.signature",
    ],
    ids=["forged", "expired", "not-an-object", "garbage"],
)
def test_a_bad_legacy_cookie_is_no_session(client_factory: ClientFactory, legacy: str) -> None:
    client = client_factory(session_app(migrate_from="starlette"), cookies={"session": legacy})
    response = client.get("/view_session")
    assert response.status_code == 200 and response.json() == {"session": {}}
    assert all(cookie.clears for cookie in set_cookies(response))


def test_a_legacy_cookie_older_than_max_age_is_no_session(client_factory: ClientFactory) -> None:
    legacy = signed_like_starlette(encoded({"user": "ada"}), SECRET, at=time.time() - 7200)
    client = client_factory(session_app(migrate_from="starlette", max_age=3600), cookies={"session": legacy})
    assert client.get("/view_session").json() == {"session": {}}


def test_without_migrate_from_a_starlette_cookie_is_no_session(client_factory: ClientFactory) -> None:
    legacy = legacy_cookie(client_factory, {"user": "ada"})
    client = client_factory(session_app(), cookies={"session": legacy})
    assert client.get("/view_session").json() == {"session": {}}


def test_migration_needs_the_same_secret(client_factory: ClientFactory) -> None:
    legacy = legacy_cookie(client_factory, {"user": "ada"})
    app = session_app(secret_key="a-new-secret-for-the-new-middleware-0123456789", migrate_from="starlette")
    assert client_factory(app, cookies={"session": legacy}).get("/view_session").json() == {"session": {}}
    rotated = session_app(
        secret_key=[SECRET, "a-new-secret-for-the-new-middleware-0123456789"], migrate_from="starlette"
    )
    assert client_factory(rotated, cookies={"session": legacy}).get("/view_session").json() == {
        "session": {"user": "ada"}
    }
