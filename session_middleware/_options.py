"""The middleware constructors' arguments: Starlette's calling conventions mapped onto our options.

Both middlewares take ``(app, *args, **options)`` so that an app moving from Starlette's
``SessionMiddleware`` (or from starsessions or Flask-Session) changes only its import. This
module turns what such an app passes into a dict of canonical option names, and refuses
what it cannot honour with a ``TypeError`` that says what to write instead.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Mapping
from typing import Any

security_logger = logging.getLogger("session_middleware.security")

#: Every option both middlewares accept, under its own name.
OPTION_NAMES = (
    "secret_key",
    "store",
    "clock",
    "idle_timeout",
    "absolute_timeout",
    "touch_interval",
    "cookie_name",
    "cookie_path",
    "cookie_domain",
    "cookie_max_age",
    "cookie_secure",
    "cookie_httponly",
    "cookie_samesite",
    "cookie_partitioned",
    "trusted_proxies",
    "client_name",
    "max_sessions_per_user",
    "api_path",
    "api_token",
    "api_authorize",
    "id_header",
    "on_event",
    "migrate_from",
)

#: Starlette's ``SessionMiddleware`` keywords, accepted as they are: name -> our name.
STARLETTE_ALIASES = {
    "session_cookie": "cookie_name",
    "max_age": "cookie_max_age",
    "path": "cookie_path",
    "domain": "cookie_domain",
    "same_site": "cookie_samesite",
    "https_only": "cookie_secure",
    "partitioned": "cookie_partitioned",
}

_STORE_HOWTO = (
    "build a store and pass it: store=MemoryStore() (one process) or "
    "store=RedisStore('redis://localhost:6379/0'), both from session_middleware"
)
_SLIDING = "sessions always slide: see idle_timeout (and touch_interval) and absolute_timeout"
_PERMANENT = "every session lasts up to absolute_timeout; cookie_max_age=None gives a browser-session cookie"
_JSON_ONLY = "session data is always stored as JSON (never pickle); there is no serializer to choose"

#: Names that users of Starlette, starsessions or Flask-Session (or of cookies in general)
#: are likely to try, and what to write instead.
HINTS = {
    # starsessions
    "lifetime": "use idle_timeout / absolute_timeout (server side) and cookie_max_age (the cookie)",
    "rolling": _SLIDING,
    "cookie_https_only": "use cookie_secure (True: always Secure; None, the default: Secure on https)",
    "cookie_same_site": "use cookie_samesite",
    "serializer": _JSON_ONLY,
    "encryptor": "the cookie carries only a signed session id and the data stays on the server: nothing to encrypt",
    # Flask-Session (SESSION_* settings as keywords)
    "session_type": _STORE_HOWTO,
    "type": _STORE_HOWTO,
    "redis": _STORE_HOWTO,
    "session_redis": _STORE_HOWTO,
    "permanent": _PERMANENT,
    "session_permanent": _PERMANENT,
    "permanent_session_lifetime": "use absolute_timeout (and idle_timeout)",
    "key_prefix": "pass the prefix to the store: RedisStore(url, prefix='session:')",
    "session_key_prefix": "pass the prefix to the store: RedisStore(url, prefix='session:')",
    "use_signer": "the cookie is always signed with secret_key",
    "session_use_signer": "the cookie is always signed with secret_key",
    "sid_length": "session ids are always 256 random bits",
    "session_id_length": "session ids are always 256 random bits",
    "serialization_format": _JSON_ONLY,
    "session_serialization_format": _JSON_ONLY,
    "refresh_each_request": "use touch_interval (0: refresh on every request)",
    "session_refresh_each_request": "use touch_interval (0: refresh on every request)",
    # general cookie and session vocabulary
    "secret": "use secret_key",
    "key": "use secret_key",
    "secret_keys": "use secret_key (a list oldest to newest rotates keys)",
    "secret_key_fallbacks": "use secret_key=[old, ..., new]: the newest signs, all verify",
    "fallback_secret_keys": "use secret_key=[old, ..., new]: the newest signs, all verify",
    "secure": "use cookie_secure",
    "httponly": "use cookie_httponly",
    "http_only": "use cookie_httponly",
    "samesite": "use cookie_samesite",
    "expires": "use cookie_max_age (seconds) for the cookie, idle_timeout / absolute_timeout for the session",
    "ttl": "use idle_timeout (a session with no request for this long ends) or absolute_timeout",
    "timeout": "use idle_timeout (a session with no request for this long ends) or absolute_timeout",
    "expiry": "use idle_timeout or absolute_timeout",
    "redis_url": _STORE_HOWTO,
    "url": _STORE_HOWTO,
    "backend": _STORE_HOWTO,
    "cookie": "use cookie_name",
    "name": "use cookie_name",
}


def resolve_options(args: tuple[Any, ...], options: Mapping[str, Any]) -> dict[str, Any]:
    """The constructor arguments ``(*args, **options)`` under canonical option names.

    :param args: the positional arguments after ``app``: at most one, the secret key.
    :param options: the keyword arguments, ours or Starlette's aliases.
    :raises TypeError: for several positional arguments, an option given twice (under two
        names, or positionally and by keyword), an unknown option (naming the closest
        known one and, for names other libraries use, what to write instead), or a
        ``store`` that is not a store.
    """
    if len(args) > 1:
        raise TypeError(
            f"SessionMiddleware takes at most one positional argument after the app (secret_key), got {len(args)}"
        )
    resolved: dict[str, Any] = {}
    given_as: dict[str, str] = {}
    if args:
        resolved["secret_key"], given_as["secret_key"] = args[0], "the positional secret key"
    for name, value in options.items():
        canonical = STARLETTE_ALIASES.get(name, name)
        if canonical not in OPTION_NAMES:
            raise TypeError(_unknown(name))
        if canonical in resolved:
            raise TypeError(f"{given_as[canonical]} and {name!r} are the same option: pass it once")
        if name == "https_only":
            value = bool(value)  # Starlette: Secure only when true, never "Secure on https"
        resolved[canonical], given_as[canonical] = value, repr(name)
    if resolved.get("cookie_secure") is False and given_as.get("cookie_secure") == "'https_only'":
        _secure_when_browsers_require_it(resolved)
    if "secret_key" in resolved:
        resolved["secret_key"] = _secret_key(resolved["secret_key"])
    if "store" in resolved:
        _check_store(resolved["store"])
    return resolved


def _secure_when_browsers_require_it(resolved: dict[str, Any]) -> None:
    """``https_only=False`` with ``partitioned=True`` or ``same_site="none"``: Starlette sends
    such a cookie without Secure, and browsers refuse it, so the app had no working session
    anyway; marking it Secure makes it work on https instead of failing at start-up."""
    samesite = resolved.get("cookie_samesite")
    if resolved.get("cookie_partitioned") or (isinstance(samesite, str) and samesite.lower() == "none"):
        security_logger.warning(
            "https_only=False ignored: browsers accept a Partitioned or SameSite=None cookie only when "
            "it is Secure, so the session cookie is marked Secure"
        )
        resolved["cookie_secure"] = True


def _unknown(name: str) -> str:
    message = f"unknown session option {name!r}"
    hint = HINTS.get(name.lower())
    if hint is not None:
        message += f": {hint}"
    known = [*OPTION_NAMES, *STARLETTE_ALIASES]
    # A hint already names what to use: then only a near-typo is worth suggesting too.
    close = difflib.get_close_matches(name.lower(), known, n=1, cutoff=0.6 if hint is None else 0.85)
    if close and (hint is None or close[0] not in hint):
        message += f" (did you mean {close[0]!r}?)"
    return message


def _secret_key(value: Any) -> Any:
    """Keys as str/bytes: anything else whose ``str()`` is the key (Starlette's ``Secret``)."""
    if value is None or isinstance(value, (str, bytes)):
        return value
    if isinstance(value, (list, tuple)):
        return [k if isinstance(k, (str, bytes)) else str(k) for k in value]
    return str(value)


def _check_store(store: Any) -> None:
    if isinstance(store, str):
        raise TypeError(f"store must be a store object, not the string {_short(store)}: {_STORE_HOWTO}")
    if isinstance(store, type):
        raise TypeError(f"store must be a store object, not the class {store.__name__}: {_STORE_HOWTO}")
    if store is None:
        return  # the default, MemoryStore()
    missing = [m for m in _STORE_METHODS if not hasattr(store, m)]
    if missing:
        raise TypeError(
            f"store {type(store).__name__} is not a session_middleware store (it has no {missing[0]}): {_STORE_HOWTO}"
        )


_STORE_METHODS = ("load_and_touch", "aload_and_touch", "create", "acreate", "save_changes", "delete")


def _short(text: str) -> str:
    # A store URL may carry a password: show its scheme only.
    scheme, sep, _ = text.partition("://")
    return repr(f"{scheme}://..." if sep else text[:20])
