"""Readers of other libraries' signed cookie sessions, so that moving here logs nobody out.

An app that used cookie sessions (Starlette's ``SessionMiddleware``) has its users' data in
their cookies. With ``migrate_from="starlette"`` and the same secret key, a request whose
session cookie is not one of ours is read with :class:`StarletteCookie`; a valid value
becomes a new server-side session with that data, and our cookie replaces the old one.

A reader only ever answers "this data" or ``None``: a forged, expired, oversized or odd
value is no session, exactly like a bad cookie of ours, and never raises.
"""

from __future__ import annotations

import importlib
import json
import logging
import time
from base64 import b64decode
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from itsdangerous import BadData, TimestampSigner

from .records import encode_value

logger = logging.getLogger("session_middleware")

#: Browsers keep at most 4096 bytes per cookie; anything longer was never a real cookie.
MAX_LEGACY_COOKIE = 4096

Clock = Callable[[], float]


@runtime_checkable
class LegacyCookie(Protocol):
    """Reads the value of another library's session cookie."""

    def read(self, value: str) -> dict[str, Any] | None:
        """The session data in a valid cookie value, or ``None`` (never raises)."""
        ...


class _ClockedSigner(TimestampSigner):
    """itsdangerous' ``TimestampSigner`` on an injected clock (the store's), for expiry."""

    def __init__(self, secret_keys: list[bytes], clock: Clock) -> None:
        super().__init__(secret_keys)  # the newest signs, every key verifies
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock())


class StarletteCookie:
    """Starlette's cookie sessions: base64 of the JSON data, signed by itsdangerous'
    ``TimestampSigner`` with the app's secret key (its default salt and SHA-1 HMAC).

    :param secret_keys: the keys to try, oldest to newest (rotation): all verify.
    :param max_age: Starlette's ``max_age``: an older signature is expired; ``None``: no limit.
    :param clock: the current time in epoch seconds.
    """

    def __init__(self, secret_keys: Sequence[bytes], max_age: float | None, *, clock: Clock = time.time) -> None:
        if not secret_keys:
            raise ValueError("StarletteCookie needs the secret key(s) the app's Starlette sessions were signed with")
        self._signer = _ClockedSigner(list(secret_keys), clock)
        self.max_age = max_age

    def read(self, value: str) -> dict[str, Any] | None:
        if len(value) > MAX_LEGACY_COOKIE or not value.isascii():
            return None
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]  # a quoted cookie value, as Starlette's own parser accepts
        try:
            payload, signed_at = self._signer.unsign(value, return_timestamp=True)
            if self.max_age is not None:
                # As itsdangerous' own check (age > max_age), on the clock, in float seconds.
                age = self._signer.get_timestamp() - signed_at.timestamp()
                if age > self.max_age or age < 0:
                    return None
            data = json.loads(b64decode(payload))
        except (BadData, ValueError, OverflowError, RecursionError):
            # BadData: forged; ValueError: not base64, UTF-8 or JSON; OverflowError: a
            # timestamp out of range; RecursionError: JSON nested too deep.
            return None
        return _storable(data) if isinstance(data, dict) else None


def _storable(data: dict[str, Any]) -> dict[str, Any]:
    """The data without the values JSON cannot carry: Starlette's ``json.dumps`` writes NaN
    and Infinity, which the stores refuse; the rest of the session still carries over."""
    kept: dict[str, Any] = {}
    for key, value in data.items():
        try:
            encode_value(key, value)
        except TypeError:
            logger.warning("legacy session value for key %r is not JSON and was not carried over", key)
            continue
        kept[key] = value
    return kept


#: Names accepted by ``migrate_from``: each makes a reader from
#: ``(secret_keys, max_age, clock=clock)``. Other modules add theirs (``READERS["flask"]``).
READERS: dict[str, Callable[..., LegacyCookie]] = {"starlette": StarletteCookie}
#: Modules that register a reader when imported, for names not registered yet: a
#: framework's reader needs that framework, so it is imported only when asked for.
PROVIDERS = {"flask": "session_middleware.integrations._flask_migration"}


def legacy_reader(
    migrate_from: str | LegacyCookie | None,
    secret_keys: Sequence[bytes],
    max_age: float | None,
    *,
    clock: Clock = time.time,
) -> LegacyCookie | None:
    """The reader that the ``migrate_from`` option names.

    :param migrate_from: a name in :data:`READERS` (``"starlette"``), a reader of your own
        (anything with ``read(value) -> dict | None``), or ``None`` (no migration).
    :param secret_keys: the middleware's keys, oldest to newest.
    :param max_age: the legacy cookies' lifetime in seconds (``None``: unlimited).
    :param clock: the current time in epoch seconds.
    :raises ValueError: for any other value.
    """
    if migrate_from is None:
        return None
    if isinstance(migrate_from, str):
        name = migrate_from.lower()
        if name not in READERS and name in PROVIDERS:
            try:
                importlib.import_module(PROVIDERS[name])
            except ImportError as exc:
                raise ValueError(f"migrate_from={migrate_from!r} needs {exc.name or name!r} installed") from exc
        factory = READERS.get(name)
        if factory is None:
            raise ValueError(
                f"migrate_from={migrate_from!r} is not a known cookie format: use one of "
                f"{_known()}, or an object with a "
                "read(value) -> dict | None method"
            )
        return factory(secret_keys, max_age, clock=clock)
    if isinstance(migrate_from, LegacyCookie) and not isinstance(migrate_from, type):
        return migrate_from
    raise ValueError(
        f"migrate_from must be a cookie format name ({_known()}), "
        f"an object with a read(value) -> dict | None method, or None; got {type(migrate_from).__name__}"
    )


def _known() -> str:
    return ", ".join(repr(name) for name in sorted({*READERS, *PROVIDERS}))
