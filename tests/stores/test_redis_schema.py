"""The Redis record codec: every shape a reply comes in decodes to the record stored."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from session_middleware.records import SessionRecord, new_session_id
from session_middleware.stores._redis_schema import decode, decode_record, digest, record_fields

NOW = 1_700_000_000.25


def _record(**changes: Any) -> SessionRecord:
    user = changes.pop("user", {"id": "alice", "name": "Alice"})
    return SessionRecord(
        id=new_session_id(None if user is None else user["id"]),
        opened=NOW,
        last_request=NOW + 1.5,
        idle_timeout=1800.0,
        absolute_expiry=NOW + 86400,
        address="2001:db8::1",
        client="Browser/1.0",
        user=user,
        data=changes.pop("data", {"cart": json.dumps([1, 2]), "name": json.dumps("é\ud800")}),
    )


def _hgetall_bytes(flat: list[bytes]) -> Any:
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _hgetall_text(flat: list[bytes]) -> Any:  # a client with decode_responses=True
    return {decode(k): decode(v) for k, v in _hgetall_bytes(flat).items()}


def _script_bytes(flat: list[bytes]) -> Any:
    return list(flat)


def _script_text(flat: list[bytes]) -> Any:
    return [decode(item) for item in flat]


SHAPES: list[Callable[[list[bytes]], Any]] = [_hgetall_bytes, _hgetall_text, _script_bytes, _script_text]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("user", [{"id": "alice", "name": "Alice"}, None])
def test_every_reply_shape_decodes_to_the_record(shape: Callable[[list[bytes]], Any], user: Any) -> None:
    record = _record(user=user)
    reply = shape(record_fields(record))
    assert decode_record(reply, digest(record.id)) == record
    assert decode_record(reply, "another token") is None  # not the record stored there
    assert decode_record(reply, digest(record.id), new_session_id()) is None


@pytest.mark.parametrize(
    "damage",
    [
        lambda f: f.pop(b"v"),
        lambda f: f.update({b"v": b"999"}),
        lambda f: f.update({b"opened": b"nan"}),
        lambda f: f.update({b"idle_timeout": b"0"}),
        lambda f: f.update({b"d:cart": b"[1,"}),
        lambda f: f.update({b"uid": b"mallory"}),
        lambda f: f.pop(b"user"),
        lambda f: f.pop(b"address"),
    ],
)
def test_a_damaged_record_is_no_record(damage: Callable[[dict[bytes, bytes]], Any]) -> None:
    record = _record()
    fields = _hgetall_bytes(record_fields(record))
    damage(fields)
    assert decode_record(fields, digest(record.id)) is None


@pytest.mark.parametrize("name", [b"future", b"", b"d", b"dx", b"d;k", b"D:k", b":k"])
def test_unknown_fields_are_not_data(name: bytes) -> None:
    record = _record()
    fields = _hgetall_bytes(record_fields(record))
    fields[name] = b"not json"
    assert decode_record(fields, digest(record.id)) == record
