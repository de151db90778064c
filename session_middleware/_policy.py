"""Lifetimes and limits, written once for the middleware, the REST API and the service."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from .records import SessionRecord

#: A session with no request for this long is gone (24 hours).
DEFAULT_IDLE_TIMEOUT = 24 * 3600.0
#: A session is gone this long after it opened, however active (14 days).
DEFAULT_ABSOLUTE_TIMEOUT = 14 * 24 * 3600.0
#: The longest gap between refreshes of ``last_request`` by default (see ``touch_interval``).
MAX_DEFAULT_TOUCH_INTERVAL = 60.0
#: Longest accepted timeout (100 years): the cookie's Expires date must stay representable.
MAX_TIMEOUT = 100 * 365 * 24 * 3600.0
#: Seconds a client is told to wait when the store is unavailable.
RETRY_AFTER_SECONDS = 2

Seconds = float | timedelta


def seconds(value: Seconds, name: str, *, allow_zero: bool = False) -> float:
    """``value`` in seconds, checked: positive (or zero when allowed), finite, at most 100 years.

    :raises ValueError: naming the option.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, timedelta)):
        raise TypeError(f"{name} must be a number of seconds or a timedelta, not {type(value).__name__}")
    number = value.total_seconds() if isinstance(value, timedelta) else float(value)
    low_ok = number >= 0 if allow_zero else number > 0
    if not (low_ok and number <= MAX_TIMEOUT):  # also refuses NaN and infinity
        least = "zero or more" if allow_zero else "a positive number of"
        raise ValueError(f"{name} must be {least} seconds, at most 100 years")
    return number


@dataclass(frozen=True, slots=True)
class Policy:
    """How long sessions live, how often a request refreshes them, and how many a user keeps.

    Build it with :meth:`make`, which checks every value; the REST API takes the same
    object from the middleware that mounts it, so both open sessions alike.
    """

    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    absolute_timeout: float = DEFAULT_ABSOLUTE_TIMEOUT
    touch_interval: float = MAX_DEFAULT_TOUCH_INTERVAL
    max_sessions_per_user: int | None = None

    @classmethod
    def make(
        cls,
        *,
        idle_timeout: Seconds = DEFAULT_IDLE_TIMEOUT,
        absolute_timeout: Seconds = DEFAULT_ABSOLUTE_TIMEOUT,
        touch_interval: Seconds | None = None,
        max_sessions_per_user: int | None = None,
    ) -> Policy:
        """A checked policy; ``touch_interval=None`` is the smaller of 60 s and a tenth of the idle timeout.

        :raises ValueError, TypeError: naming the option that is wrong.
        """
        idle = seconds(idle_timeout, "idle_timeout")
        absolute = seconds(absolute_timeout, "absolute_timeout")
        if touch_interval is None:
            touch = min(MAX_DEFAULT_TOUCH_INTERVAL, idle / 10)
        else:
            touch = seconds(touch_interval, "touch_interval", allow_zero=True)
            if touch >= idle:
                raise ValueError(
                    "touch_interval must be shorter than idle_timeout, or sessions would expire while used"
                )
        if max_sessions_per_user is not None and (
            isinstance(max_sessions_per_user, bool) or not isinstance(max_sessions_per_user, int)
        ):
            raise TypeError("max_sessions_per_user must be an int or None")
        if max_sessions_per_user is not None and max_sessions_per_user < 1:
            raise ValueError("max_sessions_per_user must be at least 1 (or None)")
        return cls(idle, absolute, touch, max_sessions_per_user)

    def cap(self, user: Mapping[str, Any] | None) -> int | None:
        """The per-user cap that applies when a session with ``user`` is created."""
        return self.max_sessions_per_user if user is not None else None

    def new_record(
        self,
        session_id: str,
        now: float,
        *,
        address: str,
        client: str,
        user: Mapping[str, Any] | None,
        data: Mapping[str, str],
    ) -> SessionRecord:
        """The one way a new session's record is built: opened and last seen ``now``."""
        return SessionRecord(
            id=session_id,
            opened=now,
            last_request=now,
            idle_timeout=self.idle_timeout,
            absolute_expiry=now + self.absolute_timeout,
            address=address,
            client=client,
            user=user,
            data=data,
        )
