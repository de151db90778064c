"""The middleware through Django's test clients, under WSGI (``Client``) and ASGI
(``AsyncClient``), on the memory store and a real Redis."""

from __future__ import annotations

from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.http import HttpResponseBase
from django.test.utils import override_settings

from session_middleware.integrations.django.config import get_config
from session_middleware.records import SessionRecord, user_tag
from session_middleware.stores.base import Store

from .clients import Browser

NewBrowser = Callable[..., Browser]


def session_id(browser: Browser) -> str:
    value = browser.cookie()
    assert value is not None
    return value.rpartition(".")[0]


def record_of(store: Store, browser: Browser) -> SessionRecord | None:
    return store.load_and_touch(session_id(browser))


def set_cookie_header(response: HttpResponseBase, name: str = "sessionid") -> str | None:
    morsel = response.cookies.get(name)
    return None if morsel is None else morsel.OutputString()


def vary(response: HttpResponseBase) -> list[str]:
    return [v.strip() for v in response.headers.get("Vary", "").split(",") if v.strip()]


def test_an_unused_session_stores_nothing_and_sends_no_cookie(store: Store, browser: Browser) -> None:
    response = browser.get("/plain")
    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    assert "Cookie" not in vary(response)
    response = browser.get("/get/a")  # read, never written
    assert "sessionid" not in response.cookies
    assert vary(response) == ["Cookie"]


def test_a_write_stores_the_session_and_sets_a_signed_cookie(store: Store, browser: Browser) -> None:
    response = browser.get("/set/a/1", headers={"user-agent": "Test\x07Browser/1.0"})
    cookie = SimpleCookie(set_cookie_header(response))["sessionid"]
    assert cookie["httponly"] is True and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    assert cookie["max-age"] == str(1209600)
    assert response.headers["Cache-Control"] == "no-store"
    assert "Cookie" in vary(response)
    record = record_of(store, browser)
    assert record is not None
    assert record.data == {"a": '"1"'}
    assert (record.address, record.client, record.user) == ("127.0.0.1", "TestBrowser/1.0", None)
    assert browser.get("/get/a").json() == {"value": "1"}


def test_reads_send_no_cookie_but_vary(store: Store, browser: Browser) -> None:
    browser.get("/set/a/1")
    response = browser.get("/get/a")
    assert "sessionid" not in response.cookies
    assert vary(response) == ["Cookie"]
    assert "Cache-Control" not in response.headers


def test_vary_cookie_joins_the_views_own_vary(store: Store, browser: Browser) -> None:
    browser.get("/set/a/1")
    response = browser.get("/get-varying/a")
    assert response.json() == {"value": "1"}
    assert vary(response) == ["Accept-Language", "Cookie"]


def test_a_changed_cookie_setting_applies_to_the_next_request(store: Store, browser: Browser) -> None:
    browser.get("/set/a/1")
    with override_settings(SESSION_COOKIE_NAME="other"):
        assert browser.get("/get/a").json() == {"value": None}  # the old name is not read
        assert "other" in browser.get("/set/a/2").cookies
    assert browser.get("/get/a").json() == {"value": "1"}


def test_a_tampered_cookie_is_no_session_and_is_cleared(store: Store, browser: Browser) -> None:
    browser.get("/set/a/1")
    value = browser.cookie()
    assert value is not None
    browser.set_cookie(value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    response = browser.get("/get/a")
    assert response.json() == {"value": None}
    assert response.cookies["sessionid"].value == ""
    assert response.cookies["sessionid"]["max-age"] == 0


def test_a_session_closed_in_the_store_is_no_session(store: Store, browser: Browser) -> None:
    browser.get("/set/a/1")
    store.delete(session_id(browser))
    response = browser.get("/set/b/2")
    assert response.status_code == 200
    assert browser.get("/dump").json() == {"b": "2"}


def test_login_binds_the_user_under_a_tagged_id(store: Store, browser: Browser) -> None:
    browser.get("/set/cart/1")
    anonymous = browser.cookie()
    response = browser.get("/login/ada", headers={"user-agent": "Phone"})
    assert response.status_code == 200
    user = User.objects.get(username="ada")
    sid = session_id(browser)
    assert browser.cookie() != anonymous
    assert len(sid) == 47 and sid.startswith(user_tag(str(user.pk)))
    record = record_of(store, browser)
    assert record is not None
    assert record.user == {"id": str(user.pk), "name": "ada"}
    assert record.client == "Phone"
    assert browser.get("/whoami").json() == {"user": "ada"}
    assert browser.get("/get/cart").json() == {"value": "1"}  # data kept across login
    assert anonymous is not None
    assert store.load_and_touch(anonymous.rpartition(".")[0]) is None  # the old id is gone


def test_async_login_and_logout(store: Store, browser: Browser) -> None:
    browser.get("/alogin/grace")
    user = User.objects.get(username="grace")
    record = record_of(store, browser)
    assert record is not None and record.user == {"id": str(user.pk), "name": "grace"}
    sid = session_id(browser)
    response = browser.get("/alogout")
    assert response.cookies["sessionid"].value == ""
    assert store.load_and_touch(sid) is None


def test_logout_closes_the_session_and_replay_is_anonymous(
    store: Store, browser: Browser, new_browser: NewBrowser
) -> None:
    browser.get("/login/linus")
    old = browser.cookie()
    sid = session_id(browser)
    response = browser.get("/logout")
    assert response.cookies["sessionid"].value == ""
    assert response.headers["Cache-Control"] == "no-store"
    assert store.load_and_touch(sid) is None
    replay = new_browser()
    assert old is not None
    replay.set_cookie(old)
    assert replay.get("/whoami").json() == {"user": None}


def test_the_test_clients_login_helpers_work(store: Store, browser: Browser) -> None:
    user, _ = User.objects.get_or_create(username="tester")
    browser.client.force_login(user)
    assert browser.get("/whoami").json() == {"user": "tester"}
    record = record_of(store, browser)
    assert record is not None and record.user == {"id": str(user.pk), "name": "tester"}


@pytest.mark.parametrize("view", ["password", "apassword"])
def test_password_change_closes_the_users_other_sessions(store: Store, new_browser: NewBrowser, view: str) -> None:
    phone, laptop, other = new_browser(), new_browser(), new_browser()
    phone.get("/login/barbara")
    laptop.get("/login/barbara")
    other.get("/login/someone-else")
    user = User.objects.get(username="barbara")
    assert len(store.list_by_user(str(user.pk))) == 2
    response = laptop.get(f"/{view}/n3w-secret")
    assert response.json() == {"closed": 1}
    assert laptop.get("/whoami").json() == {"user": "barbara"}  # still signed in, under a new id
    assert phone.get("/whoami").json() == {"user": None}
    assert [r.id for r in store.list_by_user(str(user.pk))] == [session_id(laptop)]
    assert other.get("/whoami").json() == {"user": "someone-else"}


def test_a_5xx_response_saves_nothing(store: Store, browser: Browser) -> None:
    browser.get("/set/a/1")
    response = browser.get("/fail")
    assert response.status_code == 500
    assert "sessionid" not in response.cookies
    assert browser.get("/dump").json() == {"a": "1"}


def test_nested_mutations_are_saved(store: Store, browser: Browser) -> None:
    browser.get("/append/x")
    browser.get("/append/y")
    assert browser.get("/dump").json() == {"items": ["x", "y"]}


def test_a_session_closed_during_the_request_is_not_written_back(store: Store, browser: Browser) -> None:
    browser.get("/set/a/1")
    sid = session_id(browser)
    response = browser.get("/close-then-write")
    assert response.status_code == 200
    assert "sessionid" not in response.cookies  # the cookie is left alone
    assert store.load_and_touch(sid) is None
    assert browser.get("/dump").json() == {}


@override_settings(SESSION_SAVE_EVERY_REQUEST=True)
def test_save_every_request_refreshes_the_cookie(store: Store, browser: Browser) -> None:
    browser.get("/set/a/1")
    response = browser.get("/plain")
    assert response.cookies["sessionid"].value == browser.cookie()
    assert response.headers["Cache-Control"] == "no-store"


@override_settings(SESSION_EXPIRE_AT_BROWSER_CLOSE=True)
def test_expire_at_browser_close_sends_a_browser_session_cookie(store: Store, browser: Browser) -> None:
    response = browser.get("/set/a/1")
    cookie = response.cookies["sessionid"]
    assert cookie["max-age"] == "" and cookie["expires"] == ""


def test_set_expiry_seconds_sets_the_cookie_age_and_the_idle_timeout(store: Store, browser: Browser) -> None:
    response = browser.get("/expiry/600")
    assert response.cookies["sessionid"]["max-age"] == 600
    record = record_of(store, browser)
    assert record is not None and record.idle_timeout == 600


@override_settings(
    SESSION_COOKIE_NAME="__Host-sid",
    SESSION_COOKIE_SECURE=True,
    SESSION_COOKIE_SAMESITE="Strict",
    SESSION_COOKIE_AGE=3600,
    SESSION_COOKIE_HTTPONLY=False,
)
def test_djangos_cookie_settings_are_honoured(store: Store, browser: Browser) -> None:
    response = browser.get("/set/a/1")
    cookie = SimpleCookie(set_cookie_header(response, "__Host-sid"))["__Host-sid"]
    assert cookie["secure"] is True and cookie["samesite"] == "Strict" and cookie["max-age"] == "3600"
    assert cookie["httponly"] == ""
    assert browser.get("/get/a").json() == {"value": "1"}
    record = record_of_named(store, browser, "__Host-sid")
    assert record is not None and record.absolute_expiry - record.opened == 3600


def record_of_named(store: Store, browser: Browser, name: str) -> SessionRecord | None:
    value = browser.cookie(name)
    assert value is not None
    return store.load_and_touch(value.rpartition(".")[0])


@override_settings(SESSION_COOKIE_DOMAIN="example.com", SESSION_COOKIE_PATH="/app")
def test_domain_and_path_are_on_set_and_clear(store: Store, browser: Browser) -> None:
    response = browser.get("/set/a/1")
    assert response.cookies["sessionid"]["domain"] == "example.com"
    assert response.cookies["sessionid"]["path"] == "/app"


def test_cookies_signed_with_a_fallback_key_are_re_signed(store: Store, browser: Browser) -> None:
    from django.conf import settings

    browser.get("/set/a/1")
    old = browser.cookie()
    new_secret = "the-rotated-secret-key-which-is-long-enough-to-be-accepted"
    with override_settings(SECRET_KEY=new_secret, SECRET_KEY_FALLBACKS=[settings.SECRET_KEY]):
        response = browser.get("/get/a")
        assert response.json() == {"value": "1"}
        fresh = response.cookies["sessionid"].value
        assert fresh != old and fresh.rpartition(".")[0] == old.rpartition(".")[0]  # type: ignore[union-attr]
        assert get_config().signer.verify(fresh) is not None
        assert get_config().signer.verify(fresh).current_key is True  # type: ignore[union-attr]


def test_the_address_comes_from_trusted_proxies_only(store: Store, new_browser: NewBrowser) -> None:
    with override_settings(SESSION_MIDDLEWARE={"store": store, "trusted_proxies": ["127.0.0.1"]}):
        behind = new_browser()
        behind.get("/address", headers={"x-forwarded-for": "203.0.113.9"})
        record = record_of(store, behind)
        assert record is not None and record.address == "203.0.113.9"
    with override_settings(SESSION_MIDDLEWARE={"store": store}):
        direct = new_browser()
        direct.get("/address", headers={"x-forwarded-for": "203.0.113.9"})
        record = record_of(store, direct)
        assert record is not None and record.address == "127.0.0.1"


def test_max_sessions_per_user_closes_the_least_recent(store: Store, new_browser: NewBrowser) -> None:
    with override_settings(SESSION_MIDDLEWARE={"store": store, "max_sessions_per_user": 2}):
        devices = [new_browser() for _ in range(3)]
        for device in devices:
            device.get("/login/margaret")
        assert [d.get("/whoami").json()["user"] for d in devices] == [None, "margaret", "margaret"]


def test_concurrent_requests_changing_different_keys_all_keep_their_changes(
    store: Store, browser: Browser, new_browser: NewBrowser
) -> None:
    from session_middleware.integrations.django import SessionStore

    browser.get("/set/a/0")
    key = browser.cookie()
    # Two requests load the session, then both save: neither loses the other's key.
    first, second = SessionStore(key), SessionStore(key)
    first.load(), second.load()
    first["a"] = "1"
    second["b"] = "2"
    first.save()
    second.save()
    assert browser.get("/dump").json() == {"a": "1", "b": "2"}


def test_concurrent_wsgi_requests_merge_per_key(store: Store) -> None:
    import threading

    from django.test import Client

    from .views import BARRIER

    first = Client()
    first.get("/set/base/0")
    second = Client()
    second.cookies = first.cookies
    BARRIER.reset()
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda c=c, k=k: results.append(c.get(f"/barrier-set/{k}/v").status_code))
        for c, k in ((first, "left"), (second, "right"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert results == [200, 200]
    assert first.get("/dump").json() == {"base": "0", "left": "v", "right": "v"}


def _failing(store: Store) -> Any:
    from session_middleware.exceptions import StoreError

    class Down:
        """The store, failing every call until ``up`` is set."""

        up = False

        def __getattr__(self, name: str) -> Any:
            attribute = getattr(store, name)
            if not callable(attribute) or name == "clock" or self.up:
                return attribute

            def fail(*args: Any, **kwargs: Any) -> Any:
                raise StoreError("backend down")

            async def afail(*args: Any, **kwargs: Any) -> Any:
                raise StoreError("backend down")

            return afail if name.startswith("a") and name != "address" else fail

    return Down()


def test_a_store_outage_answers_503_and_keeps_the_cookie(memory_store: Store, browser: Browser) -> None:
    browser.get("/set/a/1")
    cookie = browser.cookie()
    down = _failing(memory_store)
    with override_settings(SESSION_MIDDLEWARE={"store": down}):
        response = browser.get("/get/a")
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "2"
        assert "sessionid" not in response.cookies
        fresh = Browser(browser.kind, browser._runner)
        assert fresh.get("/plain").status_code == 200  # needs no session: untouched
        assert fresh.get("/set/b/2").status_code == 503  # storing a new session needs the store
        assert fresh.get("/login/outage").status_code == 503  # the view's own store call (cycle_key)
    assert browser.cookie() == cookie
    assert browser.get("/get/a").json() == {"value": "1"}  # back: nobody was logged out


def test_processes_sharing_redis_share_sessions(
    redis_server: Any, redis_prefix: str, new_browser: NewBrowser, runner: Any
) -> None:
    """Two stores on one Redis stand for two server processes: a session opened through
    one is read, changed and closed through the other."""
    from session_middleware.stores.redis import RedisStore

    one, two = RedisStore(redis_server.url, prefix=redis_prefix), RedisStore(redis_server.url, prefix=redis_prefix)
    browser = new_browser()
    try:
        with override_settings(SESSION_MIDDLEWARE={"store": one}):
            browser.get("/login/process-user")
            browser.get("/set/a/1")
        with override_settings(SESSION_MIDDLEWARE={"store": two}):
            assert browser.get("/whoami").json() == {"user": "process-user"}
            assert browser.get("/get/a").json() == {"value": "1"}
            browser.get("/logout")
        with override_settings(SESSION_MIDDLEWARE={"store": one}):
            assert browser.get("/whoami").json() == {"user": None}
    finally:
        for store in (one, two):
            store.close()
            runner.run(store.aclose())
