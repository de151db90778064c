"""Reading Flask-Session's Redis sessions, so that switching from Flask-Session logs nobody out.

Flask-Session (0.7 and later) keeps each session in Redis as one string under
``SESSION_KEY_PREFIX + sid``: msgpack by default, JSON when configured so, and pickle for
sessions written by versions before 0.7. The cookie is the bare ``sid``, or the ``sid``
signed by itsdangerous' ``Signer`` (salt ``"flask-session"``) with ``SESSION_USE_SIGNER``.

This reader decodes msgpack and JSON with a small decoder of its own (no dependency), and
never pickle: a value that is neither is no session, and its user signs in once. A
session that is carried over is deleted from Flask-Session's keys, so an old cookie
cannot bring it back after the user signs out here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import struct
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.sessions import session_json_serializer
from itsdangerous import BadData, Signer

from ._flask_codec import TaggedJSONCodec

logger = logging.getLogger("session_middleware")

#: Flask-Session's signer salt (``SESSION_USE_SIGNER``).
FLASK_SESSION_SALT = "flask-session"
#: Longest sid accepted from a cookie; Flask-Session's are 43 characters by default.
MAX_SID_LENGTH = 256
#: Deepest nesting the decoder follows (a session is a few levels deep).
MAX_DEPTH = 32
_SID_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class MsgpackError(ValueError):
    """Bytes that are not one msgpack value of the kinds a session holds."""


class _Reader:
    """A bounded msgpack decoder: maps (string keys), arrays, strings, binary, numbers,
    booleans, nil and timestamps. Every length is checked against the bytes left before
    anything is built, so a hostile value costs no more than its own size."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.data):
            raise MsgpackError("truncated")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def number(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def count(self, n: int) -> int:
        if n > len(self.data) - self.pos:  # each element takes at least one byte
            raise MsgpackError("length beyond the data")
        return n

    def value(self, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise MsgpackError("nested too deep")
        byte = self.take(1)[0]
        if byte <= 0x7F:
            return byte
        if byte >= 0xE0:
            return byte - 0x100
        if 0x80 <= byte <= 0x8F:
            return self.mapping(byte & 0x0F, depth)
        if 0x90 <= byte <= 0x9F:
            return self.array(byte & 0x0F, depth)
        if 0xA0 <= byte <= 0xBF:
            return self.text(byte & 0x1F)
        simple = _SIMPLE.get(byte)
        if simple is not None:
            kind, fmt = simple
            if kind == "const":
                return _CONSTANTS[byte]
            if kind == "num":
                return self.number(fmt)
            size = self.number(fmt)
            if kind == "str":
                return self.text(size)
            if kind == "bin":
                return self.take(self.count(size))
            if kind == "array":
                return self.array(size, depth)
            if kind == "map":
                return self.mapping(size, depth)
            if kind == "ext":
                return self.extension(size)
        fixext = _FIXEXT.get(byte)
        if fixext is not None:
            return self.extension(fixext)
        raise MsgpackError(f"unsupported type byte 0x{byte:02x}")

    def text(self, size: int) -> str:
        try:
            return self.take(self.count(size)).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MsgpackError("string is not UTF-8") from exc

    def array(self, size: int, depth: int) -> list[Any]:
        return [self.value(depth + 1) for _ in range(self.count(size))]

    def mapping(self, size: int, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for _ in range(self.count(size)):
            key = self.value(depth + 1)
            if not isinstance(key, str):
                raise MsgpackError("map key is not a string")
            result[key] = self.value(depth + 1)
        return result

    def extension(self, size: int) -> datetime:
        kind = struct.unpack(">b", self.take(1))[0]
        payload = self.take(self.count(size))
        if kind != -1:
            raise MsgpackError(f"unsupported extension type {kind}")
        if size == 4:
            seconds, nanoseconds = struct.unpack(">I", payload)[0], 0
        elif size == 8:
            packed = struct.unpack(">Q", payload)[0]
            seconds, nanoseconds = packed & 0x3_FFFF_FFFF, packed >> 34
        elif size == 12:
            nanoseconds, seconds = struct.unpack(">Iq", payload)
        else:
            raise MsgpackError("bad timestamp")
        try:
            return _EPOCH + timedelta(seconds=seconds, microseconds=nanoseconds // 1000)
        except OverflowError as exc:
            raise MsgpackError("timestamp out of range") from exc


_CONSTANTS = {0xC0: None, 0xC2: False, 0xC3: True}
_SIMPLE: dict[int, tuple[str, str]] = {
    **{code: ("const", "") for code in _CONSTANTS},
    0xC4: ("bin", ">B"), 0xC5: ("bin", ">H"), 0xC6: ("bin", ">I"),
    0xC7: ("ext", ">B"), 0xC8: ("ext", ">H"), 0xC9: ("ext", ">I"),
    0xCA: ("num", ">f"), 0xCB: ("num", ">d"),
    0xCC: ("num", ">B"), 0xCD: ("num", ">H"), 0xCE: ("num", ">I"), 0xCF: ("num", ">Q"),
    0xD0: ("num", ">b"), 0xD1: ("num", ">h"), 0xD2: ("num", ">i"), 0xD3: ("num", ">q"),
    0xD9: ("str", ">B"), 0xDA: ("str", ">H"), 0xDB: ("str", ">I"),
    0xDC: ("array", ">H"), 0xDD: ("array", ">I"),
    0xDE: ("map", ">H"), 0xDF: ("map", ">I"),
}  # fmt: skip
_FIXEXT = {0xD4: 1, 0xD5: 2, 0xD6: 4, 0xD7: 8, 0xD8: 16}


def unpack(data: bytes) -> Any:
    """The one msgpack value in ``data``.

    :raises MsgpackError: if ``data`` is anything else (trailing bytes included).
    """
    reader = _Reader(data)
    value = reader.value()
    if reader.pos != len(data):
        raise MsgpackError("trailing bytes")
    return value


def decode_session(raw: bytes) -> dict[str, Any] | None:
    """A Flask-Session value as its data: msgpack, else JSON; never pickle."""
    for decode in (unpack, json.loads):
        try:
            data = decode(raw)
        except (ValueError, RecursionError):
            continue
        return data if isinstance(data, dict) else None
    return None


def _sha1(data: bytes = b"") -> Any:
    return hashlib.sha1(data)  # noqa: S324 - Flask-Session's signer, verified, never used to sign


class FlaskSessionRedis:
    """Reads the session a Flask-Session cookie names from Flask-Session's Redis.

    :param client: the app's ``redis.Redis`` (``SESSION_REDIS``), without ``decode_responses``.
    :param prefix: ``SESSION_KEY_PREFIX``.
    :param secret_keys: the app's keys, oldest to newest, when ``use_signer`` is set.
    :param use_signer: ``SESSION_USE_SIGNER``: the cookie is the signed sid.
    :param python_values: give values as decoded (bytes, datetimes), for a session that
        stores Flask's tagged JSON; False: each value in its tagged JSON form.
    """

    def __init__(
        self,
        client: Any,
        *,
        prefix: str = "session:",
        secret_keys: Sequence[str | bytes] = (),
        use_signer: bool = False,
        python_values: bool = False,
    ) -> None:
        if use_signer and not secret_keys:
            raise ValueError("SESSION_USE_SIGNER sessions need the SECRET_KEY they were signed with")
        self.client = client
        self.prefix = prefix
        self.python_values = python_values
        self._signers = [
            Signer(key, salt=FLASK_SESSION_SALT, key_derivation="hmac", digest_method=_sha1)
            for key in reversed(secret_keys)
        ]
        self._use_signer = use_signer
        self._codec = TaggedJSONCodec()

    def read(self, value: str) -> dict[str, Any] | None:
        """The data of the Flask-Session session ``value`` names, or ``None``. Never raises
        for a bad value; a Redis failure is logged and is no session."""
        sid = self._sid(value)
        if sid is None:
            return None
        import redis

        key = self.prefix + sid
        try:
            raw = self.client.get(key)
        except redis.RedisError as exc:
            logger.warning("could not read a Flask-Session session: %s", type(exc).__name__)
            return None
        if not isinstance(raw, bytes):
            return None
        data = decode_session(raw)
        if data is None:
            return None
        try:
            self.client.delete(key)  # carried over: the old cookie must not bring it back
        except redis.RedisError as exc:
            logger.warning("could not delete a carried-over Flask-Session session: %s", type(exc).__name__)
        return self._storable(data)

    def _sid(self, value: str) -> str | None:
        if not value or len(value) > 2 * MAX_SID_LENGTH or not value.isascii():
            return None
        if self._use_signer:
            for signer in self._signers:
                try:
                    value = signer.unsign(value).decode()
                    break
                except BadData:
                    continue
            else:
                return None
        if len(value) > MAX_SID_LENGTH or not _SID_ALPHABET.issuperset(value):
            return None
        return value

    def _storable(self, data: dict[str, Any]) -> dict[str, Any]:
        kept: dict[str, Any] = {}
        for key, value in data.items():
            try:
                self._codec.encode(key, value)
            except TypeError:
                logger.warning("Flask-Session value for key %r is not JSON and was not carried over", key)
                continue
            kept[key] = value if self.python_values else session_json_serializer.tag(value)
        return kept
