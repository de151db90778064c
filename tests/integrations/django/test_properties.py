"""Properties of the engine and the middleware over generated data and hostile cookies."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from session_middleware import MemoryStore
from session_middleware.integrations.django import SessionStore
from session_middleware.records import SessionRecord, encode_value
from session_middleware.testing.strategies import CookieForgery, cookie_forgeries, session_data

from .conftest import configure

FEW = hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FEW
@given(data=session_data(max_keys=6))
def test_json_data_survives_a_save_and_a_load(data: dict[str, Any]) -> None:
    with configure(store=MemoryStore()):
        session = SessionStore()
        session.update(data)
        session.save()
        assert dict(SessionStore(session.session_key).items()) == data


@FEW
@given(
    base=session_data(keys=st.sampled_from("abcdefgh"), max_keys=8),
    left=st.dictionaries(st.sampled_from("abcd"), st.none() | st.integers()),
    right=st.dictionaries(st.sampled_from("efgh"), st.none() | st.integers()),
)
def test_two_requests_changing_different_keys_both_keep_their_changes(
    base: dict[str, Any], left: dict[str, int | None], right: dict[str, int | None]
) -> None:
    """``None`` stands for deleting the key; everything else for setting it."""
    with configure(store=MemoryStore()):
        session = SessionStore()
        session.update(base)
        session["anchor"] = True  # never empty, so the session exists
        session.save()
        expected = dict(session.items())
        one, two = SessionStore(session.session_key), SessionStore(session.session_key)
        one.load(), two.load()
        for request, changes in ((one, left), (two, right)):
            for key, value in changes.items():
                if value is None:
                    request.pop(key, None)
                    expected.pop(key, None)
                else:
                    request[key] = value
                    expected[key] = value
        one.save()
        two.save()
        assert dict(SessionStore(session.session_key).items()) == expected


@FEW
@given(forgery=cookie_forgeries())
def test_hostile_cookies_are_no_session_and_never_an_error(forgery: CookieForgery) -> None:
    store = MemoryStore()
    case = forgery.build(settings.SECRET_KEY, settings.SESSION_COOKIE_NAME)
    with configure(store=store):
        if case.session_id is not None:
            now = time.time()
            record = SessionRecord(
                id=case.session_id,
                opened=now,
                last_request=now,
                idle_timeout=3600,
                absolute_expiry=now + 3600,
                data={"k": encode_value("k", "stored")},
            )
            assert store.create(record)
        response = Client().get("/get/k", headers={"cookie": case.header})
        assert response.status_code == 200
        expected = "stored" if case.names_session else None
        assert response.json() == {"value": expected}
        cleared = settings.SESSION_COOKIE_NAME in response.cookies
        assert cleared == case.must_clear
        if cleared:
            assert response.cookies[settings.SESSION_COOKIE_NAME].value == ""
