"""Django's ``set_expiry()`` values as a record's idle timeout and absolute expiry."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from .config import MAX_TIMEOUT, DjangoConfig


def _timestamp(value: str) -> float:
    moment = datetime.fromisoformat(value)
    if timezone.is_naive(moment):  # set_expiry(datetime) under USE_TZ=False: the site's local time
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    return moment.timestamp()


def lifetime(expiry: object, *, now: float, opened: float, config: DjangoConfig) -> tuple[float, float]:
    """``(idle_timeout, absolute_expiry)`` of a record for Django's ``_session_expiry`` value.

    - ``None`` or ``0`` (a browser-session cookie): the configured timeouts.
    - seconds ``N``: ``N`` of inactivity end the session (``set_expiry(300)``), still
      within the absolute timeout.
    - a date (``set_expiry(datetime)`` / ``timedelta``): the session ends then, whatever
      its activity.

    An absolute expiry at or before ``now`` means: the session is over.
    """
    idle, absolute = config.idle_timeout, opened + config.absolute_timeout
    if isinstance(expiry, bool) or expiry is None or expiry == 0:
        return idle, absolute
    if isinstance(expiry, (int, float)):
        if expiry < 0:
            return idle, now
        return min(float(expiry), MAX_TIMEOUT), absolute
    if isinstance(expiry, str):
        try:
            until = _timestamp(expiry)
        except ValueError:
            return idle, absolute
        return min(max(idle, until - now), MAX_TIMEOUT), min(until, now + MAX_TIMEOUT)
    return idle, absolute
