"""Reading SESSION_MIDDLEWARE and Django's settings: errors say what is wrong, and
Django's own tools (the test client's ``session``, ``clearsessions``) keep working."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import Client
from django.test.utils import override_settings

from session_middleware import MemoryStore
from session_middleware.integrations.django import SessionStore
from session_middleware.integrations.django.config import get_config
from session_middleware.stores.base import Store


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"idle_timout": 10}, "did you mean 'idle_timeout'"),
        ({"store": 42}, "must be a store"),
        ({"store": "memcached://x"}, "must be a store"),
        ({"idle_timeout": -1}, "positive"),
        ({"absolute_timeout": float("nan")}, "positive"),
        ({"max_sessions_per_user": 0}, "at least 1"),
        ({"migrate_from": "django.contrib.sessions.backends.nope"}, "migrate_from"),
        ({"trusted_proxies": ["not an address"]}, "trusted_proxies"),
        ({"api_authorize": 3}, "api_authorize"),
    ],
)
def test_bad_options_are_improperly_configured(options: dict[str, Any], message: str) -> None:
    with override_settings(SESSION_MIDDLEWARE=options):
        with pytest.raises(ImproperlyConfigured, match=message):
            get_config()


def test_defaults_follow_djangos_settings() -> None:
    with override_settings(SESSION_MIDDLEWARE={}, SESSION_COOKIE_AGE=3600):
        config = get_config()
        assert config.absolute_timeout == 3600
        assert config.idle_timeout == 24 * 3600
        assert config.touch_interval == 60
        assert isinstance(config.store, MemoryStore)
        default_store = config.store
    with override_settings(SESSION_MIDDLEWARE={"idle_timeout": 100}):
        config = get_config()
        assert config.touch_interval == 10
        assert config.store is default_store  # one memory store for the process


def test_a_redis_url_makes_one_store(redis_server: Any) -> None:
    from session_middleware.stores.redis import RedisStore

    with override_settings(SESSION_MIDDLEWARE={"store": redis_server.url, "redis_prefix": "dj-url-test:"}):
        first = get_config().store
        assert isinstance(first, RedisStore) and first.prefix == "dj-url-test:"
        session = SessionStore()
        session["a"] = 1
        session.save()
        assert SessionStore(session.session_key)["a"] == 1
    with override_settings(SESSION_MIDDLEWARE={"store": redis_server.url, "redis_prefix": "dj-url-test:"}):
        assert get_config().store is first


def test_api_authorize_may_be_a_dotted_path() -> None:
    with override_settings(SESSION_MIDDLEWARE={"api_authorize": "operator.truth"}):
        import operator

        assert get_config().api_authorize is operator.truth


def test_a_short_secret_key_warns(caplog: pytest.LogCaptureFixture) -> None:
    with override_settings(SECRET_KEY="short"), caplog.at_level("WARNING", "session_middleware.security"):
        get_config()
    assert "shorter than 32 bytes" in caplog.text


def test_the_test_clients_session_property(store: Store) -> None:
    client = Client()
    session = client.session
    session["prepared"] = "by the test"
    session.save()
    assert client.get("/get/prepared").json() == {"value": "by the test"}
    assert client.session["prepared"] == "by the test"


def test_clearsessions_is_a_no_op(store: Store) -> None:
    session = SessionStore()
    session["kept"] = True
    session.save()
    call_command("clearsessions")
    assert SessionStore(session.session_key)["kept"] is True


def test_the_middleware_needs_this_engine() -> None:
    from session_middleware.integrations.django import SessionMiddleware

    with override_settings(SESSION_ENGINE="django.contrib.sessions.backends.cache"):
        with pytest.raises(ImproperlyConfigured, match="SESSION_ENGINE"):
            SessionMiddleware(lambda request: None)  # type: ignore[arg-type,return-value]


def test_the_package_exports_what_it_documents() -> None:
    import session_middleware.integrations.django as integration

    assert integration.__all__ == sorted(integration.__all__)
    for name in integration.__all__:
        assert getattr(integration, name).__module__.startswith("session_middleware.integrations.django")


def test_djangos_system_checks_pass_with_the_admin_installed() -> None:
    call_command("check", fail_level="WARNING")  # admin.E410 looks for a session middleware


def test_the_admin_signs_staff_in(store: Store) -> None:
    from django.contrib.auth.models import User

    User.objects.filter(username="admin-user").delete()
    User.objects.create_superuser("admin-user", "admin@example.com", "pw-for-the-admin")
    client = Client()
    page = client.post("/admin/login/", {"username": "admin-user", "password": "pw-for-the-admin", "next": "/admin/"})
    assert page.status_code == 302 and page.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    key = client.cookies["sessionid"].value
    bound = SessionStore(key).user
    assert bound is not None and bound["name"] == "admin-user"


def test_messages_kept_in_the_session(store: Store) -> None:
    client = Client()
    client.get("/message/hello")
    assert client.get("/messages").json() == {"messages": ["hello"]}
    assert client.get("/messages").json() == {"messages": []}


def test_a_misconfiguration_fails_when_the_middleware_is_built() -> None:
    from session_middleware.integrations.django import SessionMiddleware

    with override_settings(SESSION_MIDDLEWARE={"stor": "memory"}):
        with pytest.raises(ImproperlyConfigured, match="did you mean 'store'"):
            SessionMiddleware(lambda request: None)  # type: ignore[arg-type,return-value]
