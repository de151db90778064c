"""The reader of Flask's own signed cookie sessions (``migrate_from="flask"``), on cookies Flask made."""

from __future__ import annotations

import time
import uuid
from typing import Any

import flask
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from session_middleware._migration import READERS, legacy_reader
from session_middleware.integrations._flask_migration import FlaskCookie

LIFETIME = 31 * 24 * 3600.0


def flask_cookie(data: dict[str, Any], secret_key: str = "flask key", fallbacks: list[str] | None = None) -> str:
    """The cookie value Flask's own session interface writes for ``data``."""
    app = flask.Flask(__name__)
    app.secret_key = secret_key
    app.config["SECRET_KEY_FALLBACKS"] = fallbacks or []
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert serializer is not None
    return str(serializer.dumps(data))


DATA = {"user": "ada", "cart": (1, 2), "raw": b"\x00\xff", "note": Markup("<b>hi</b>"), "_permanent": True}


def test_a_flask_cookie_gives_its_data_with_flasks_types() -> None:
    reader = FlaskCookie([b"flask key"], LIFETIME, python_values=True)
    assert reader.read(flask_cookie(DATA)) == DATA


def test_by_default_values_keep_their_tagged_json_form() -> None:
    reader = FlaskCookie([b"flask key"], LIFETIME)
    assert reader.read(flask_cookie(DATA)) == {
        "user": "ada",
        "cart": {" t": [1, 2]},
        "raw": {" b": "AP8="},
        "note": {" m": "<b>hi</b>"},
        "_permanent": True,
    }


def test_a_large_session_is_compressed_by_flask_and_still_read() -> None:
    data = {"text": "x" * 2000, "uuid": uuid.UUID(int=7)}
    value = flask_cookie(data)
    assert value.startswith(".")  # itsdangerous compressed it
    assert FlaskCookie([b"flask key"], LIFETIME, python_values=True).read(value) == data


def test_every_key_verifies_newest_last() -> None:
    old = flask_cookie({"a": 1}, secret_key="old key")
    reader = FlaskCookie(["old key", "new key"], LIFETIME)
    assert reader.read(old) == {"a": 1}
    assert reader.read(flask_cookie({"b": 2}, secret_key="new key")) == {"b": 2}
    assert FlaskCookie(["other key"], LIFETIME).read(old) is None


def test_a_cookie_older_than_the_lifetime_is_expired() -> None:
    value = flask_cookie({"a": 1})
    now = time.time()
    assert FlaskCookie(["flask key"], 3600, clock=lambda: now + 3000).read(value) == {"a": 1}
    assert FlaskCookie(["flask key"], 3600, clock=lambda: now + 3700).read(value) is None
    assert FlaskCookie(["flask key"], None, clock=lambda: now + 10**8).read(value) == {"a": 1}


def test_a_value_json_cannot_carry_is_left_behind() -> None:
    value = flask_cookie({"ok": 1, "bad": float("nan")})  # Flask's cookie JSON allows NaN
    assert FlaskCookie(["flask key"], LIFETIME).read(value) == {"ok": 1}


def test_the_name_flask_is_registered_for_migrate_from() -> None:
    assert READERS["flask"] is FlaskCookie
    reader = legacy_reader("flask", [b"flask key"], LIFETIME)
    assert reader is not None and reader.read(flask_cookie({"a": (1,)})) == {"a": {" t": [1]}}


def test_no_key_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="SECRET_KEY"):
        FlaskCookie([], LIFETIME)


#: Shaped like a Flask cookie (payload, timestamp, signature) but signed by no one.
LOOKALIKE = st.from_regex(r"\.?[A-Za-z0-9_-]{0,80}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27}", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300) | LOOKALIKE)
def test_anything_else_is_no_session_and_never_raises(value: str) -> None:
    assert FlaskCookie(["flask key"], LIFETIME).read(value) is None


def test_tampering_is_no_session() -> None:
    value = flask_cookie({"admin": False})
    payload, timestamp, signature = value.rsplit(".", 2)
    forged = flask_cookie({"admin": True}, secret_key="attacker").rsplit(".", 2)[0]
    reader = FlaskCookie(["flask key"], LIFETIME)
    assert reader.read(f"{forged}.{timestamp}.{signature}") is None
    flipped = "B" if signature[0] == "A" else "A"  # the first character: the last may only carry padding bits
    assert reader.read(f"{payload}.{timestamp}.{flipped}{signature[1:]}") is None
    assert reader.read("x" * 5000) is None
