"""Deliberately broken variants of the middleware and the REST API, for the app machine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from session_middleware._session import Session
from session_middleware.stores.base import Store
from session_middleware.types import ASGIApp, Receive, Scope, Send
from sessions_api import create_asgi_app


@contextmanager
def login_keeping_the_old_id(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``Session.login`` binds the user but leaves the id a visitor had before login."""
    original = Session.login

    def login(self: Session, user: Any) -> None:
        old = None if self.is_new else self.id
        original(self, user)
        if old is not None:
            self._id = old  # the bug: no new id, so a fixated id survives the login

    with monkeypatch.context() as patch:
        patch.setattr(Session, "login", login)
        yield


class DeletesNothing:
    """A store whose ``delete`` reports success and deletes nothing; the rest delegates."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def delete(self, session_id: str) -> bool:
        return True

    async def adelete(self, session_id: str) -> bool:
        return True


def api_that_revokes_nothing(store: Store, app: ASGIApp, **api_options: Any) -> ASGIApp:
    """``app`` with the REST API mounted at ``/sessions`` over a store whose deletes do nothing:
    ``DELETE`` answers 204 and the session stays loadable."""
    api = create_asgi_app(DeletesNothing(store), **api_options)

    async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path == "/sessions" or path.startswith("/sessions/")):
            await api({**scope, "root_path": scope.get("root_path", "") + "/sessions"}, receive, send)
        else:
            await app(scope, receive, send)

    return dispatch
