"""Reading Flask's own signed cookie sessions, so that switching to server-side sessions logs nobody out.

Flask's default session (``SecureCookieSessionInterface``) keeps the data in the cookie:
tagged JSON (``TaggedJSONSerializer``), optionally zlib-compressed, base64url-encoded and
signed by itsdangerous' ``URLSafeTimedSerializer`` with the app's ``SECRET_KEY`` (and its
``SECRET_KEY_FALLBACKS``), salt ``"cookie-session"``, HMAC-SHA1 key derivation. Flask
refuses a cookie signed longer ago than ``PERMANENT_SESSION_LIFETIME``; so does this reader.

Importing this module registers the reader as ``migrate_from="flask"``.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from flask.json.tag import TaggedJSONSerializer
from flask.sessions import session_json_serializer
from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

from .._migration import MAX_LEGACY_COOKIE, READERS
from ._flask_codec import TaggedJSONCodec

logger = logging.getLogger("session_middleware")

#: Flask's ``SecureCookieSessionInterface.salt``.
FLASK_COOKIE_SALT = "cookie-session"

Clock = Callable[[], float]


def _sha1(data: bytes = b"") -> Any:
    # Looked up when called, as Flask does: a FIPS build may lack SHA-1 until it is used.
    return hashlib.sha1(data)  # noqa: S324 - Flask's cookie format, verified, never used to sign


def _clocked_signer(clock: Clock) -> type[TimestampSigner]:
    """itsdangerous' ``TimestampSigner`` on ``clock`` (the store's), so expiry is testable."""

    class ClockedSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock())

    return ClockedSigner


class FlaskCookie:
    """Reads the value of a Flask session cookie: its data, or ``None``.

    :param secret_keys: Flask's ``SECRET_KEY_FALLBACKS`` then ``SECRET_KEY``, oldest to
        newest; a cookie signed with any of them is read.
    :param max_age: ``PERMANENT_SESSION_LIFETIME`` in seconds: a cookie signed longer ago
        is expired, as Flask would treat it; ``None``: no limit.
    :param clock: the current time in epoch seconds.
    :param python_values: give each value as Flask gives it to the app (tuples, bytes,
        ``Markup``, ``UUID``, ``datetime``), for a session that stores values with
        :class:`~session_middleware.integrations._flask_codec.TaggedJSONCodec`. False (the
        default, for the plain-JSON middleware): each value in its tagged JSON form
        (``{" t": [1, 2]}``), which is the text that codec would store.
    :param serializer: the tagged JSON serializer the app's sessions used (Flask's own
        by default, with any tags the app registered on it).
    """

    def __init__(
        self,
        secret_keys: Sequence[str | bytes],
        max_age: float | None,
        *,
        clock: Clock = time.time,
        python_values: bool = False,
        serializer: TaggedJSONSerializer | None = None,
    ) -> None:
        keys = [key.encode() if isinstance(key, str) else bytes(key) for key in secret_keys if key]
        if not keys:
            raise ValueError("reading Flask's cookie sessions needs the SECRET_KEY they were signed with")
        self.max_age = None if max_age is None else int(max_age)
        self.python_values = python_values
        self._tags = session_json_serializer if serializer is None else serializer
        self._codec = TaggedJSONCodec(self._tags)
        self._serializer = URLSafeTimedSerializer(
            keys,  # itsdangerous: the last signs, every one verifies
            salt=FLASK_COOKIE_SALT,
            serializer=self._tags,
            signer=_clocked_signer(clock),
            signer_kwargs={"key_derivation": "hmac", "digest_method": _sha1},
        )

    def read(self, value: str) -> dict[str, Any] | None:
        """The session data of a valid, unexpired Flask cookie value; ``None`` for anything
        else (forged, expired, oversized, not Flask's). Never raises."""
        if not value or len(value) > MAX_LEGACY_COOKIE or not value.isascii():
            return None
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        try:
            data = self._serializer.loads(value, max_age=self.max_age)
        except (BadData, ValueError, TypeError, KeyError, OverflowError, RecursionError):
            # BadData: forged, expired or not base64/zlib; the others: a signed payload whose
            # JSON or tags do not decode (only a holder of the key could have made one).
            return None
        if not isinstance(data, dict):
            return None
        return self._storable(data)

    def _storable(self, data: dict[str, Any]) -> dict[str, Any]:
        """Each value in the form asked for, leaving out any that JSON cannot carry (Flask's
        cookie JSON allows NaN; the store's does not)."""
        kept: dict[str, Any] = {}
        for key, value in data.items():
            try:
                self._codec.encode(key, value)
            except TypeError:
                logger.warning("Flask session value for key %r is not JSON and was not carried over", key)
                continue
            kept[key] = value if self.python_values else self._tags.tag(value)
        return kept


READERS["flask"] = FlaskCookie
