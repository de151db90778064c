"""The WSGI adapter: translates environs and ``start_response`` for the core, which decides everything."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Unpack

from ._core import CookieState, Opened, SessionCore, StarletteOptions
from ._mount import mount_wsgi
from ._ops import run_flow
from ._request import RequestView, from_environ
from .events import emit
from .exceptions import StoreError

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


class WSGISessionMiddleware:
    """Server-side sessions for any WSGI app: ``environ["session"]`` is the :class:`Session`.

    For Flask use ``session_middleware.integrations.flask.init_app``; for any other WSGI
    app ``app = WSGISessionMiddleware(app, secret_key=...)``. Same options and behaviour
    as the ASGI :class:`~session_middleware.SessionMiddleware`.
    """

    def __init__(self, app: WSGIApplication, *args: Any, **options: Unpack[StarletteOptions]) -> None:
        self.core = SessionCore(*args, **options)
        self.app = mount_wsgi(app, self.core)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        core = self.core
        view = from_environ(environ)
        opened = core.begin(view)
        if type(opened) is CookieState:
            try:
                record = opened.load.run(core.store)  # type: ignore[union-attr]
            except StoreError as error:
                failure = core.unavailable("loading a session", error, view)
                start_response(_status_line(failure.status), failure.headers)
                emit(core.on_event, failure.event)
                return [failure.body]
            opened = core.opened(view, opened, record)
        assert type(opened) is Opened
        environ["session"] = opened.session
        responder = _Responder(core, opened, view, start_response)
        app_iter = self.app(environ, responder.start_response)
        if responder.failed is not None:
            _close(app_iter)
            return [responder.failed]
        if not responder.started:
            return responder.lazy(app_iter)  # start_response will come with the first chunk
        return app_iter


class _Responder:
    """Per-request state: commits on the first ``start_response`` call."""

    __slots__ = ("core", "opened", "view", "downstream", "started", "failed")

    def __init__(self, core: SessionCore, opened: Opened, view: RequestView, start_response: StartResponse) -> None:
        self.core = core
        self.opened = opened
        self.view = view
        self.downstream = start_response
        self.started = False
        #: The 503 body that replaced the app's response, once a commit failed.
        self.failed: bytes | None = None

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None) -> Any:
        if self.started:  # a second call (with exc_info): the commit is done
            return self.downstream(status, headers, exc_info)
        self.started = True
        core = self.core
        set_cookie = None
        flow = core.commit(self.opened, self.view, _status_code(status))
        if flow is not None:
            try:
                committed = run_flow(flow, core.store)
            except StoreError as error:
                failure = core.unavailable("saving a session", error, self.view, self.opened.session)
                self.failed = failure.body
                self.downstream(_status_line(failure.status), failure.headers, exc_info)
                emit(core.on_event, failure.event)
                return _discard
            set_cookie = committed.set_cookie
            for event in committed.events:
                emit(core.on_event, event)
        changed = core.response_headers(headers, set_cookie, self.opened.session.accessed)
        if changed is not None:
            headers[:] = changed
        return self.downstream(status, headers, exc_info)

    def lazy(self, app_iter: Iterable[bytes]) -> Iterator[bytes]:
        try:
            for chunk in app_iter:
                if self.failed is not None:
                    break
                yield chunk
        finally:
            _close(app_iter)
        if self.failed is not None:  # also when the app yielded nothing: the 503 promised this body
            yield self.failed


def _discard(_data: bytes) -> None:
    """The ``write`` callable of a response replaced by a 503."""


def _close(app_iter: Iterable[bytes]) -> None:
    close = getattr(app_iter, "close", None)
    if close is not None:
        close()


def _status_code(status: str) -> int:
    try:
        return int(status[:3])
    except ValueError:
        return 500


def _status_line(code: int) -> str:
    return f"{code} {HTTPStatus(code).phrase}"
