"""Typed access to the session from Starlette handlers (``request.session`` is typed ``dict``)."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Protocol

from .._session import Session

_MISSING = (
    "no session on this request: wrap the app in session_middleware.SessionMiddleware "
    "(app.add_middleware(SessionMiddleware, secret_key=...))"
)


class HasScope(Protocol):
    """Anything carrying an ASGI scope: a Starlette ``Request``, ``WebSocket`` or ``HTTPConnection``."""

    @property
    def scope(self) -> MutableMapping[str, Any]: ...


def get_session(connection: HasScope) -> Session:
    """The :class:`~session_middleware.Session` of a request or websocket.

    Same object as ``request.session``, typed, so ``login()`` and ``user`` type-check.

    :raises RuntimeError: if the app is not wrapped in the middleware.
    """
    session = connection.scope.get("session")
    if not isinstance(session, Session):
        raise RuntimeError(_MISSING)
    return session
