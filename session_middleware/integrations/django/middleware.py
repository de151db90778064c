"""The middleware that replaces ``django.contrib.sessions.middleware.SessionMiddleware``.

It does what Django's does (the same settings, ``Vary: Cookie``, the cookie rules of
``SESSION_SAVE_EVERY_REQUEST`` and ``SESSION_EXPIRE_AT_BROWSER_CLOSE``, nothing saved for
a 5xx) and what this package adds: the cookie is a signed id, the session is loaded in
one store round trip before the view runs, the request's address and client are
recorded, responses that set or clear the cookie carry ``Cache-Control: no-store``, and
a store outage answers 503 with ``Retry-After`` instead of logging anybody out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from importlib import import_module
from typing import NamedTuple

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import patch_vary_headers
from django.utils.http import http_date

from ..._client_info import client_address, default_client_name
from ..._cookies import session_cookie_values
from ..._signing import VerifiedCookie
from ...exceptions import StoreError
from .config import RETRY_AFTER_SECONDS, DjangoConfig, get_config
from .engine import SessionStore
from .migration import amigrate, migrate

logger = logging.getLogger("session_middleware")


class CookieRead(NamedTuple):
    #: The signed value to open the session with, or None.
    value: str | None
    #: The request carried a session cookie at all (a bad one is cleared).
    present: bool


def read_cookie(header: str, name: str, verify: Callable[[str], VerifiedCookie | None]) -> CookieRead:
    """The session cookie of a ``Cookie`` header.

    Of duplicate cookies (a subdomain can plant one) the first that verifies is used,
    unless another verifies with a different id: then neither is trusted.
    """
    values = session_cookie_values(header, name)
    found: tuple[str, str] | None = None
    for value in values:
        verified = verify(value)
        if verified is None:
            continue
        if found is None:
            found = (value, verified.session_id)
        elif verified.session_id != found[1]:
            logger.warning("two different valid session cookies in one request; ignoring both")
            return CookieRead(None, True)
    return CookieRead(None if found is None else found[0], bool(values))


def origin(request: HttpRequest, config: DjangoConfig) -> tuple[str, str]:
    """``(address, client)`` of a request: the peer (or, behind trusted proxies, the
    client they name) and the cleaned User-Agent."""
    meta = request.META
    address = client_address(meta.get("REMOTE_ADDR"), meta.get("HTTP_X_FORWARDED_FOR"), config.trusted_proxies)
    return address, default_client_name({"user-agent": meta.get("HTTP_USER_AGENT", "")})


def unavailable() -> HttpResponse:
    """The answer when the store fails: try again shortly; the cookie is left alone."""
    response = HttpResponse("Session store unavailable", status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def _log_outage(exc: StoreError) -> None:
    logger.error("session store unavailable: %s", exc)
    logger.debug("session store failure", exc_info=exc)


class SessionMiddleware(DjangoSessionMiddleware):
    """Put it where ``django.contrib.sessions.middleware.SessionMiddleware`` was.

    Runs sync under WSGI and async under ASGI (Django picks the mode), with the store's
    sync or async methods accordingly. It subclasses Django's middleware only so that
    checks looking for it (the admin's ``admin.E410``) find it; none of its code runs.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]]) -> None:
        engine = import_module(settings.SESSION_ENGINE)
        if not issubclass(getattr(engine, "SessionStore", object), SessionStore):
            raise ImproperlyConfigured(
                'this SessionMiddleware needs SESSION_ENGINE = "session_middleware.integrations.django"'
            )
        super().__init__(get_response)  # type: ignore[arg-type]
        self.is_async = iscoroutinefunction(get_response)
        get_config()  # a misconfiguration fails when the server starts, not on a request

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.is_async:
            return self.__acall__(request)
        config = get_config()
        try:
            cookie = self._open(request, config)
            session = request.session
            assert isinstance(session, SessionStore)
            session.server_loop = False
            if cookie.value is not None and session.session_id is not None:
                session.preload()
            elif cookie.present and config.migrate_from is not None:
                self._migrate(request, config, session)
        except StoreError as exc:
            _log_outage(exc)
            return unavailable()
        response = self.get_response(request)
        assert isinstance(response, HttpResponseBase)
        try:
            return self._finish(request, response, cookie)
        except StoreError as exc:
            _log_outage(exc)
            return unavailable()

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        config = get_config()
        try:
            cookie = self._open(request, config)
            session = request.session
            assert isinstance(session, SessionStore)
            if cookie.value is not None and session.session_id is not None:
                await session.apreload()
            elif cookie.present and config.migrate_from is not None:
                await self._amigrate(request, config, session)
        except StoreError as exc:
            _log_outage(exc)
            return unavailable()
        response = self.get_response(request)
        assert not isinstance(response, HttpResponseBase)
        awaited = await response
        try:
            plan = self._plan(request, awaited)
            if plan.save:
                await self._asave(request.session)  # type: ignore[arg-type]
            return self._respond(request, awaited, cookie, plan)
        except StoreError as exc:
            _log_outage(exc)
            return unavailable()

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A view that touched the store while it was down gets a 503 too."""
        if isinstance(exception, StoreError):
            _log_outage(exception)
            return unavailable()
        return None

    # -- the request ---------------------------------------------------------------------

    @staticmethod
    def _open(request: HttpRequest, config: DjangoConfig) -> CookieRead:
        cookie = read_cookie(request.META.get("HTTP_COOKIE", ""), config.django.cookie_name, config.verify)
        session = SessionStore(cookie.value)
        session.origin = lambda: origin(request, config)
        request.session = session
        return cookie

    @staticmethod
    def _old_cookie(request: HttpRequest) -> str | None:
        value = request.COOKIES.get(get_config().django.cookie_name)
        return value or None

    def _migrate(self, request: HttpRequest, config: DjangoConfig, session: SessionStore) -> None:
        old = self._old_cookie(request)
        if old is not None and config.migrate_from is not None:
            migrate(config.migrate_from, old, session)

    async def _amigrate(self, request: HttpRequest, config: DjangoConfig, session: SessionStore) -> None:
        old = self._old_cookie(request)
        if old is not None and config.migrate_from is not None:
            await amigrate(config.migrate_from, old, session)

    # -- the response --------------------------------------------------------------------

    def _finish(self, request: HttpRequest, response: HttpResponseBase, cookie: CookieRead) -> HttpResponseBase:
        plan = self._plan(request, response)
        if plan.save:
            self._save(request.session)  # type: ignore[arg-type]
        return self._respond(request, response, cookie, plan)

    class _Plan(NamedTuple):
        save: bool
        set_cookie: bool

    _NOTHING = _Plan(False, False)

    def _plan(self, request: HttpRequest, response: HttpResponseBase) -> _Plan:
        session = getattr(request, "session", None)
        if not isinstance(session, SessionStore):
            return self._NOTHING
        if response.status_code >= 500 or session.is_empty():
            return self._NOTHING
        save = (
            session.modified or get_config().django.save_every_request or (session.accessed and session.has_changes())
        )
        return self._Plan(save, save or session.resign)

    @staticmethod
    def _save(session: SessionStore) -> None:
        try:
            session.save()
        except UpdateError:
            pass  # closed meanwhile (a logout elsewhere): never written back

    @staticmethod
    async def _asave(session: SessionStore) -> None:
        try:
            await session.asave()
        except UpdateError:
            pass

    def _respond(
        self, request: HttpRequest, response: HttpResponseBase, cookie: CookieRead, plan: _Plan
    ) -> HttpResponseBase:
        session = getattr(request, "session", None)
        if not isinstance(session, SessionStore):
            return response
        if session.gone:
            # Closed while this request held it: the browser may already hold a newer
            # cookie (a concurrent login) that clearing would log out; the next request
            # that sends this one has it cleared.
            if session.accessed:
                vary_on_cookie(response)
            return response
        vary = session.accessed
        if plan.set_cookie or cookie.present:
            changed = self._write_cookie(request, response, session, cookie, plan)
        else:
            changed = False
        if changed:
            # No shared cache may keep one visitor's cookie for another.
            response["Cache-Control"] = "no-store"
        if vary or changed:
            vary_on_cookie(response)
        return response

    @staticmethod
    def _write_cookie(
        request: HttpRequest, response: HttpResponseBase, session: SessionStore, cookie: CookieRead, plan: _Plan
    ) -> bool:
        """Set or clear the session cookie as the plan says; whether the response changed."""
        django = get_config().django
        if session.is_empty() or (plan.set_cookie and session.session_key is None):
            if not cookie.present:
                return False
            response.delete_cookie(
                django.cookie_name,
                path=django.cookie_path,
                domain=django.cookie_domain,
                samesite=django.cookie_samesite,
            )
            return True
        if not plan.set_cookie:
            return False
        if session.get_expire_at_browser_close():
            max_age: int | None = None
            expires: str | None = None
        else:
            max_age = session.get_expiry_age()
            expires = http_date(time.time() + max_age)
        response.set_cookie(
            django.cookie_name,
            session.session_key,
            max_age=max_age,
            expires=expires,
            domain=django.cookie_domain,
            path=django.cookie_path,
            secure=django.cookie_secure or request.is_secure(),
            httponly=django.cookie_httponly,
            samesite=django.cookie_samesite,
        )
        return True


def vary_on_cookie(response: HttpResponseBase) -> None:
    """``patch_vary_headers(response, ("Cookie",))``, without its parsing when the
    response has no ``Vary`` yet (most responses)."""
    if "Vary" in response:
        patch_vary_headers(response, ("Cookie",))
    else:
        response["Vary"] = "Cookie"
