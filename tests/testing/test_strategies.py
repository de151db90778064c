"""The kit's strategies produce what they promise, checked against the package itself."""

from __future__ import annotations

import ipaddress
import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from session_middleware._core import SessionCore
from session_middleware.records import decode_value, encode_value, is_session_id, validate_user
from session_middleware.testing import strategies
from session_middleware.testing.app_model import canonical
from session_middleware.testing.strategies import COOKIE_KINDS, CookieCase

KEY = "a test key of more than thirty-two bytes, for signing"
ROTATED = ["an older key of more than thirty-two bytes, still valid", KEY]
core = SessionCore(secret_key=KEY)
rotating_core = SessionCore(secret_key=ROTATED)


@settings(max_examples=300)
@given(strategies.cookie_cases(KEY))
def test_cookie_cases_mean_what_they_say(case: CookieCase) -> None:
    state = core.read_cookie(case.header)
    assert state.session_id == case.session_id, case
    assert state.stale == case.must_clear, case
    if case.kind == "absent":
        assert not state.stale and state.session_id is None


@given(strategies.cookie_cases(ROTATED, cookie_name="__Host-sid", kinds=["valid", "shadowed"]))
def test_valid_cookies_are_signed_with_the_newest_key(case: CookieCase) -> None:
    state = SessionCore(secret_key=ROTATED, cookie_name="__Host-sid").read_cookie(case.header)
    assert state.session_id == case.session_id and state.current_key


def test_every_cookie_kind_is_drawn() -> None:
    seen: set[str] = set()

    @settings(max_examples=400, database=None)
    @given(strategies.cookie_cases(KEY))
    def collect(case: CookieCase) -> None:
        seen.add(case.kind)

    collect()
    assert seen == set(COOKIE_KINDS)


@given(strategies.cookie_headers(KEY))
def test_cookie_headers_are_latin1_text(header: str) -> None:
    header.encode("latin-1")  # what an HTTP header can carry
    core.read_cookie(header)  # and never raises


@given(strategies.json_values())
def test_json_values_survive_the_session_codec(value: Any) -> None:
    text = encode_value("key", value)
    assert canonical(decode_value(text)) == canonical(value)
    assert canonical(json.loads(json.dumps(value))) == canonical(value)


@given(strategies.json_values(printable=True))
def test_printable_json_values_hold_printable_text(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            assert item.isprintable(), repr(item)
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, float):
            assert math.isfinite(item)


@given(strategies.session_data(min_keys=1))
def test_session_data_is_a_json_object(data: dict[str, Any]) -> None:
    assert data and all(isinstance(key, str) for key in data)
    encode_value("data", data)


@given(strategies.users())
def test_users_are_valid_logins(user: dict[str, Any]) -> None:
    assert validate_user(user) == user
    assert "/" not in user["id"]


@given(strategies.client_addresses())
def test_client_addresses_are_canonical(address: str) -> None:
    assert str(ipaddress.ip_address(address)) == address


@given(strategies.user_agents())
def test_user_agents_are_header_values(agent: str) -> None:
    assert agent and agent == agent.strip() and agent.isascii() and agent.isprintable()


@given(strategies.session_ids())
def test_session_ids_have_the_package_shape(session_id: str) -> None:
    assert is_session_id(session_id)


@given(st.data())
def test_forgeries_build_with_any_key(data: st.DataObject) -> None:
    forgery = data.draw(strategies.cookie_forgeries(kinds=["tampered", "truncated", "foreign_key"]))
    key = data.draw(st.text(min_size=32, max_size=40).filter(lambda k: len(k.encode()) >= 32))
    case = forgery.build(key, "sid")
    assert SessionCore(secret_key=key, cookie_name="sid").read_cookie(case.header).stale
