"""Flask: ``flask.session`` becomes a tracked server-side session, configured as Flask is.

::

    from session_middleware.integrations.flask import init_app

    app = Flask(__name__)
    app.config["SECRET_KEY"] = ...
    init_app(app)  # nothing else changes

An app written for Flask-Session changes one import: ``from
session_middleware.integrations.flask import Session`` then ``Session(app)``.

:func:`init_app` reads Flask's settings when Flask reads them (the keys and the cookie's
name on each request, its attributes on each response; see ``_flask_config``), stores
values in Flask's tagged JSON (``_flask_codec``), and with ``migrate_from="flask"`` or
``"flask-session"`` carries Flask's own cookie sessions or Flask-Session's Redis sessions
over (``_flask_migration``, ``_flask_session_migration``). It wraps ``app.wsgi_app``
so that the session is loaded before Flask runs (a store failure answers 503 with
``Retry-After``), and installs :class:`TrackedSessionInterface`, which saves the session
where Flask saves its own, in ``save_session``. Outside a real request
(``app.test_request_context()``, ``client.session_transaction()``) the interface loads
the session itself, so Flask's testing habits keep working.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import flask
from flask.sessions import SessionInterface, SessionMixin, session_json_serializer

from ._flask_requests import STATE_KEY, FlaskSessions, RequestState
from ._flask_session import FlaskSession

if TYPE_CHECKING:
    from flask import Flask
    from flask.wrappers import Response

__all__ = [
    "EXTENSION_KEY",
    "FlaskSession",
    "FlaskSessions",
    "Session",
    "TrackedSessionInterface",
    "get_session",
    "init_app",
]

EXTENSION_KEY = "session_middleware"


class TrackedSessionInterface(SessionInterface):
    """Hands Flask the session loaded for the request and saves it in ``save_session``."""

    #: Flask's own tagged JSON serializer: tags registered on it apply to stored values.
    serializer = session_json_serializer
    pickle_based = False

    def __init__(self, sessions: FlaskSessions) -> None:
        self.sessions = sessions
        # Flask calls save_session on every request: straight to the saving code.
        self.save_session = sessions.save  # type: ignore[method-assign]

    def open_session(self, app: Flask, request: flask.Request) -> FlaskSession | None:
        state = request.environ.get(STATE_KEY)
        if type(state) is RequestState:  # loaded by the WSGI wrapper, as a FlaskSession
            return state.opened.session  # type: ignore[return-value]
        return self.sessions.open_detached(app, request.environ)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        self.sessions.save(app, session, response)

    def is_null_session(self, obj: object) -> bool:
        # Asked on every request: a FlaskSession answers without an ABC instance check.
        return type(obj) is not self.sessions.session_class and super().is_null_session(obj)

    def regenerate(self, session: SessionMixin) -> None:
        """Flask-Session's ``app.session_interface.regenerate(session)``: a new id, the same data."""
        if isinstance(session, FlaskSession):
            session.regenerate()


def init_app(app: Flask, **options: Any) -> FlaskSessions:
    """Give ``app`` server-side sessions: ``flask.session`` becomes a :class:`FlaskSession`.

    With no options everything comes from ``app.config``, as Flask reads it: ``SECRET_KEY``
    and ``SECRET_KEY_FALLBACKS``, ``SESSION_COOKIE_*``, ``APPLICATION_ROOT``,
    ``PERMANENT_SESSION_LIFETIME``, ``SESSION_REFRESH_EACH_REQUEST``, and Flask-Session's
    ``SESSION_TYPE``, ``SESSION_REDIS``, ``SESSION_KEY_PREFIX``, ``SESSION_PERMANENT``.
    Keyword options (the middleware's, see the configuration reference) win over the
    config. ``migrate_from="flask"`` carries Flask's own cookie sessions over,
    ``migrate_from="flask-session"`` Flask-Session's Redis sessions (see docs/migrating.md).

    :returns: the installed :class:`FlaskSessions`, also ``app.extensions["session_middleware"]``.
    :raises RuntimeError: if called twice for one app.
    :raises TypeError, ValueError: for an option or setting that cannot be honoured.
    """
    if EXTENSION_KEY in app.extensions:
        raise RuntimeError("session_middleware is already installed on this app")
    sessions = FlaskSessions(app, options)
    app.wsgi_app = sessions  # type: ignore[method-assign]
    app.session_interface = TrackedSessionInterface(sessions)
    app.extensions[EXTENSION_KEY] = sessions
    return sessions


class Session:
    """Flask-Session's spelling: ``Session(app)``, or ``Session()`` then ``init_app(app)``
    in an app factory. Takes :func:`init_app`'s options."""

    def __init__(self, app: Flask | None = None, **options: Any) -> None:
        self.options = options
        self.app = app
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> FlaskSessions:
        return init_app(app, **self.options)


def get_session() -> FlaskSession:
    """``flask.session``, typed: the current request's :class:`FlaskSession`.

    :raises RuntimeError: outside a request, or if :func:`init_app` was not called.
    """
    session = flask.session._get_current_object()  # type: ignore[attr-defined]
    if not isinstance(session, FlaskSession):
        raise RuntimeError("flask.session is not tracked: call session_middleware.integrations.flask.init_app(app)")
    return session
