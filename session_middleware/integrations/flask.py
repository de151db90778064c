"""Flask: ``flask.session`` becomes the tracked server-side session.

::

    from session_middleware.integrations.flask import init_app

    app = Flask(__name__)
    init_app(app, secret_key=...)  # or app.config["SECRET_KEY"] when secret_key is omitted

    @app.post("/login")
    def login():
        session.login({"id": "42", "name": "Ada"})
        ...

:func:`init_app` wraps ``app.wsgi_app`` in :class:`~session_middleware.WSGISessionMiddleware`
(which loads and saves the session, answers 503 when the store is down and mounts the REST
API) and installs :class:`TrackedSessionInterface`, which hands Flask that same session.
Outside a real request (``app.test_request_context()``, ``client.session_transaction()``)
the interface loads and saves the session itself, so Flask's testing habits keep working.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import flask
from flask.sessions import SessionInterface, SessionMixin

from ..core import Opened, SessionCore
from ..ops import run_flow
from ..request import RequestView, from_environ
from ..session import Session
from ..wsgi import WSGISessionMiddleware

if TYPE_CHECKING:
    from flask import Flask
    from flask.wrappers import Request, Response

EXTENSION_KEY = "session_middleware"


class FlaskSession(SessionMixin):
    """What ``flask.session`` is under :func:`init_app`: the request's
    :class:`~session_middleware.Session` with Flask's session attributes.

    Lifetimes come from the ``idle_timeout`` and ``absolute_timeout`` options, so
    ``permanent`` is always true and setting it changes nothing.
    """

    def __init__(self, session: Session, detached: tuple[Opened, RequestView] | None = None) -> None:
        #: The tracked session this object stands for.
        self.session = session
        # Set when the interface opened the session itself (no middleware on this request).
        self._detached = detached

    # -- mapping ---------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        return self.session[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.session[key] = value

    def __delitem__(self, key: str) -> None:
        del self.session[key]

    def __contains__(self, key: object) -> bool:
        return key in self.session

    def __iter__(self) -> Iterator[str]:
        return iter(self.session)

    def __len__(self) -> int:
        return len(self.session)

    def clear(self) -> None:
        self.session.clear()

    def __repr__(self) -> str:
        return repr(self.session)

    # -- Flask's attributes ----------------------------------------------------------

    @property
    def permanent(self) -> bool:
        return True

    @permanent.setter
    def permanent(self, value: bool) -> None:
        pass  # the cookie always lives as long as the session may (absolute_timeout)

    # -- the tracked session's attributes --------------------------------------------

    @property
    def id(self) -> str:
        return self.session.id

    @property
    def is_new(self) -> bool:
        return self.session.is_new

    @property
    def user(self) -> dict[str, Any] | None:
        return self.session.user

    @property
    def user_id(self) -> str | None:
        return self.session.user_id

    @property
    def address(self) -> str:
        return self.session.address

    @property
    def client(self) -> str:
        return self.session.client

    @property
    def opened(self) -> datetime:
        return self.session.opened

    @property
    def last_request(self) -> datetime:
        return self.session.last_request

    def login(self, user: Mapping[str, Any]) -> None:
        """Bind the session to ``user`` and issue a new id (see :meth:`Session.login`)."""
        self.session.login(user)

    def logout(self) -> None:
        """Close the session in the store and expire the cookie (see :meth:`Session.logout`)."""
        self.session.logout()

    def regenerate(self) -> None:
        """Move the data to a new id (see :meth:`Session.regenerate`)."""
        self.session.regenerate()


class TrackedSessionInterface(SessionInterface):
    """Hands Flask the session that :class:`~session_middleware.WSGISessionMiddleware` loaded."""

    def __init__(self, core: SessionCore) -> None:
        self.core = core

    def open_session(self, app: Flask, request: Request) -> FlaskSession:
        session = request.environ.get("session")
        if isinstance(session, Session):
            return FlaskSession(session)
        # No middleware ran (a test request context): do its work here and in save_session.
        view = from_environ(request.environ)
        opened = run_flow(self.core.load(view), self.core.store)
        return FlaskSession(opened.session, detached=(opened, view))

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if session.accessed:
            response.vary.add("Cookie")  # the response depends on who asked, as with Flask's own sessions
        if not isinstance(session, FlaskSession) or session._detached is None:
            return  # the middleware saves when the response starts
        opened, view = session._detached
        flow = self.core.commit(opened, view, response.status_code)
        set_cookie = None if flow is None else run_flow(flow, self.core.store).set_cookie
        headers = self.core.response_headers(list(response.headers.items()), set_cookie, False)
        if headers is not None:
            response.headers.clear()
            response.headers.extend(headers)


def init_app(app: Flask, **options: Any) -> WSGISessionMiddleware:
    """Give ``app`` tracked sessions: ``flask.session`` is the :class:`FlaskSession`.

    Takes the middleware's options (:class:`~session_middleware.core.SessionOptions`);
    ``secret_key`` defaults to the app's ``SECRET_KEY`` (which must then be at least 32
    bytes). Returns the installed middleware, also kept
    in ``app.extensions["session_middleware"]``.

    :raises RuntimeError: if called twice for one app.
    """
    if EXTENSION_KEY in app.extensions:
        raise RuntimeError("session_middleware is already installed on this app")
    if "secret_key" not in options and app.secret_key:
        options["secret_key"] = app.secret_key
    middleware = WSGISessionMiddleware(app.wsgi_app, **options)
    app.wsgi_app = middleware  # type: ignore[method-assign]
    app.session_interface = TrackedSessionInterface(middleware.core)
    app.extensions[EXTENSION_KEY] = middleware
    return middleware


def get_session() -> FlaskSession:
    """``flask.session``, typed: the current request's :class:`FlaskSession`.

    :raises RuntimeError: outside a request, or if :func:`init_app` was not called.
    """
    session = flask.session._get_current_object()  # type: ignore[attr-defined]
    if not isinstance(session, FlaskSession):
        raise RuntimeError("flask.session is not tracked: call session_middleware.integrations.flask.init_app(app)")
    return session
