"""Legacy cookie readers: Starlette's real cookies read back; anything else reads as no session."""

from __future__ import annotations

import json
import time
from base64 import b64encode
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.datastructures import Secret

from session_middleware._migration import READERS, LegacyCookie, StarletteCookie, legacy_reader

from .legacy import encoded, session_data, signed_like_starlette, starlette_cookie, starlette_reads

SECRET = "starlette-app-secret"
OTHER = "another-apps-secret"
KEYS = [SECRET.encode()]
DAY = 24 * 3600.0

fast = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@fast
@given(session_data)
def test_every_cookie_starlette_sets_reads_back_equal(data: dict[str, Any]) -> None:
    value = starlette_cookie(data, SECRET)
    if len(value) > 4096:
        assert StarletteCookie(KEYS, 14 * DAY).read(value) is None
    else:
        assert StarletteCookie(KEYS, 14 * DAY).read(value) == data
        assert StarletteCookie(KEYS, None).read(value) == data


@fast
@given(session_data)
def test_a_secret_object_and_rotated_keys_read_the_same_cookies(data: dict[str, Any]) -> None:
    value = starlette_cookie(data, Secret(SECRET))
    rotated = StarletteCookie([SECRET.encode(), b"the-new-key-0123456789abcdef0123456789"], None)
    assert rotated.read(value) == StarletteCookie([b"the-new-key", SECRET.encode()], None).read(value)
    assert rotated.read(value) == (data if len(value) <= 4096 else None)


@fast
@given(session_data, st.data())
def test_any_tampering_reads_as_no_session(data: dict[str, Any], draw: st.DataObject) -> None:
    value = starlette_cookie(data, SECRET)
    position = draw.draw(st.integers(0, len(value) - 1))
    replacement = draw.draw(st.characters(codec="ascii").filter(lambda c: c != value[position]))
    tampered = value[:position] + replacement + value[position + 1 :]
    read = StarletteCookie(KEYS, None).read(tampered)
    # Starlette itself finds nothing in it either (its empty dict: our None).
    assert read is None or read == starlette_reads(tampered, SECRET, max_age=None) == data


@fast
@given(session_data)
def test_another_key_reads_nothing(data: dict[str, Any]) -> None:
    value = starlette_cookie(data, OTHER)
    assert StarletteCookie(KEYS, None).read(value) is None


@fast
@given(st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1")))
def test_garbage_never_raises(value: str) -> None:
    assert StarletteCookie(KEYS, 60).read(value) is None
    assert StarletteCookie(KEYS, None).read(value) is None


@fast
@given(session_data, st.floats(1, 30 * DAY))
def test_max_age_is_honoured_on_the_clock(data: dict[str, Any], max_age: float) -> None:
    value = starlette_cookie(data, SECRET)
    signed = int(time.time())  # Starlette signs in whole seconds
    fresh = StarletteCookie(KEYS, max_age, clock=lambda: signed + max_age - 1)
    expired = StarletteCookie(KEYS, max_age, clock=lambda: signed + max_age + 2)
    unlimited = StarletteCookie(KEYS, None, clock=lambda: signed + 100 * 365 * DAY)
    expected = data if len(value) <= 4096 else None
    assert fresh.read(value) == expected
    assert unlimited.read(value) == expected
    assert expired.read(value) is None


def test_an_expired_starlette_cookie_is_no_session_for_starlette_either() -> None:
    value = signed_like_starlette(encoded({"user": "ada"}), SECRET, at=time.time() - 2 * DAY)
    assert starlette_reads(value, SECRET, max_age=int(DAY)) == {}
    assert StarletteCookie(KEYS, DAY).read(value) is None
    assert StarletteCookie(KEYS, None).read(value) == {"user": "ada"}
    assert starlette_reads(value, SECRET, max_age=None) == {"user": "ada"}


@pytest.mark.parametrize("max_age", [0, -1])
def test_a_non_positive_max_age_reads_an_old_cookie_as_nothing(max_age: int) -> None:
    value = signed_like_starlette(encoded({"a": 1}), SECRET, at=time.time() - 5)
    assert StarletteCookie(KEYS, max_age).read(value) is None


def test_a_cookie_signed_in_the_future_is_refused_when_ages_count() -> None:
    value = signed_like_starlette(encoded({"a": 1}), SECRET, at=time.time() + 3600)
    assert StarletteCookie(KEYS, DAY).read(value) is None


@pytest.mark.parametrize(
    "payload",
    [
        encoded([1, 2, 3]),
        encoded("text"),
        encoded(None),
        b"not base64 at all!",
        b"e30",  # base64 of "{}" without its padding
        b"//79",  # base64 of bytes that are not UTF-8
        encoded({"a": 1})[:-4],
        b64encode(b"{'a': 1}"),  # a Python repr, not JSON
        b64encode(b"[" * 2000 + b"]" * 2000)[:3000],
    ],
)
def test_a_validly_signed_value_that_is_not_a_json_object_is_no_session(payload: bytes) -> None:
    assert StarletteCookie(KEYS, None).read(signed_like_starlette(payload, SECRET)) is None


def test_json_nested_too_deep_to_parse_is_no_session_and_does_not_raise() -> None:
    depth = 1500  # beyond the interpreter's recursion limit, within a cookie's 4096 bytes
    deep = b64encode(b'{"a": ' + b"[" * depth + b"]" * depth + b"}")
    value = signed_like_starlette(deep, SECRET)
    assert len(value) <= 4096
    read = StarletteCookie(KEYS, None).read(value)
    assert read is None or read == json.loads(b'{"a": ' + b"[" * depth + b"]" * depth + b"}")


def test_an_oversized_value_is_refused_even_if_validly_signed() -> None:
    value = starlette_cookie({"blob": "x" * 4000}, SECRET)
    assert len(value) > 4096
    assert starlette_reads(value, SECRET) == {"blob": "x" * 4000}  # Starlette would, browsers would not
    assert StarletteCookie(KEYS, None).read(value) is None


def test_a_quoted_value_reads_as_the_bare_one() -> None:
    value = starlette_cookie({"a": 1}, SECRET)
    assert StarletteCookie(KEYS, None).read(f'"{value}"') == {"a": 1}


def test_an_empty_key_list_is_refused() -> None:
    with pytest.raises(ValueError, match="secret key"):
        StarletteCookie([], None)


class _Custom:
    def read(self, value: str) -> dict[str, Any] | None:
        return {"custom": value} if value == "ok" else None


def test_legacy_reader_resolves_names_instances_and_none() -> None:
    reader = legacy_reader("starlette", KEYS, 60)
    assert isinstance(reader, StarletteCookie) and reader.max_age == 60
    assert isinstance(legacy_reader("Starlette", KEYS, None), StarletteCookie)
    custom = _Custom()
    assert legacy_reader(custom, KEYS, None) is custom
    assert isinstance(custom, LegacyCookie)
    assert legacy_reader(None, KEYS, None) is None


def test_the_factory_reader_uses_the_given_clock() -> None:
    value = starlette_cookie({"a": 1}, SECRET)
    reader = legacy_reader("starlette", KEYS, 60, clock=lambda: time.time() + 3600)
    assert reader is not None and reader.read(value) is None


@pytest.mark.parametrize("bad", ["django", "", "starlette ", 42, StarletteCookie, ["starlette"]])
def test_legacy_reader_refuses_anything_else_clearly(bad: Any) -> None:
    with pytest.raises(ValueError, match="'starlette'"):
        legacy_reader(bad, KEYS, None)


def test_the_registry_takes_new_formats(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(READERS, "custom", lambda keys, max_age, clock: _Custom())
    reader = legacy_reader("custom", KEYS, None)
    assert reader is not None and reader.read("ok") == {"custom": "ok"}


def test_values_json_cannot_carry_are_left_out_and_the_rest_carries_over(caplog: pytest.LogCaptureFixture) -> None:
    value = starlette_cookie({"user": "ada", "score": float("nan"), "limits": [1, float("inf")]}, SECRET)
    assert StarletteCookie(KEYS, None).read(value) == {"user": "ada"}
    assert "'score'" in caplog.text and "'limits'" in caplog.text


def test_flask_is_known_by_name_and_imported_only_when_asked_for() -> None:
    reader = legacy_reader("flask", KEYS, 60)
    assert reader is not None and READERS["flask"] is type(reader)
    assert reader.read("garbage") is None
