"""FastAPI dependencies: ``session: SessionDep`` gives a handler the request's :class:`Session`.

::

    from session_middleware.integrations.fastapi import SessionDep, UserDep

    @app.get("/me")
    async def me(user: UserDep) -> dict[str, str]: ...
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException
from starlette.requests import HTTPConnection

from .._session import Session
from .starlette import get_session as _session_of


def get_session(connection: HTTPConnection) -> Session:
    """Dependency: the request's (or websocket's) session. Needs ``SessionMiddleware`` on the app."""
    return _session_of(connection)


def get_user(session: Annotated[Session, Depends(get_session)]) -> dict[str, Any]:
    """Dependency: the signed-in user (a dict with ``id`` and maybe ``name``), or 401."""
    user = session.user
    if user is None:
        raise HTTPException(status_code=401, detail="not signed in")
    return user


#: ``session: SessionDep`` in a handler's parameters.
SessionDep = Annotated[Session, Depends(get_session)]
#: ``user: UserDep``: the signed-in user, or a 401 before the handler runs.
UserDep = Annotated[dict[str, Any], Depends(get_user)]
