"""The session cookie: its settings, reading it from a Cookie header, writing Set-Cookie (sans-IO)."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import timedelta

from werkzeug.http import dump_cookie

#: Cookie headers longer than this are not searched for a session (cookie bombs).
MAX_COOKIE_HEADER_LENGTH = 32 * 1024
#: At most this many ``name=value`` pairs are scanned, whatever the header's length.
MAX_COOKIE_PAIRS = 256
#: At most this many values of the session cookie are considered (duplicates policy).
MAX_CANDIDATES = 4

_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
#: Werkzeug writes ``Partitioned`` itself from 3.1 on; before, it is appended here.
_DUMP_HAS_PARTITIONED = "partitioned" in inspect.signature(dump_cookie).parameters


def is_cookie_name(name: str) -> bool:
    """Whether ``name`` is an RFC 6265 token (no separators, spaces or controls)."""
    return isinstance(name, str) and bool(name) and _TOKEN_CHARS.issuperset(name)


def path_matches(request_path: str, cookie_path: str) -> bool:
    """Whether a browser sends a cookie of ``cookie_path`` with a request for ``request_path``
    (RFC 6265, section 5.1.4)."""
    if request_path == cookie_path or cookie_path == "/":
        return True
    if not request_path.startswith(cookie_path):
        return False
    return cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"


@dataclass(frozen=True, slots=True)
class CookieSettings:
    """The session cookie's attributes, checked once at start-up (:meth:`make`).

    ``secure=None`` means Secure exactly when the request came over https; ``max_age=None``
    is a browser-session cookie (no ``Max-Age``), ``0`` or less one that has expired.
    """

    name: str
    path: str
    domain: str | None
    max_age: int | None
    secure: bool | None
    httponly: bool
    samesite: str | None
    partitioned: bool

    @classmethod
    def make(
        cls,
        *,
        name: str,
        path: str,
        domain: str | None,
        max_age: float | timedelta | None,
        secure: bool | None,
        httponly: bool,
        samesite: str | None,
        partitioned: bool,
    ) -> CookieSettings:
        """:raises ValueError, TypeError: naming the option that is wrong and why."""
        if not is_cookie_name(name):
            raise ValueError(f"cookie_name {name!r} is not a valid cookie name (RFC 6265 token)")
        if samesite is not None and (
            not isinstance(samesite, str) or samesite.lower() not in ("lax", "strict", "none")
        ):
            raise ValueError("cookie_samesite must be 'lax', 'strict', 'none' or None")
        samesite = None if samesite is None else samesite.lower()
        if secure is not None and not isinstance(secure, bool):
            raise TypeError("cookie_secure must be True, False or None (Secure on https requests)")
        if not isinstance(path, str) or not path.startswith("/") or not path.isprintable() or ";" in path:
            raise ValueError("cookie_path must be an absolute path without ';' or control characters")
        if domain is not None and not is_cookie_name(domain):
            raise ValueError(f"cookie_domain {domain!r} is not a valid domain")
        age = None
        if max_age is not None:
            if isinstance(max_age, bool) or not isinstance(max_age, (int, float, timedelta)):
                raise TypeError("cookie_max_age must be a number of seconds, a timedelta, or None")
            seconds = max_age.total_seconds() if isinstance(max_age, timedelta) else float(max_age)
            if seconds != seconds or seconds == float("inf"):
                raise ValueError("cookie_max_age must be finite (or None for a browser-session cookie)")
            age = int(seconds)
        needs_secure = []
        # Browsers match the prefixes case-insensitively (RFC 6265bis): so does this check.
        prefix = name[:9].lower()
        if prefix.startswith("__host-"):
            if path != "/" or domain is not None:
                raise ValueError("a __Host- cookie needs cookie_path='/' and no cookie_domain")
            needs_secure.append("a __Host- cookie name")
        if prefix == "__secure-":
            needs_secure.append("a __Secure- cookie name")
        if samesite == "none":
            needs_secure.append("cookie_samesite='none'")
        if partitioned:
            needs_secure.append("cookie_partitioned")
        if needs_secure:
            if secure is False:
                raise ValueError(f"{needs_secure[0]} requires cookie_secure (not False)")
            secure = True  # None would mean "only on https": these need it always
        return cls(name, path, domain, age, secure, bool(httponly), samesite, bool(partitioned))

    def is_secure(self, https: bool) -> bool:
        return https if self.secure is None else self.secure


def session_cookie_values(header: str, name: str) -> list[str]:
    """The values of every cookie called exactly ``name``, in header order.

    Werkzeug's ``parse_cookie`` would decode every cookie of the header; only one
    matters here, so this scans linearly with bounded length and pair count and decodes
    nothing. Names compare exactly: nameless pairs (``=name=x``), quoted names and other
    cases never match. A value's surrounding whitespace and double quotes are dropped;
    the signature check rejects everything else.
    """
    if name not in header or len(header) > MAX_COOKIE_HEADER_LENGTH:
        return []
    values: list[str] = []
    for pair in header.split(";", MAX_COOKIE_PAIRS)[:MAX_COOKIE_PAIRS]:
        key, sep, value = pair.partition("=")
        if sep and key.strip() == name:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            values.append(value)
            if len(values) == MAX_CANDIDATES:
                break
    return values


def _dump(settings: CookieSettings, value: str, https: bool, *, max_age: int | None, expires: int | None) -> str:
    options: dict[str, object] = {}
    if _DUMP_HAS_PARTITIONED:
        options["partitioned"] = settings.partitioned
    header = dump_cookie(
        settings.name,
        value,
        max_age=max_age,
        expires=expires,
        path=settings.path,
        domain=settings.domain,
        secure=settings.is_secure(https),
        httponly=settings.httponly,
        samesite=settings.samesite,
        **options,  # type: ignore[arg-type]
    )
    if settings.partitioned and not _DUMP_HAS_PARTITIONED:
        header += "; Partitioned"
    return header


def set_cookie(settings: CookieSettings, value: str, https: bool) -> str:
    """A ``Set-Cookie`` value carrying ``value``, formatted by Werkzeug."""
    age = settings.max_age
    if age is not None and age <= 0:
        return _dump(settings, value, https, max_age=0, expires=0)
    return _dump(settings, value, https, max_age=age, expires=None)


def clear_cookie(settings: CookieSettings, https: bool) -> str:
    """A ``Set-Cookie`` value that deletes the cookie; it repeats Path and Domain,
    without which the browser would keep the original."""
    return _dump(settings, "", https, max_age=0, expires=0)


def merge_vary(existing: str | None, field: str = "Cookie") -> str:
    """``existing`` Vary value with ``field`` added once (case-insensitively)."""
    if not existing:
        return field
    parts = [p.strip() for p in existing.split(",") if p.strip()]
    if "*" in parts or any(p.lower() == field.lower() for p in parts):
        return ", ".join(parts)
    return ", ".join([*parts, field])
