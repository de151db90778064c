"""Who may do what: admin credentials, the caller's own sessions, and the cross-site guard."""

from __future__ import annotations

import enum
import hmac
import inspect
import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from ._errors import ApiError
from ._http import ApiRequest

logger = logging.getLogger("sessions_api")

_REALM = 'Bearer realm="sessions"'
_DEFAULT_PORTS = {"http": 80, "https": 443}


class Grant(enum.Enum):
    """What the caller's credentials (not its session) are worth."""

    #: A configured ``api_token`` matched: everything, from any origin.
    TOKEN = "token"  # noqa: S105 - a name, not a secret
    #: ``api_authorize`` returned True: everything, same-site only unless a bearer was sent.
    AUTHORIZED = "authorized"
    #: No admin rights; the caller's own session may still give some.
    NONE = "none"


class Action(enum.Enum):
    LIST = "list"
    GET = "get"
    OPEN = "open"
    UPDATE = "update"
    CLOSE = "close"


#: What a user may do with their own sessions (never open one or write data).
OWN_ACTIONS = frozenset({Action.LIST, Action.GET, Action.CLOSE})


def normalize_tokens(api_token: str | Sequence[str] | None) -> tuple[bytes, ...]:
    """The configured bearer tokens; empty strings are refused (they would match anything sent empty)."""
    if api_token is None:
        return ()
    tokens = [api_token] if isinstance(api_token, str) else list(api_token)
    if not all(isinstance(t, str) and t.strip() == t and t for t in tokens):
        raise ValueError("api_token must be a non-empty str without surrounding spaces, or a list of them")
    return tuple(t.encode() for t in tokens)


def bearer(request: ApiRequest) -> str | None:
    """The token of an ``Authorization: Bearer`` header, if there is one."""
    scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def token_grant(request: ApiRequest, tokens: tuple[bytes, ...]) -> Grant:
    """``TOKEN`` when the bearer token equals a configured one (constant time, all compared)."""
    sent = bearer(request)
    if sent is None or not tokens:
        return Grant.NONE
    candidate = sent.encode("utf-8", "surrogateescape")
    matched = False
    for token in tokens:
        matched |= hmac.compare_digest(candidate, token)
    return Grant.TOKEN if matched else Grant.NONE


def callback_grant(verdict: Any) -> Grant:
    """Read ``api_authorize``'s answer: only ``True`` itself grants (a truthy mistake never does)."""
    if inspect.isawaitable(verdict):
        # A coroutine reached a sync driver: it can never be awaited, so it is refused.
        close = getattr(verdict, "close", None)
        if close is not None:
            close()
        logger.error("api_authorize returned an awaitable under WSGI; use a sync callable there")
        return Grant.NONE
    return Grant.AUTHORIZED if verdict is True else Grant.NONE


def check(request: ApiRequest, grant: Grant, action: Action, user_id: str | None) -> bool:
    """Allow the request or raise 401/403; return whether the caller may see session data.

    :param user_id: the user the route acts on (``None`` when opening a session).
    """
    if grant is Grant.TOKEN:
        return True
    sent = bearer(request)
    if grant is Grant.AUTHORIZED:
        if sent is None:
            _same_site(request)  # an ambient credential (cookie) decided: guard against CSRF
        return True
    if sent is not None:
        raise ApiError(
            "UNAUTHORIZED",
            "The bearer token is not valid.",
            headers={"WWW-Authenticate": f'{_REALM}, error="invalid_token"'},
        )
    own = request.user_id
    if own is None:
        raise ApiError("UNAUTHORIZED", headers={"WWW-Authenticate": _REALM})
    if own != user_id or action not in OWN_ACTIONS:
        logger.info("sessions API refused %s for a signed-in user", action.value)
        raise ApiError("FORBIDDEN")
    _same_site(request)
    return False


def _same_site(request: ApiRequest) -> None:
    """Refuse a cookie-authenticated request that a browser marks as cross-site."""
    headers = request.headers
    site = headers.get("sec-fetch-site")
    if site is not None and site.strip().lower() not in ("same-origin", "none"):
        raise ApiError("FORBIDDEN", "Cross-site requests are refused.", details={"reason": "cross-site"})
    origin = headers.get("origin")
    if origin is not None and not _is_own_origin(origin, headers.get("host")):
        raise ApiError("FORBIDDEN", "Cross-site requests are refused.", details={"reason": "cross-site"})


def _is_own_origin(origin: str, host: str | None) -> bool:
    """Whether ``Origin`` names the host and port the request was sent to (the Host header).

    Schemes are not compared, so a TLS-terminating proxy does not break the check; a
    missing port means the default port of the origin's scheme on both sides.
    """
    if not host:
        return False
    try:
        sent = urlsplit(origin.strip())
        target = urlsplit("//" + host.strip())
        default = _DEFAULT_PORTS.get(sent.scheme)
        if default is None or not sent.hostname or sent.path or sent.query or sent.username is not None:
            return False
        return sent.hostname == target.hostname and (sent.port or default) == (target.port or default)
    except ValueError:
        return False
