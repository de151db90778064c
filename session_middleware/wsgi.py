"""The WSGI adapter: saves the session when the app calls ``start_response``."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Unpack

from .client_info import client_address
from .core import RETRY_AFTER_SECONDS, CookieState, SessionCore, SessionOptions
from .exceptions import StoreError
from .flow import run_flow
from .session import Session

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

logger = logging.getLogger("session_middleware")

_UNAVAILABLE_BODY = b"The session store is unavailable; please retry shortly.\n"
_UNAVAILABLE_STATUS = "503 Service Unavailable"
_UNAVAILABLE_HEADERS = [
    ("Content-Type", "text/plain; charset=utf-8"),
    ("Content-Length", str(len(_UNAVAILABLE_BODY))),
    ("Retry-After", str(RETRY_AFTER_SECONDS)),
    ("Cache-Control", "no-store"),
]


class WSGISessionMiddleware:
    """Server-side sessions for any WSGI app: ``environ["session"]`` is the :class:`Session`.

    For Flask: ``app.wsgi_app = WSGISessionMiddleware(app.wsgi_app, secret_key=...)``.
    Same options and behaviour as the ASGI :class:`~session_middleware.SessionMiddleware`.
    """

    def __init__(self, app: WSGIApplication, **options: Unpack[SessionOptions]) -> None:
        self.app = app
        self.core = SessionCore(**options)
        self._api: WSGIApplication | None = None

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        core = self.core
        id_value = None if core.id_header_environ is None else environ.get(core.id_header_environ)
        cookie = core.read_credentials(environ.get("HTTP_COOKIE"), id_value)
        record = None
        if cookie.session_id is not None:
            try:
                record = core.store.load_and_touch(cookie.session_id)
            except Exception:
                logger.exception("session store failed while loading a session")
                start_response(_UNAVAILABLE_STATUS, list(_UNAVAILABLE_HEADERS))
                return [_UNAVAILABLE_BODY]
        session, cookie = core.open_session(cookie, record, lambda: _origin(core, environ))
        environ["session"] = session
        responder = _Responder(core, session, cookie, environ.get("wsgi.url_scheme") == "https", start_response)
        app = self.app
        if core.is_api_path(environ.get("PATH_INFO", "")):
            app = self._api_app()
            api_path = core.api_path or ""
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + api_path
            environ["PATH_INFO"] = environ["PATH_INFO"][len(api_path) :]
        app_iter = app(environ, responder.start_response)
        if responder.failed:
            _close(app_iter)
            return [_UNAVAILABLE_BODY]
        if not responder.started:
            return responder.lazy(app_iter)  # start_response will come with the first chunk
        return app_iter

    def _api_app(self) -> WSGIApplication:
        if self._api is None:
            from .api import create_wsgi_app

            self._api = create_wsgi_app(self.core.store, **self.core.api_options())
        return self._api


class _Responder:
    """Per-request state: commits on the first ``start_response`` call."""

    __slots__ = ("core", "session", "cookie", "https", "real_start_response", "started", "failed")

    def __init__(
        self, core: SessionCore, session: Session, cookie: CookieState, https: bool, start_response: StartResponse
    ) -> None:
        self.core = core
        self.session = session
        self.cookie = cookie
        self.https = https
        self.real_start_response = start_response
        self.started = False
        self.failed = False

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None) -> Any:
        if self.started:  # a second call (with exc_info): the commit is done
            return self.real_start_response(status, headers, exc_info)
        self.started = True
        if not self.core.needs_commit(self.session, self.cookie):
            return self.real_start_response(status, headers, exc_info)
        flow = self.core.commit_flow(self.session, self.cookie, status=_status_code(status), https=self.https)
        try:
            set_cookie = run_flow(flow, self.core.store)
        except StoreError:
            logger.exception("session store failed while saving a session")
            self.failed = True
            self.real_start_response(_UNAVAILABLE_STATUS, list(_UNAVAILABLE_HEADERS), exc_info)
            return _discard
        if set_cookie is not None:
            headers[:] = self.core.response_headers(headers, set_cookie)
        return self.real_start_response(status, headers, exc_info)

    def lazy(self, app_iter: Iterable[bytes]) -> Iterator[bytes]:
        try:
            for chunk in app_iter:
                if self.failed:
                    break
                yield chunk
        finally:
            _close(app_iter)
        if self.failed:  # also when the app yielded nothing: the 503 promised this body
            yield _UNAVAILABLE_BODY


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


def _headers(environ: WSGIEnvironment) -> Mapping[str, str]:
    headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = environ[key]
    return headers


def _origin(core: SessionCore, environ: WSGIEnvironment) -> tuple[str, str]:
    headers = _headers(environ)
    peer = environ.get("REMOTE_ADDR")
    return client_address(peer, headers.get("x-forwarded-for"), core.trusted_proxies), core.client_name(headers)
