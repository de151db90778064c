"""Flask's session settings, read from ``app.config`` when Flask itself would read them.

Flask reads the secret keys and the cookie name when a request opens its session, and the
cookie's attributes when the response saves it, so an app may change ``app.secret_key``
or ``SESSION_COOKIE_SAMESITE`` while it runs (tests do). These helpers do the same;
explicit keyword arguments to ``init_app`` win over the config. Flask-Session's settings
(``SESSION_TYPE``, ``SESSION_REDIS``, ``SESSION_KEY_PREFIX``, ``SESSION_PERMANENT``) are
read once, when ``init_app`` runs, as Flask-Session reads them.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .._cookies import CookieSettings
from .._policy import DEFAULT_ABSOLUTE_TIMEOUT
from ..stores.base import Store

if TYPE_CHECKING:
    from flask import Flask

#: Our cookie options and the Flask setting each one stands for.
COOKIE_OPTIONS = {
    "cookie_name": "SESSION_COOKIE_NAME",
    "cookie_domain": "SESSION_COOKIE_DOMAIN",
    "cookie_path": "SESSION_COOKIE_PATH",
    "cookie_secure": "SESSION_COOKIE_SECURE",
    "cookie_httponly": "SESSION_COOKIE_HTTPONLY",
    "cookie_samesite": "SESSION_COOKIE_SAMESITE",
    "cookie_partitioned": "SESSION_COOKIE_PARTITIONED",
    "cookie_max_age": "PERMANENT_SESSION_LIFETIME",
}
#: The settings a request's core depends on: keys, the cookie's name and path, the lifetime.
CORE_SETTINGS = (
    "SECRET_KEY",
    "SECRET_KEY_FALLBACKS",
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_PATH",
    "APPLICATION_ROOT",
    "PERMANENT_SESSION_LIFETIME",
)
#: Flask-Session's default ``SESSION_KEY_PREFIX`` (also ``RedisStore``'s).
FLASK_SESSION_PREFIX = "session:"
#: Where Flask-Session connects when ``SESSION_REDIS`` is not set.
FLASK_SESSION_DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
#: Flask-Session's other back ends, which have no counterpart here.
_OTHER_TYPES = ("null", "filesystem", "cachelib", "memcached", "mongodb", "sqlalchemy", "dynamodb", "postgresql")


def secret_keys(app: Flask, explicit: Any = None) -> tuple[str | bytes, ...] | None:
    """The keys as Flask's cookie session uses them, oldest to newest:
    ``SECRET_KEY_FALLBACKS`` then ``SECRET_KEY`` (which signs). ``None`` without a key.

    :param explicit: ``init_app(secret_key=...)``, which wins over the config.
    """
    if explicit is not None:
        keys = list(explicit) if isinstance(explicit, (list, tuple)) else [explicit]
        return tuple(k if isinstance(k, (str, bytes)) else str(k) for k in keys)
    if not app.secret_key:
        return None
    fallbacks = app.config.get("SECRET_KEY_FALLBACKS") or ()
    return (*(k for k in fallbacks if k), app.secret_key)


def lifetime(app: Flask) -> float:
    """``PERMANENT_SESSION_LIFETIME`` in seconds (Flask accepts a number or a timedelta)."""
    value = app.permanent_session_lifetime
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def refresh_each_request(app: Flask) -> bool:
    return bool(app.config.get("SESSION_REFRESH_EACH_REQUEST", True))


def cookie_name(app: Flask, overrides: Mapping[str, Any]) -> str:
    name = overrides.get("cookie_name", app.config.get("SESSION_COOKIE_NAME", "session"))
    return str(name)


def cookie_path(app: Flask, overrides: Mapping[str, Any]) -> str:
    """``SESSION_COOKIE_PATH``, else ``APPLICATION_ROOT``, else ``/``, as Flask."""
    if "cookie_path" in overrides:
        return str(overrides["cookie_path"])
    return str(app.config.get("SESSION_COOKIE_PATH") or app.config.get("APPLICATION_ROOT") or "/")


def cookie_settings(app: Flask, overrides: Mapping[str, Any], *, permanent: bool) -> CookieSettings:
    """The cookie's attributes for this response, checked.

    A permanent session's cookie lives ``PERMANENT_SESSION_LIFETIME`` from now; any other is
    a browser-session cookie, as with Flask. ``SESSION_COOKIE_SECURE = False`` (Flask's
    default) means Secure on https requests only.

    :raises ValueError: for a setting Flask would refuse too, such as an unknown SameSite.
    """
    config = app.config

    def setting(option: str, default: Any) -> Any:
        return overrides[option] if option in overrides else config.get(COOKIE_OPTIONS[option], default)

    if "cookie_max_age" in overrides:
        max_age = overrides["cookie_max_age"]
    else:
        max_age = lifetime(app) if permanent else None
    # Flask's default (False) becomes "Secure on https": a cookie sent over TLS is marked so.
    secure = overrides["cookie_secure"] if "cookie_secure" in overrides else config.get("SESSION_COOKIE_SECURE") or None
    return CookieSettings.make(
        name=cookie_name(app, overrides),
        path=cookie_path(app, overrides),
        domain=setting("cookie_domain", None) or None,
        max_age=max_age,
        secure=secure,
        httponly=bool(setting("cookie_httponly", True)),
        samesite=setting("cookie_samesite", None),
        partitioned=bool(setting("cookie_partitioned", False)),
    )


def timeouts(app: Flask) -> dict[str, float]:
    """The server-side lifetimes that stand for Flask's: a session with no request for
    ``PERMANENT_SESSION_LIFETIME`` ends (Flask refuses a cookie older than that), and
    every session ends at the latest the longer of 14 days and that lifetime after it opened."""
    seconds = lifetime(app)
    return {"idle_timeout": seconds, "absolute_timeout": max(DEFAULT_ABSOLUTE_TIMEOUT, seconds)}


def default_permanent(app: Flask) -> bool:
    """Whether a new session is permanent: Flask's is not; Flask-Session's ``SESSION_PERMANENT``
    (default true under Flask-Session) decides when the app sets it or ``SESSION_TYPE``."""
    config = app.config
    if "SESSION_PERMANENT" in config:
        return bool(config["SESSION_PERMANENT"])
    return "SESSION_TYPE" in config


def flask_session_store(app: Flask) -> Store | None:
    """The store Flask-Session's ``SESSION_TYPE`` asks for, or ``None`` when it is not set.

    ``"redis"`` becomes a :class:`~session_middleware.RedisStore` on the app's own
    ``SESSION_REDIS`` client under ``SESSION_KEY_PREFIX``. Flask-Session's other back ends
    keep data this package cannot share: they are refused, with what to pass instead.

    :raises ValueError: for any ``SESSION_TYPE`` other than ``"redis"``.
    :raises TypeError: when ``SESSION_REDIS`` is not a redis-py client.
    """
    config = app.config
    if "SESSION_TYPE" not in config or config["SESSION_TYPE"] is None:
        return None
    kind = str(config["SESSION_TYPE"]).lower()
    if kind != "redis":
        known = " (a Flask-Session back end with no counterpart here)" if kind in _OTHER_TYPES else ""
        raise ValueError(
            f"SESSION_TYPE {config['SESSION_TYPE']!r}{known} is not supported: set SESSION_TYPE = 'redis' with "
            "SESSION_REDIS, or pass store=MemoryStore() (one process) or store=RedisStore(...) to init_app"
        )
    from ..stores.redis import RedisStore

    prefix = flask_session_prefix(app)
    if config.get("SESSION_REDIS") is None:
        warnings.warn(
            f"SESSION_REDIS is not set: connecting to {FLASK_SESSION_DEFAULT_REDIS}, as Flask-Session does",
            RuntimeWarning,
            stacklevel=3,
        )
        return RedisStore(FLASK_SESSION_DEFAULT_REDIS, prefix=prefix)
    return RedisStore(client=flask_session_client(app), prefix=prefix)


def flask_session_prefix(app: Flask) -> str:
    """``SESSION_KEY_PREFIX``, Flask-Session's default ``"session:"`` when unset."""
    return str(app.config.get("SESSION_KEY_PREFIX") or FLASK_SESSION_PREFIX)


def flask_session_client(app: Flask) -> Any:
    """``SESSION_REDIS``, checked.

    :raises TypeError: when it is not a redis-py client.
    """
    import redis
    import redis.cluster

    client = app.config.get("SESSION_REDIS")
    if not isinstance(client, (redis.Redis, redis.cluster.RedisCluster)):
        raise TypeError(f"SESSION_REDIS must be a redis.Redis client, not {type(client).__name__}")
    return client
