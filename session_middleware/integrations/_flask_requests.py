"""Each request's session under ``init_app``: loaded before Flask runs, saved where Flask saves.

:class:`FlaskSessions` wraps ``app.wsgi_app``. It reads the app's keys and cookie name
on every request (a core per configuration), loads the session in one store round trip
before Flask runs, and answers 503 with ``Retry-After`` when the store fails, then or
when the session is saved. Flask's ``save_session`` calls :meth:`FlaskSessions.save`,
which commits and sets the cookie as Flask's own cookie session would.
"""

from __future__ import annotations

import operator
import threading
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import flask

from .._cookies import clear_cookie, set_cookie
from .._core import NO_COOKIE, CookieState, Opened, SessionCore, Unavailable
from .._migration import LegacyCookie
from .._mount import mount_wsgi
from .._ops import run_flow
from .._options import resolve_options
from .._request import RequestView, from_environ
from ..events import emit
from ..exceptions import StoreError
from ..stores.base import Store
from ..stores.memory import MemoryStore
from . import _flask_config as config
from ._flask_migration import FlaskCookie
from ._flask_session import FlaskSession
from ._flask_session_migration import FlaskSessionRedis

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from flask import Flask
    from flask.sessions import SessionMixin
    from flask.wrappers import Response

#: The environ key of a request's session state, set before Flask runs.
STATE_KEY = "session_middleware.flask"
#: The settings a core depends on, read in one C-level call (KeyError if one is unset).
_core_settings = operator.itemgetter(*config.CORE_SETTINGS)
#: How many configurations (secret keys, cookie name and path) keep a core of their own.
_MAX_CORES = 8
_STATUS_503 = "503 Service Unavailable"


class RequestState:
    """One request's session: the core that opened it, the load, and a store failure at save."""

    __slots__ = ("core", "opened", "view", "attached", "failed", "vary")

    def __init__(self, core: SessionCore, opened: Opened, view: RequestView, attached: bool) -> None:
        self.core = core
        self.opened = opened
        self.view = view
        #: Loaded by the WSGI wrapper (a real request), not by the interface itself.
        self.attached = attached
        #: The 503 that replaces the response when saving failed.
        self.failed: Unavailable | None = None
        #: The session was accessed and nothing else changed the headers: the WSGI wrapper
        #: adds ``Vary: Cookie`` to the headers Flask sends (cheaper than on the Response).
        self.vary = False


class FlaskSessions:
    """What :func:`init_app` installs: loads each request's session before Flask runs and
    saves it from :class:`TrackedSessionInterface`; kept in ``app.extensions["session_middleware"]``.
    """

    def __init__(self, app: Flask, options: Mapping[str, Any]) -> None:
        resolved = resolve_options((), options)
        self.app = app
        self.wsgi_app: WSGIApplication = app.wsgi_app
        self._secret_key = resolved.pop("secret_key", None)
        self.overrides = {name: resolved.pop(name) for name in config.COOKIE_OPTIONS if name in resolved}
        migrate_from = resolved.pop("migrate_from", None)
        if migrate_from not in (None, "flask", "flask-session"):
            raise ValueError(
                'init_app(migrate_from=...) carries over Flask\'s cookie sessions ("flask") or '
                'Flask-Session\'s Redis sessions ("flask-session"); got ' + repr(migrate_from)
            )
        self.migrate: str | None = migrate_from
        if migrate_from == "flask-session":
            config.flask_session_client(app)  # refuse now, not on the first request
        store = resolved.pop("store", None)  # an explicit store wins over SESSION_TYPE
        if store is None:
            store = config.flask_session_store(app)
        clock = resolved.pop("clock", None)
        if store is None:
            store = MemoryStore(clock=clock or time.time)
        elif clock is not None and store.clock is not clock:
            raise ValueError("pass clock= to your store; the sessions use the store's clock")
        self.store: Store = store
        for name, value in config.timeouts(app).items():
            resolved.setdefault(name, value)
        self.session_class: type[FlaskSession] = FlaskSession
        if config.default_permanent(app):
            self.session_class = type("FlaskSession", (FlaskSession,), {"default_permanent": True})
        self.core_options = resolved
        self._cores: dict[tuple[Any, ...], SessionCore] = {}
        self._lock = threading.Lock()
        self._dispatch: WSGIApplication | None = None
        #: The config values of the last request and the core they gave.
        self._last: tuple[tuple[Any, ...], SessionCore | None] | None = None
        if self._secret_key is not None or app.secret_key:
            self.core_for(app)  # check the options now, not on the first request

    # -- one core per configuration -----------------------------------------------------

    def core_for(self, app: Flask) -> SessionCore | None:
        """The core for the app's current keys and cookie name and path; ``None`` without a key."""
        # Every request asks; the settings it depends on almost never change, so compare
        # them as they are in the config before working anything out.
        try:
            settings = _core_settings(app.config)  # all set, as in Flask 3.1's defaults
        except KeyError:
            settings = tuple(map(app.config.get, config.CORE_SETTINGS))
        last = self._last
        if last is not None and last[0] == settings:
            return last[1]
        keys = config.secret_keys(app, self._secret_key)
        core = None if keys is None else self._core(app, keys)
        self._last = (settings, core)
        return core

    def _core(self, app: Flask, keys: tuple[str | bytes, ...]) -> SessionCore:
        name, path = config.cookie_name(app, self.overrides), config.cookie_path(app, self.overrides)
        # The previous library's cookies expire after Flask's lifetime: a new one, a new reader.
        key = (keys, name, path, config.lifetime(app) if self.migrate == "flask" else None)
        core = self._cores.get(key)
        if core is None:
            core = SessionCore(
                secret_key=list(keys),
                store=self.store,
                session_class=self.session_class,
                cookie_name=name,
                cookie_path=path,
                cookie_max_age=None,
                migrate_from=self._reader(keys),
                **self.core_options,
            )
            with self._lock:
                if len(self._cores) >= _MAX_CORES:
                    self._cores.clear()
                self._cores[key] = core
        return core

    # -- the WSGI side: load before Flask runs ------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        core = self.core_for(self.app)
        if core is None:  # no secret key: Flask's own null session, as without init_app
            return self.wsgi_app(environ, start_response)
        view = from_environ(environ)
        try:
            opened = self.load(core, view)
        except StoreError as error:
            failure = core.unavailable("loading a session", error, view)
            start_response(_STATUS_503, failure.headers)
            emit(core.on_event, failure.event)
            return [failure.body]
        state = RequestState(core, opened, view, attached=True)
        opened.session._request = state  # type: ignore[attr-defined]
        environ["session"] = opened.session
        environ[STATE_KEY] = state

        def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if state.failed is not None:
                return start_response(_STATUS_503, state.failed.headers, exc_info)
            if state.vary:
                headers = state.core.response_headers(headers, None, accessed=True) or headers
            return start_response(status, headers, exc_info)

        app_iter = (self._dispatch or self._app(core))(environ, respond)
        if state.failed is not None:
            close = getattr(app_iter, "close", None)
            if close is not None:
                close()
            emit(core.on_event, state.failed.event)
            return [state.failed.body]
        return app_iter

    def _app(self, core: SessionCore) -> WSGIApplication:
        if self._dispatch is None:
            self._dispatch = mount_wsgi(self.wsgi_app, core)  # the REST API, at api_path if set
        return self._dispatch

    def load(self, core: SessionCore, view: RequestView) -> Opened:
        """The request's session. As with Flask, a cookie that no current key signed is
        ignored rather than cleared, so a mistaken key change loses nothing; with
        ``migrate_from`` such a cookie may be the previous library's, carried over by the core."""
        start = core.begin(view)
        if isinstance(start, CookieState):  # a verified cookie: one store operation
            assert start.load is not None
            return core.opened(view, start, start.load.run(core.store))
        if start.cookie.stale:  # no session, and the cookie did not verify
            return start._replace(cookie=NO_COOKIE)
        return start

    def _reader(self, keys: tuple[str | bytes, ...]) -> LegacyCookie | None:
        """The reader of the sessions ``migrate_from`` names, for these keys."""
        app = self.app
        if self.migrate == "flask":
            return FlaskCookie(keys, config.lifetime(app), clock=self.store.clock, python_values=True)
        if self.migrate == "flask-session":
            return FlaskSessionRedis(
                config.flask_session_client(app),
                prefix=config.flask_session_prefix(app),
                secret_keys=keys,
                use_signer=bool(app.config.get("SESSION_USE_SIGNER")),
                python_values=True,
            )
        return None

    def open_detached(self, app: Flask, environ: WSGIEnvironment) -> FlaskSession | None:
        """The session of a request that did not come through the WSGI wrapper."""
        core = self.core_for(app)
        if core is None:
            return None
        view = from_environ(environ)
        opened = self.load(core, view)
        state = RequestState(core, opened, view, attached=False)
        session = opened.session
        assert isinstance(session, FlaskSession)
        session._request = state
        environ[STATE_KEY] = state
        return session

    # -- the Flask side: save where Flask saves ------------------------------------------

    def save(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Commit the session and set the cookie as Flask's ``save_session`` would
        (``TrackedSessionInterface.save_session`` is this method)."""
        # The class check first: an isinstance of FlaskSession, an ABC, costs more.
        if type(session) is not self.session_class and not isinstance(session, FlaskSession):
            return
        state = session._request
        if state is None:
            return
        core, status = state.core, response.status_code
        flow = core.commit(state.opened, state.view, status)
        # Flask's should_set_cookie, for a stored session with data: the app wrote to it
        # (any write, as Flask counts them, or ``modified = True``), or it is permanent and
        # SESSION_REFRESH_EACH_REQUEST slides its expiry on every request. Nested changes
        # are saved without a cookie, which does not change.
        resend = (
            status < 500
            and session._record is not None
            and bool(dict.__len__(session))
            and (session._modified_flag or (session._is_permanent() and config.refresh_each_request(app)))
        )
        if flow is None and not resend:
            if session._accessed:
                if state.attached:
                    state.vary = True
                else:
                    vary_on_cookie(response)
            return  # most requests: nothing to write, no cookie to send
        accessed, permanent = session._accessed, session._is_permanent()
        # The environ as the app saw it: a ProxyFix inside the wrapper may have changed the
        # scheme and the peer since the session was loaded.
        view = self._view_now(state.view)
        if flow is not None and view is not state.view:
            flow = core.commit(state.opened, view, status)
        # Read the cookie's settings before any write: a setting Flask would refuse raises first.
        settings = config.cookie_settings(app, self.overrides, permanent=permanent)
        header = None
        if flow is not None:
            try:
                committed = run_flow(flow, core.store)
            except StoreError as error:
                if not state.attached:
                    raise
                state.failed = core.unavailable("saving a session", error, view, session)
                return
            header = committed.set_cookie
            for event in committed.events:
                emit(core.on_event, event)
        https = view.https
        cookie = None
        if header is not None:
            value = header.partition(";")[0].partition("=")[2]
            cookie = set_cookie(settings, value, https) if value else clear_cookie(settings, https)
        elif resend:
            cookie = set_cookie(settings, core.signer.sign(session.id), https)
        headers = core.response_headers(list(response.headers.items()), cookie, accessed)
        if headers is not None:
            response.headers.clear()
            response.headers.extend(headers)

    @staticmethod
    def _view_now(view: RequestView) -> RequestView:
        """``view``, or a new one if the environ's scheme or peer changed since it was taken."""
        environ = flask.request.environ if flask.has_request_context() else None
        if environ is None or (environ.get("wsgi.url_scheme"), environ.get("REMOTE_ADDR")) == (view.scheme, view.peer):
            return view
        return from_environ(environ)


def vary_on_cookie(response: Response) -> None:
    """``response.vary.add("Cookie")`` without parsing a ``Vary`` the response does not
    have (most responses): Werkzeug's header set costs more than the rest of a save."""
    headers = response.headers
    for name, _ in headers:
        if name.lower() == "vary":
            response.vary.add("Cookie")
            return
    headers.add("Vary", "Cookie")
