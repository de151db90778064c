"""Reading the session cookie from a Cookie header and writing Set-Cookie values (sans-IO)."""

from __future__ import annotations

from werkzeug.http import dump_cookie

#: Cookie headers longer than this are not searched for a session (cookie bombs).
MAX_COOKIE_HEADER_LENGTH = 32 * 1024
#: At most this many ``name=value`` pairs are scanned, whatever the header's length.
MAX_COOKIE_PAIRS = 256
#: At most this many values of the session cookie are considered (duplicates policy).
MAX_CANDIDATES = 4

_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def is_cookie_name(name: str) -> bool:
    """Whether ``name`` is an RFC 6265 token (no separators, spaces or controls)."""
    return bool(name) and _TOKEN_CHARS.issuperset(name)


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


def set_cookie(
    name: str,
    value: str,
    *,
    max_age: int,
    path: str,
    domain: str | None,
    secure: bool,
    httponly: bool,
    samesite: str | None,
    partitioned: bool,
) -> str:
    """A ``Set-Cookie`` value, formatted by Werkzeug."""
    return dump_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        domain=domain,
        secure=secure,
        httponly=httponly,
        samesite=samesite,
        partitioned=partitioned,
    )


def clear_cookie(
    name: str,
    *,
    path: str,
    domain: str | None,
    secure: bool,
    httponly: bool,
    samesite: str | None,
    partitioned: bool,
) -> str:
    """A ``Set-Cookie`` value that deletes the cookie; it repeats Path and Domain,
    without which the browser would keep the original."""
    return dump_cookie(
        name,
        "",
        max_age=0,
        expires=0,
        path=path,
        domain=domain,
        secure=secure,
        httponly=httponly,
        samesite=samesite,
        partitioned=partitioned,
    )


def merge_vary(existing: str | None, field: str = "Cookie") -> str:
    """``existing`` Vary value with ``field`` added once (case-insensitively)."""
    if not existing:
        return field
    parts = [p.strip() for p in existing.split(",") if p.strip()]
    if "*" in parts or any(p.lower() == field.lower() for p in parts):
        return ", ".join(parts)
    return ", ".join([*parts, field])


def with_cookie(headers: list[tuple[str, str]], set_cookie_value: str) -> list[tuple[str, str]]:
    """Response headers plus ``Set-Cookie``, with ``Cache-Control: no-store`` (replacing
    any other caching policy) and ``Vary: Cookie`` merged into what is there, so no
    shared cache ever stores or serves one user's cookie to another."""
    vary = [value for name, value in headers if name.lower() == "vary"]
    kept = [(n, v) for n, v in headers if n.lower() not in ("vary", "cache-control")]
    kept.append(("Set-Cookie", set_cookie_value))
    kept.append(("Cache-Control", "no-store"))
    kept.append(("Vary", merge_vary(", ".join(vary))))
    return kept
