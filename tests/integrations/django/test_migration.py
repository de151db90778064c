"""Switching from each of Django's engines logs nobody out: the old cookie's session is
carried over (data and signed-in user) on its first request, and the cookie replaced."""

from __future__ import annotations

import time
from collections.abc import Iterator
from importlib import import_module
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.backends.base import SessionBase
from django.test.utils import override_settings

from session_middleware.records import user_tag
from session_middleware.stores.base import Store

from .clients import Browser

ENGINES = [
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cache",
    "django.contrib.sessions.backends.cached_db",
    "django.contrib.sessions.backends.signed_cookies",
    "django.contrib.sessions.backends.file",
]


@pytest.fixture(params=ENGINES, ids=lambda engine: engine.rsplit(".", 1)[1])
def engine(request: pytest.FixtureRequest, store: Store, tmp_path: Any) -> Iterator[str]:
    name = str(request.param)
    with (
        override_settings(SESSION_FILE_PATH=str(tmp_path)),
        override_settings(SESSION_MIDDLEWARE={"store": store, "migrate_from": name}),
    ):
        yield name


def old_session(engine: str, **data: Any) -> tuple[SessionBase, str]:
    """A session stored by Django's ``engine``, and the cookie value its middleware set."""
    session: SessionBase = import_module(engine).SessionStore()
    session.update(data)
    session.save()
    key = session.session_key
    assert key
    return session, key


def signed_in(user: User) -> dict[str, Any]:
    return {
        "_auth_user_id": str(user.pk),
        "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
        "_auth_user_hash": user.get_session_auth_hash(),
    }


def exists_in_old_engine(engine: str, key: str) -> bool:
    session: SessionBase = import_module(engine).SessionStore(key)
    return bool(session.load())


def test_a_signed_in_session_is_carried_over(engine: str, store: Store, browser: Browser) -> None:
    user, _ = User.objects.get_or_create(username=f"old-{engine.rsplit('.', 1)[1]}")
    _, key = old_session(engine, cart=["book"], **signed_in(user))
    browser.set_cookie(key)
    response = browser.get("/whoami", headers={"user-agent": "Old Browser"})
    assert response.json() == {"user": user.username}
    new = response.cookies["sessionid"].value
    assert new and new != key
    sid = new.rpartition(".")[0]
    assert sid.startswith(user_tag(str(user.pk))) and len(sid) == 47
    record = store.load_and_touch(sid)
    assert record is not None
    assert record.user == {"id": str(user.pk), "name": user.username}
    assert record.client == "Old Browser"
    assert browser.get("/get/cart").json() == {"value": ["book"]}
    assert [r.id for r in store.list_by_user(str(user.pk))] == [sid]
    if not engine.endswith("signed_cookies"):  # a signed cookie can only be replaced
        assert not exists_in_old_engine(engine, key)


def test_an_anonymous_session_is_carried_over(engine: str, store: Store, browser: Browser) -> None:
    _, key = old_session(engine, theme="dark")
    browser.set_cookie(key)
    assert browser.get("/get/theme").json() == {"value": "dark"}
    sid = session_cookie_id(browser)
    record = store.load_and_touch(sid)
    assert record is not None and record.user is None and len(sid) == 43


def session_cookie_id(browser: Browser) -> str:
    value = browser.cookie()
    assert value is not None and "." in value
    return value.rpartition(".")[0]


@pytest.mark.parametrize("forge", ["garbage", "tampered", "expired"])
def test_forged_or_expired_old_cookies_are_no_session(engine: str, store: Store, browser: Browser, forge: str) -> None:
    user, _ = User.objects.get_or_create(username="victim")
    session, key = old_session(engine, **signed_in(user))
    if forge == "garbage":
        key = "0123456789abcdefghijklmnopqrstuv"
    elif forge == "tampered":
        key = key[:-3] + ("xyz" if not key.endswith("xyz") else "abc")
    elif engine.endswith("signed_cookies"):
        # Its expiry is the signature's age (SESSION_COOKIE_AGE): sign it three weeks ago.
        with mock.patch("django.core.signing.time.time", return_value=time.time() - 21 * 86400):
            _, key = old_session(engine, **signed_in(user))
    else:
        session.set_expiry(-60)
        session.save()
        key = session.session_key or key
    browser.set_cookie(key)
    response = browser.get("/whoami")
    assert response.json() == {"user": None}
    assert response.cookies["sessionid"].value == ""  # cleared, as for any stale cookie
    assert store.list_by_user(str(user.pk)) == []


def test_without_migrate_from_an_old_cookie_is_just_stale(store: Store, browser: Browser) -> None:
    user, _ = User.objects.get_or_create(username="unmigrated")
    _, key = old_session("django.contrib.sessions.backends.db", **signed_in(user))
    browser.set_cookie(key)
    assert browser.get("/whoami").json() == {"user": None}
    assert exists_in_old_engine("django.contrib.sessions.backends.db", key)  # left alone


def test_non_json_old_data_is_not_carried_over(store: Store, browser: Browser, caplog: Any) -> None:
    engine = "django.contrib.sessions.backends.cache"
    with override_settings(SESSION_MIDDLEWARE={"store": store, "migrate_from": engine}):
        from django.core.cache import caches

        _, key = old_session(engine, a=1)
        caches["default"].set("django.contrib.sessions.cache" + key, {"when": object()})
        browser.set_cookie(key)
        assert browser.get("/dump").json() == {}
    assert "not carried over" in caplog.text
