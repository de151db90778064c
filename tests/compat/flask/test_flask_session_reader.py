"""Carrying Flask-Session's Redis sessions over (``migrate_from="flask-session"``): msgpack and
JSON are read, pickle never; a carried-over session leaves Flask-Session's keys."""

from __future__ import annotations

import json
import pickle
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import flask
import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st
from itsdangerous import Signer

from session_middleware import MemoryStore
from session_middleware.integrations._flask_session_migration import FlaskSessionRedis, MsgpackError, unpack
from session_middleware.integrations.flask import Session
from tests.support import fixtures
from tests.support.redis_server import RedisServer

redis_server = fixtures.redis_server
redis_prefix = fixtures.redis_prefix

# What Flask-Session 0.8 (msgspec's msgpack encoder) stored for these sessions, byte for byte.
SIMPLE = bytes.fromhex("82a576616c7565a23432aa5f7065726d616e656e74c3")
TYPES = bytes.fromhex(
    "de0010a16ec0a174c3a166c2a16907a36e6567d0dfa3626967cf0000010000000000a46e626967d3ffffff0000000000a2666ccb3ff8"
    "000000000000a173d950" + "c3a9" * 40 + "a162c40200ffa16c9201920203a3747570920102a16481a16181a16201a26474d7ffa1a5d6"
    "00695735a5a175d92430303030303030302d303030302d303030302d303030302d303030303030303030303035a85f666c617368657391"
    "92a4696e666fa26869"
)


def test_flask_sessions_msgpack_decodes_to_its_data() -> None:
    assert unpack(SIMPLE) == {"value": "42", "_permanent": True}
    assert unpack(TYPES) == {
        "n": None,
        "t": True,
        "f": False,
        "i": 7,
        "neg": -33,
        "big": 2**40,
        "nbig": -(2**40),
        "fl": 1.5,
        "s": "é" * 40,
        "b": b"\x00\xff",
        "l": [1, [2, 3]],
        "tup": [1, 2],
        "d": {"a": {"b": 1}},
        "dt": datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
        "u": "00000000-0000-0000-0000-000000000005",
        "_flashes": [["info", "hi"]],
    }


@pytest.mark.parametrize(
    "data",
    [
        b"",
        SIMPLE[:-1],  # truncated
        SIMPLE + b"\x00",  # trailing bytes
        b"\xc1",  # never used
        b"\x81\x01\x02",  # a map key that is not a string
        b"\xdd\xff\xff\xff\xff",  # an array longer than the data
        b"\x91" * 100 + b"\xc0",  # nested too deep
        b"\xd4\x05\x00",  # an unknown extension
    ],
)
def test_anything_but_one_session_value_is_refused(data: bytes) -> None:
    with pytest.raises(MsgpackError):
        unpack(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_the_decoder_only_ever_raises_its_own_error(data: bytes) -> None:
    try:
        unpack(data)
    except MsgpackError:
        pass


@pytest.fixture
def client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    connection = redis.Redis(host=redis_server.host, port=redis_server.port)
    try:
        yield connection
    finally:
        connection.close()


def stored(client: redis.Redis, prefix: str, raw: bytes) -> str:
    """A session as Flask-Session keeps it: its sid (the cookie) and the value under prefix + sid."""
    sid = secrets.token_urlsafe(32)
    client.set(prefix + sid, raw, ex=3600)
    return sid


def test_msgpack_and_json_sessions_are_read_and_pickle_never(client: redis.Redis, redis_prefix: str) -> None:
    reader = FlaskSessionRedis(client, prefix=redis_prefix, python_values=True)
    assert reader.read(stored(client, redis_prefix, SIMPLE)) == {"value": "42", "_permanent": True}
    assert reader.read(stored(client, redis_prefix, json.dumps({"a": [1]}).encode())) == {"a": [1]}
    pickled = stored(client, redis_prefix, pickle.dumps({"a": 1}))
    assert reader.read(pickled) is None
    assert client.exists(redis_prefix + pickled)  # left as it was
    assert reader.read("no-such-session") is None
    assert reader.read("not a sid!") is None


def test_a_carried_over_session_is_gone_from_flask_sessions_keys(client: redis.Redis, redis_prefix: str) -> None:
    reader = FlaskSessionRedis(client, prefix=redis_prefix)
    sid = stored(client, redis_prefix, TYPES)
    data = reader.read(sid)
    assert data is not None and data["b"] == {" b": "AP8="} and data["dt"] == {" d": "Fri, 02 Jan 2026 03:04:05 GMT"}
    assert not client.exists(redis_prefix + sid)
    assert reader.read(sid) is None  # the old cookie cannot bring it back


def test_signed_sids_are_verified_with_every_key(client: redis.Redis, redis_prefix: str) -> None:
    sid = stored(client, redis_prefix, SIMPLE)
    signed = Signer("old key", salt="flask-session", key_derivation="hmac").sign(sid).decode()
    assert FlaskSessionRedis(client, prefix=redis_prefix, secret_keys=["new key"], use_signer=True).read(signed) is None
    reader = FlaskSessionRedis(client, prefix=redis_prefix, secret_keys=["old key", "new key"], use_signer=True)
    assert reader.read(sid) is None  # unsigned, where a signature is required
    assert reader.read(signed) == {"value": "42", "_permanent": True}


def flask_session_app(client: redis.Redis, prefix: str, **init: Any) -> flask.Flask:
    app = flask.Flask(__name__)
    app.config.update(SECRET_KEY="flask-session app key", SESSION_TYPE="redis", SESSION_REDIS=client)
    app.config.update(SESSION_KEY_PREFIX=prefix)

    @app.get("/me")
    def me() -> dict[str, Any]:
        return {"value": flask.session.get("value"), "permanent": flask.session.permanent}

    Session(app, **init)
    return app


def test_switching_from_flask_session_keeps_users_signed_in(client: redis.Redis, redis_prefix: str) -> None:
    sid = stored(client, redis_prefix, SIMPLE)
    store = MemoryStore()
    browser = flask_session_app(client, redis_prefix, store=store, migrate_from="flask-session").test_client()
    browser.set_cookie("session", sid)
    assert browser.get("/me").json == {"value": "42", "permanent": True}
    ours = browser.get_cookie("session")
    assert ours is not None and ours.value != sid
    assert browser.get("/me").json == {"value": "42", "permanent": True}  # from our store now
    replay = flask_session_app(client, redis_prefix, store=store, migrate_from="flask-session").test_client()
    replay.set_cookie("session", sid)
    assert replay.get("/me").json == {"value": None, "permanent": True}


def test_migrating_from_flask_session_needs_its_redis_client() -> None:
    app = flask.Flask(__name__)
    app.config.update(SECRET_KEY="k")
    with pytest.raises(TypeError, match="SESSION_REDIS"):
        Session(app, migrate_from="flask-session")
