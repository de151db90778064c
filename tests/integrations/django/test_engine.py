"""The session engine against the behaviour Django's own engines share (the suite that
Django runs on every backend), on the memory store and a real Redis, sync and async."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.backends.base import CreateError, SessionBase, UpdateError
from django.test.utils import override_settings
from django.utils import timezone

from session_middleware.integrations.django import SessionStore
from session_middleware.integrations.django.config import get_config
from session_middleware.records import SESSION_ID_LENGTH, is_session_id
from session_middleware.stores.base import Store

Run = Callable[[Coroutine[Any, Any, Any]], Any]


@pytest.fixture
def session(store: Store) -> SessionStore:
    return SessionStore()


@pytest.fixture
def arun(runner: asyncio.Runner) -> Run:
    return runner.run


def test_new_session_is_neither_accessed_nor_modified(session: SessionStore) -> None:
    assert session.modified is False
    assert session.accessed is False
    assert session.session_key is None


def test_a_new_session_has_every_attribute_sessionbase_sets(session: SessionStore) -> None:
    # The engine does not call SessionBase.__init__; it must still set what that sets
    # (but the key, which SessionBase keeps behind the ``_session_key`` this engine replaces).
    expected = set(vars(SessionBase())) - {"_SessionBase__session_key"}
    assert expected <= set(vars(session)) | set(dir(session))
    assert session.serializer is SessionBase().serializer
    keyed = SessionStore(session.session_key)
    assert (keyed.accessed, keyed.modified) == (False, False)


def test_get_of_a_missing_key(session: SessionStore, arun: Run) -> None:
    assert session.get("cat") is None
    assert arun(session.aget("cat")) is None
    with pytest.raises(KeyError):
        session["cat"]


def test_store_and_pop(session: SessionStore, arun: Run) -> None:
    session["cat"] = "dog"
    assert session.modified is True
    assert session.pop("cat") == "dog"
    arun(session.aset("cow", "moo"))
    assert arun(session.apop("cow")) == "moo"
    assert session.get("cow") is None


def test_pop_default_accesses_but_does_not_modify(session: SessionStore, arun: Run) -> None:
    assert session.pop("some key", "does not exist") == "does not exist"
    assert session.pop("some key", default="nope") == "nope"  # type: ignore[call-overload]
    assert arun(session.apop("some key", default="async")) == "async"
    assert session.accessed is True
    assert session.modified is False
    with pytest.raises(KeyError):
        session.pop("some key")
    with pytest.raises(KeyError):
        arun(session.apop("some key"))


def test_setdefault_and_update(session: SessionStore, arun: Run) -> None:
    assert session.setdefault("foo", "bar") == "bar"
    assert session.setdefault("foo", "baz") == "bar"
    assert arun(session.asetdefault("foo", "qux")) == "bar"
    session.update({"a": 1})
    arun(session.aupdate({"b": 2}))
    assert (session.accessed, session.modified) == (True, True)
    assert dict(session.items()) == {"foo": "bar", "a": 1, "b": 2}


def test_reads_access_without_modifying(session: SessionStore, arun: Run) -> None:
    session["x"] = 1
    session.modified = session.accessed = False
    assert "x" in session
    assert arun(session.ahas_key("x")) is True
    assert list(session.keys()) == ["x"] == list(arun(session.akeys()))
    assert list(session.values()) == [1] == list(arun(session.avalues()))
    assert list(session.items()) == [("x", 1)] == list(arun(session.aitems()))
    assert (session.accessed, session.modified) == (True, False)


def test_clear(session: SessionStore) -> None:
    session["x"] = 1
    session.save()
    session.modified = session.accessed = False
    session.clear()
    assert list(session.items()) == []
    assert (session.accessed, session.modified) == (True, True)
    session.save()
    assert dict(SessionStore(session.session_key).items()) == {}


def test_save_stores_a_session_under_a_signed_key(session: SessionStore, store: Store) -> None:
    session["a"] = "b"
    session.save()
    key = session.session_key
    assert key is not None and session.session_id is not None
    assert key.startswith(session.session_id + ".") and is_session_id(session.session_id)
    assert session.exists(key) is True
    assert session["a"] == "b"  # saving keeps the data
    record = store.load_and_touch(session.session_id)
    assert record is not None and record.data == {"a": '"b"'}
    assert dict(SessionStore(key).items()) == {"a": "b"}


def test_asave_and_aexists(session: SessionStore, arun: Run) -> None:
    arun(session.aset("a", "b"))
    arun(session.asave())
    assert arun(session.aexists(session.session_key)) is True
    assert arun(session.aget("a")) == "b"
    assert arun(SessionStore(session.session_key).aget("a")) == "b"


def test_delete_closes_it_in_the_store(session: SessionStore, arun: Run) -> None:
    session.save()
    session.delete(session.session_key)
    assert session.exists(session.session_key) is False
    other = SessionStore()
    arun(other.asave())
    arun(other.adelete(other.session_key))
    assert arun(other.aexists(other.session_key)) is False


def test_flush(session: SessionStore, arun: Run) -> None:
    session["foo"] = "bar"
    session.save()
    previous = session.session_key
    session.flush()
    assert session.exists(previous) is False
    assert session.session_key is None
    assert (session.modified, session.accessed) == (True, True)
    other = SessionStore()
    arun(other.aset("foo", "bar"))
    arun(other.asave())
    previous = other.session_key
    arun(other.aflush())
    assert arun(other.aexists(previous)) is False
    assert other.session_key is None


def test_cycle_key_keeps_the_data_under_a_new_id(session: SessionStore) -> None:
    session["a"], session["b"] = "c", "d"
    session.save()
    previous = session.session_key
    before = list(session.items())
    session.cycle_key()
    assert session.session_key != previous
    assert session.exists(previous) is False
    assert session.exists(session.session_key) is True
    assert list(session.items()) == before
    assert dict(SessionStore(session.session_key).items()) == dict(before)


def test_cycle_key_without_a_loaded_cache(session: SessionStore, arun: Run) -> None:
    session["a"], session["b"] = "c", "d"
    session.save()
    fresh = SessionStore(session.session_key)
    assert hasattr(fresh, "_session_cache") is False
    fresh.cycle_key()
    assert dict(fresh.items()) == {"a": "c", "b": "d"}
    again = SessionStore(fresh.session_key)
    arun(again.acycle_key())
    assert dict(arun(again.aitems())) == {"a": "c", "b": "d"}
    assert arun(again.aexists(fresh.session_key)) is False


def test_invalid_and_unknown_keys_give_new_sessions(store: Store, arun: Run) -> None:
    for key in ["1", "", "12345678", "someunknownkey", "x" * 87]:
        session = SessionStore(key)
        assert session.session_key is None
        session.save()
        assert session.session_key not in (None, key)
        assert session.get("cat") is None
        session.delete()
    forged = get_config().signer.sign("A" * SESSION_ID_LENGTH)  # signed, never stored
    session = SessionStore(forged)
    assert session.load() == {}
    assert session.session_key is None  # loading never adopts an unknown id
    assert session.exists(forged) is False
    async_session = SessionStore(forged)
    assert arun(async_session.aload()) == {}
    assert async_session.session_key is None


def test_a_key_signed_with_another_secret_is_no_key(session: SessionStore) -> None:
    session["a"] = 1
    session.save()
    with override_settings(SECRET_KEY="another-secret-key-that-is-long-enough-to-be-accepted"):
        assert SessionStore(session.session_key).session_key is None


def test_key_rotation_through_secret_key_fallbacks(session: SessionStore) -> None:
    session["a"] = 1
    session.save()
    old_key = session.session_key
    new_secret = "the-new-secret-key-which-is-long-enough-for-the-signer"
    with override_settings(SECRET_KEY=new_secret, SECRET_KEY_FALLBACKS=[settings.SECRET_KEY]):
        rotated = SessionStore(old_key)
        assert rotated.resign is True
        assert rotated.session_key != old_key and rotated.session_id == session.session_id
        assert rotated["a"] == 1
        assert SessionStore(rotated.session_key).resign is False
    with override_settings(SECRET_KEY=new_secret):
        assert SessionStore(old_key).session_key is None


def test_session_key_is_read_only(session: SessionStore) -> None:
    with pytest.raises(AttributeError):
        session.session_key = session._get_new_session_key()


def test_default_and_custom_expiry(session: SessionStore, arun: Run) -> None:
    assert session.get_expiry_age() == settings.SESSION_COOKIE_AGE
    session.set_expiry(0)
    assert session.get_expiry_age() == settings.SESSION_COOKIE_AGE
    assert session.get_expire_at_browser_close() is True
    now = timezone.now()
    session.set_expiry(10)
    assert session.get_expiry_date(modification=now) == now + timedelta(seconds=10)
    assert session.get_expiry_age(modification=now) == 10
    session.set_expiry(now + timedelta(seconds=10))
    assert session.get_expiry_age(modification=now) == 10
    assert arun(session.aget_expiry_date(modification=now)) == now + timedelta(seconds=10)
    arun(session.aset_expiry(None))
    assert arun(session.aget_expiry_age()) == settings.SESSION_COOKIE_AGE


def test_get_expire_at_browser_close_follows_the_setting(session: SessionStore, arun: Run) -> None:
    for setting in (False, True):
        with override_settings(SESSION_EXPIRE_AT_BROWSER_CLOSE=setting):
            session.set_expiry(10)
            assert session.get_expire_at_browser_close() is False
            arun(session.aset_expiry(0))
            assert arun(session.aget_expire_at_browser_close()) is True
            session.set_expiry(None)
            assert session.get_expire_at_browser_close() is setting


def test_an_expiry_in_the_past_ends_the_session(session: SessionStore, arun: Run) -> None:
    session["foo"] = "bar"
    session.save()
    key = session.session_key
    session.set_expiry(-timedelta(seconds=10))
    session.save()
    assert session.exists(key) is False
    assert "foo" not in SessionStore(key)
    fresh = SessionStore()
    arun(fresh.aset("foo", "bar"))
    arun(fresh.aset_expiry(-10))
    arun(fresh.asave())
    assert fresh.session_key is None  # never stored


def test_set_expiry_sets_the_records_timeouts(session: SessionStore, store: Store) -> None:
    session["a"] = 1
    session.save()
    session.set_expiry(300)
    session.save()
    assert session.session_id is not None
    record = store.load_and_touch(session.session_id)
    assert record is not None and record.idle_timeout == 300
    until = timezone.now() + timedelta(hours=2)
    session.set_expiry(until)
    session.save()
    record = store.load_and_touch(session.session_id)
    assert record is not None and abs(record.absolute_expiry - until.timestamp()) < 1e-3
    assert record.expires_at <= until.timestamp() + 1e-3
    session.set_expiry(None)
    session.save()
    record = store.load_and_touch(session.session_id)
    assert record is not None and record.idle_timeout == 24 * 3600


def test_loading_does_not_create_a_record(store: Store, arun: Run) -> None:
    session = SessionStore("someunknownkey")
    session.load()
    assert session.session_key is None
    assert session.exists(session.session_key) is False
    assert arun(SessionStore("someunknownkey").aload()) == {}


def test_no_resurrection_after_a_close_elsewhere(store: Store, arun: Run) -> None:
    first = SessionStore()
    first["test_data"] = "value1"
    first.save(must_create=True)
    SessionStore(first.session_key).delete()
    first["test_data"] = "value2"
    with pytest.raises(UpdateError):
        first.save()
    assert first.load() == {}
    assert first.exists(first.session_key) is False

    second = SessionStore()
    arun(second.aset("test_data", "value1"))
    arun(second.asave(must_create=True))
    arun(SessionStore(second.session_key).adelete())
    arun(second.aset("test_data", "value2"))
    with pytest.raises(UpdateError):
        arun(second.asave())
    assert arun(second.aload()) == {}


def test_must_create_refuses_an_existing_session(session: SessionStore) -> None:
    session.save()
    with pytest.raises(CreateError):
        session.save(must_create=True)


def test_concurrent_changes_to_different_keys_merge(session: SessionStore, arun: Run) -> None:
    session["a"], session["b"], session["gone"] = 0, 0, 0
    session.save()
    one, two = SessionStore(session.session_key), SessionStore(session.session_key)
    one["a"] = 1
    del one["gone"]
    two["b"] = 2
    one.save()
    arun(two.asave())
    assert dict(SessionStore(session.session_key).items()) == {"a": 1, "b": 2}


def test_values_must_be_json(session: SessionStore) -> None:
    session["when"] = timezone.now()
    with pytest.raises(TypeError, match="'when'"):
        session.save()
    other = SessionStore()
    other["nan"] = float("nan")
    with pytest.raises(TypeError, match="'nan'"):
        other.save()


def test_nested_mutations_are_changes(session: SessionStore) -> None:
    session["cart"] = ["a"]
    session.save()
    loaded = SessionStore(session.session_key)
    loaded["cart"].append("b")
    assert loaded.has_changes() is True
    loaded.save()
    assert SessionStore(session.session_key)["cart"] == ["a", "b"]


def test_clear_expired_is_a_no_op(arun: Run) -> None:
    assert SessionStore.clear_expired() is None
    assert arun(SessionStore.aclear_expired()) is None
    assert "expire" in (SessionStore.clear_expired.__doc__ or "")


def test_corrupt_stored_values_are_no_session(
    session: SessionStore, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    from session_middleware.records import DataChanges

    session["a"] = 1
    session.save()
    assert session.session_id is not None
    assert store.save_changes(session.session_id, DataChanges(updated={"a": "{not json"}))
    with caplog.at_level(logging.WARNING, "session_middleware.security"):
        assert SessionStore(session.session_key).load() == {}
    assert any(r.name == "session_middleware.security" for r in caplog.records)


def test_the_test_cookie_helpers(session: SessionStore, arun: Run) -> None:
    session.set_test_cookie()
    assert session.test_cookie_worked() is True
    session.delete_test_cookie()
    assert session.test_cookie_worked() is False
    arun(session.aset_test_cookie())
    assert arun(session.atest_cookie_worked()) is True
    arun(session.adelete_test_cookie())
    assert arun(session.atest_cookie_worked()) is False


def test_async_create_opens_a_new_session(session: SessionStore, arun: Run) -> None:
    arun(session.aset("a", 1))
    arun(session.acreate())
    assert session.session_key is not None and session.modified is True
    assert arun(SessionStore(session.session_key).aget("a")) == 1
