"""The middleware's decisions, free of any I/O: shared by the ASGI and WSGI adapters."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any, Literal, NamedTuple, Required, TypedDict

from .client_info import ClientName, checked_client_name, default_client_name, parse_trusted_proxies
from .cookies import clear_cookie, is_cookie_name, merge_vary, session_cookie_values, set_cookie, with_cookie
from .flow import Flow, StoreCall
from .records import SessionRecord, id_hash
from .session import Session
from .signing import CookieSigner, normalize_secret_keys
from .stores.base import Clock, Store
from .stores.memory import MemoryStore

# Theory of operation
# -------------------
# A request goes through three steps, each decided here and carried out by an adapter:
#
# 1. ``read_cookie``: find the session cookie and verify its signature. No store call
#    happens for a request without a cookie or with a bad one (tampering costs nothing).
# 2. The adapter calls ``store.load_and_touch(id)`` (one operation: load, refresh
#    ``last_request`` and the idle expiry) and ``open_session`` wraps the result. A
#    cookie whose session is gone is *stale*: the request gets a new empty session.
# 3. When the response starts (``http.response.start`` / ``start_response``), the
#    adapter drives ``commit_flow``, which yields the store calls this request needs
#    and returns the Set-Cookie value, if any. Nothing is written for a 5xx response;
#    an unchanged session costs no write; a session closed meanwhile is never
#    recreated, because every write is conditional on the session still existing.

logger = logging.getLogger("session_middleware")

DEFAULT_IDLE_TIMEOUT = 24 * 3600.0
DEFAULT_ABSOLUTE_TIMEOUT = 14 * 24 * 3600.0
DEFAULT_COOKIE_NAME = "session"
DEFAULT_API_PATH = "/sessions"
#: How many verified Cookie headers a middleware remembers (see ``read_cookie``), and
#: the longest it remembers; about 4096 * 400 bytes for typical headers.
COOKIE_MEMO_SIZE = 4096
COOKIE_MEMO_MAX_HEADER = 1024
#: Seconds a client is told to wait when the store is unavailable.
RETRY_AFTER_SECONDS = 2

SameSite = Literal["lax", "strict", "none"]


class SessionOptions(TypedDict, total=False):
    """The keyword options of both middlewares (see the configuration reference)."""

    secret_key: Required[str | bytes | Sequence[str | bytes]]
    store: Store
    clock: Clock
    idle_timeout: float | timedelta
    absolute_timeout: float | timedelta
    cookie_name: str
    cookie_path: str
    cookie_domain: str | None
    cookie_secure: bool | None
    cookie_httponly: bool
    cookie_samesite: SameSite | None
    cookie_partitioned: bool
    trusted_proxies: Iterable[str]
    client_name: ClientName | None
    max_sessions_per_user: int | None
    api_path: str | None
    api_token: str | Sequence[str] | None
    api_authorize: Callable[..., Any] | None
    id_header: str | None


class CookieState(NamedTuple):
    """What the request's cookie said (a named tuple: built on every request, and a frozen
    dataclass costs three times as much to construct)."""

    #: The verified session id, or None.
    session_id: str | None = None
    #: The request carried a session cookie that gives no session: clear it.
    stale: bool = False
    #: The cookie was signed with the newest key (else re-signed on the next write).
    current_key: bool = True


NO_COOKIE = CookieState()
BAD_COOKIE = CookieState(stale=True)


#: Longest accepted timeout (100 years): the cookie's Expires date must stay representable.
MAX_TIMEOUT = 100 * 365 * 24 * 3600.0


#: Headers that ``id_header`` must not name: the middleware or HTTP itself owns them.
_RESERVED_HEADERS = frozenset(
    {"cookie", "set-cookie", "authorization", "host", "vary", "cache-control", "content-type", "content-length"}
)


def _check_id_header(name: str | None) -> str | None:
    if name is None:
        return None
    if not isinstance(name, str) or not is_cookie_name(name) or name.lower() in _RESERVED_HEADERS:
        raise ValueError(f"id_header {name!r} must be a header name (RFC 9110 token) such as 'X-Session-Id'")
    return name


def _seconds(value: float | timedelta, name: str) -> float:
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if not 0 < seconds <= MAX_TIMEOUT:  # also refuses NaN and infinity
        raise ValueError(f"{name} must be a positive number of seconds, at most 100 years")
    return seconds


class SessionCore:
    """Validated configuration and the pure decisions of the session lifecycle."""

    def __init__(self, **options: Any) -> None:
        opts: SessionOptions = options  # type: ignore[assignment]
        unknown = set(options) - set(SessionOptions.__annotations__)
        if unknown:
            raise TypeError(f"unknown session option(s): {', '.join(sorted(unknown))}")
        if "secret_key" not in opts:
            raise TypeError("secret_key is required")
        self.signer = CookieSigner(normalize_secret_keys(opts["secret_key"]))
        self._cookie_memo: dict[str, CookieState] = {}
        store, clock = opts.get("store"), opts.get("clock")
        if store is not None and clock is not None and store.clock is not clock:
            raise ValueError("pass clock= to your store; the middleware uses the store's clock")
        self.store: Store = store if store is not None else MemoryStore(clock=clock or time.time)
        self.idle_timeout = _seconds(opts.get("idle_timeout", DEFAULT_IDLE_TIMEOUT), "idle_timeout")
        self.absolute_timeout = _seconds(opts.get("absolute_timeout", DEFAULT_ABSOLUTE_TIMEOUT), "absolute_timeout")
        self.cookie_name = opts.get("cookie_name", DEFAULT_COOKIE_NAME)
        self.cookie_path = opts.get("cookie_path", "/")
        self.cookie_domain = opts.get("cookie_domain")
        self.cookie_secure = opts.get("cookie_secure")
        self.cookie_httponly = opts.get("cookie_httponly", True)
        samesite = opts.get("cookie_samesite", "lax")
        self.cookie_samesite = None if samesite is None else samesite.lower()
        self.cookie_partitioned = opts.get("cookie_partitioned", False)
        self._check_cookie_options()
        self.trusted_proxies = parse_trusted_proxies(opts.get("trusted_proxies", ()))
        client_name = opts.get("client_name")
        self.client_name: ClientName = default_client_name if client_name is None else checked_client_name(client_name)
        self.max_sessions_per_user = opts.get("max_sessions_per_user")
        if self.max_sessions_per_user is not None and self.max_sessions_per_user < 1:
            raise ValueError("max_sessions_per_user must be at least 1 (or None)")
        api_path = opts.get("api_path", DEFAULT_API_PATH)
        if api_path is not None:
            api_path = api_path.rstrip("/")  # "//" would otherwise become "" and take every path
            if not api_path.startswith("/") or not api_path.isprintable() or "?" in api_path:
                raise ValueError("api_path must start with '/' and name a path below the root")
        self.api_path = api_path
        self.api_token = opts.get("api_token")
        self.api_authorize = opts.get("api_authorize")
        self.id_header = _check_id_header(opts.get("id_header"))
        #: The WSGI environ key of ``id_header`` (``X-Session-Id``: ``HTTP_X_SESSION_ID``).
        self.id_header_environ = None if self.id_header is None else "HTTP_" + self.id_header.upper().replace("-", "_")

    def api_options(self) -> dict[str, Any]:
        """Keyword arguments for ``sessions_api.create_*_app`` when mounted at ``api_path``."""
        return {
            "api_token": self.api_token,
            "api_authorize": self.api_authorize,
            "idle_timeout": self.idle_timeout,
            "absolute_timeout": self.absolute_timeout,
            "max_sessions_per_user": self.max_sessions_per_user,
        }

    def is_api_path(self, path: str) -> bool:
        """Whether a request path (below the app's root) belongs to the mounted REST API."""
        api = self.api_path
        return api is not None and path.startswith(api) and (len(path) == len(api) or path[len(api)] == "/")

    def _check_cookie_options(self) -> None:
        name = self.cookie_name
        if not is_cookie_name(name):
            raise ValueError(f"cookie_name {name!r} is not a valid cookie name (RFC 6265 token)")
        if self.cookie_samesite not in (None, "lax", "strict", "none"):
            raise ValueError("cookie_samesite must be 'lax', 'strict', 'none' or None")
        needs_secure = []
        # Browsers match the prefixes case-insensitively (RFC 6265bis): so does this check.
        prefix = name[:9].lower()
        if prefix.startswith("__host-"):
            if self.cookie_path != "/" or self.cookie_domain is not None:
                raise ValueError("a __Host- cookie needs cookie_path='/' and no cookie_domain")
            needs_secure.append("a __Host- cookie name")
        if prefix == "__secure-":
            needs_secure.append("a __Secure- cookie name")
        if self.cookie_samesite == "none":
            needs_secure.append("cookie_samesite='none'")
        if self.cookie_partitioned:
            needs_secure.append("cookie_partitioned")
        if needs_secure:
            if self.cookie_secure is False:
                raise ValueError(f"{needs_secure[0]} requires cookie_secure (not False)")
            self.cookie_secure = True  # None would mean "only on https": these need it always
        if self.cookie_domain is not None and not is_cookie_name(self.cookie_domain):
            raise ValueError(f"cookie_domain {self.cookie_domain!r} is not a valid domain")
        if not self.cookie_path.startswith("/") or not self.cookie_path.isprintable() or ";" in self.cookie_path:
            raise ValueError("cookie_path must be an absolute path without ';' or control characters")

    # -- step 1: the cookie ----------------------------------------------------------

    def read_cookie(self, header: str | None) -> CookieState:
        """Find and verify the session cookie in a ``Cookie`` header.

        Duplicate session cookies (a subdomain can plant one with a longer Path, which
        browsers send first): the first value whose signature verifies is used, unless
        another value also verifies with a different id. Then neither is trusted, the
        request is anonymous and the response clears the cookie, so a planted cookie
        can never stand in for the user's own session.
        """
        if not header:
            return NO_COOKIE
        # A browser sends the same Cookie header on every request, and the answer for a
        # header is a function of the header and the keys alone. Only headers whose
        # session cookie verified are remembered, by the whole header: a hit needs the
        # exact signed cookie; anything forged or odd always takes the full path below.
        known = self._cookie_memo.get(header)
        if known is not None:
            return known
        values = session_cookie_values(header, self.cookie_name)
        if not values:
            return NO_COOKIE
        found = None
        for value in values:
            verified = self.signer.verify(value)
            if verified is None:
                continue
            if found is None:
                found = verified
            elif verified.session_id != found.session_id:
                logger.warning("two different valid session cookies in one request; ignoring both")
                return BAD_COOKIE
        if found is None:
            logger.debug("session cookie with a bad signature ignored")
            return BAD_COOKIE
        state = CookieState(found.session_id, current_key=found.current_key)
        if len(header) <= COOKIE_MEMO_MAX_HEADER:
            if len(self._cookie_memo) >= COOKIE_MEMO_SIZE:
                self._cookie_memo.clear()
            self._cookie_memo[header] = state
        return state

    def read_credentials(self, cookie_header: str | None, id_header: str | None) -> CookieState:
        """The signed id of a request: from ``id_header`` when configured and sent (not
        empty), else from the cookie. The header is verified exactly like the cookie."""
        if self.id_header is None or id_header is None or not id_header.strip():
            return self.read_cookie(cookie_header)
        verified = self.signer.verify(id_header.strip())
        if verified is None:
            logger.debug("session id header with a bad signature ignored")
            return BAD_COOKIE
        return CookieState(verified.session_id, current_key=verified.current_key)

    # -- step 2: the session ---------------------------------------------------------

    def open_session(
        self,
        cookie: CookieState,
        record: SessionRecord | None,
        origin: Callable[[], tuple[str, str]],
    ) -> tuple[Session, CookieState]:
        """The request's ``Session``; a cookie without a live session becomes stale."""
        if record is None and cookie.session_id is not None:
            logger.debug("session %s is gone; starting a new one", id_hash(cookie.session_id))
            cookie = BAD_COOKIE
        now = record.last_request if record is not None else self.store.clock()
        return Session(record, now=now, origin=origin), cookie

    # -- step 3: the commit ----------------------------------------------------------

    def commit_flow(
        self, session: Session, cookie: CookieState, *, status: int, https: bool, can_set_cookie: bool = True
    ) -> Flow[str | None]:
        """Save what the request changed; return the ``Set-Cookie`` value to send, if any.

        ``can_set_cookie`` is False for websockets: nothing is created there, since the
        browser could never learn the new id.
        """
        if status >= 500:
            return None
        secure = https if self.cookie_secure is None else self.cookie_secure
        outcome: str | None = self._clear_cookie(secure) if cookie.stale else None
        if session._closed_id is not None:
            yield StoreCall("delete", (session._closed_id,))
            logger.info("session %s closed (logout)", id_hash(session._closed_id))
            outcome = self._clear_cookie(secure)
        record = session._record
        if record is None:
            if (session._values or session._user is not None) and can_set_cookie:
                new = self._new_record(session, session._origin())
                yield StoreCall("create", (new,), {"max_per_user": self._cap(new)})
                logger.info("session %s opened", id_hash(new.id))
                outcome = self._set_cookie(new.id, secure)
        elif session._regenerate and can_set_cookie and not self._emptied(session, record):
            new = self._regenerated(session, record)
            created = yield StoreCall("create", (new,), {"replaces": record.id, "max_per_user": self._cap(new)})
            # A session closed while this request held it leaves the cookie alone: the
            # browser may already hold a newer one (a concurrent login) that clearing
            # would log out. A stale cookie is cleared by the next request that sends it.
            if created:
                logger.info("session %s regenerated as %s", id_hash(record.id), id_hash(new.id))
                outcome = self._set_cookie(new.id, secure)
            else:
                logger.info("session %s closed during the request; not regenerated", id_hash(record.id))
        elif self._emptied(session, record):
            deleted = yield StoreCall("delete", (record.id,))  # an anonymous session emptied: forget it
            if deleted:
                outcome = self._clear_cookie(secure)
        else:
            changes = session._changes()
            if changes:
                saved = yield StoreCall("save_changes", (record.id, changes))
                if not saved:
                    logger.info("session %s closed during the request; not saved", id_hash(record.id))
                elif not cookie.current_key:
                    outcome = self._set_cookie(record.id, secure)  # re-sign with the newest key
        return outcome

    def needs_commit(self, session: Session, cookie: CookieState) -> bool:
        """Whether ``commit_flow`` has anything to do. Most requests neither change, close
        nor regenerate a loaded session, nor start one: the adapters then skip the flow
        and its store driver (False here means the flow would call nothing, return None)."""
        if cookie.stale or session._closed_id is not None:
            return True
        if session._record is None:
            return bool(session._values) or session._user is not None
        return session._dirty or session._regenerate

    def response_headers(self, headers: list[tuple[str, str]], set_cookie: str) -> list[tuple[str, str]]:
        """``headers`` with ``set_cookie`` added (see ``cookies.with_cookie``) and, with
        ``id_header``, that header carrying the same signed id, or ``""`` when the cookie
        is cleared; the header name joins ``Vary``."""
        headers = with_cookie(headers, set_cookie)
        name = self.id_header
        if name is None:
            return headers
        # set_cookie was made here: "name=value; ..." with a signed id (never quoted) or "".
        value = set_cookie.partition(";")[0].partition("=")[2]
        vary = merge_vary(", ".join(v for n, v in headers if n.lower() == "vary"), name)
        kept = [(n, v) for n, v in headers if n.lower() not in ("vary", name.lower())]
        return [*kept, (name, value), ("Vary", vary)]

    @staticmethod
    def _emptied(session: Session, record: SessionRecord) -> bool:
        """An anonymous session left with no data: forgotten, even if also regenerated."""
        return not session._values and session._user is None and (session._cleared or bool(record.data))

    def _cap(self, record: SessionRecord) -> int | None:
        return self.max_sessions_per_user if record.user is not None else None

    def _new_record(self, session: Session, origin: tuple[str, str]) -> SessionRecord:
        now = self.store.clock()
        return SessionRecord(
            id=session.id,
            opened=now,
            last_request=now,
            idle_timeout=self.idle_timeout,
            absolute_expiry=now + self.absolute_timeout,
            address=origin[0],
            client=origin[1],
            user=session._user,
            data=session._data(),
        )

    def _regenerated(self, session: Session, record: SessionRecord) -> SessionRecord:
        if session._logged_in:
            # A login starts a new session for that user: new times, this device.
            return self._new_record(session, session._origin())
        return replace(record, id=session.id, user=session._user, data=session._data())

    def _set_cookie(self, session_id: str, secure: bool) -> str:
        return set_cookie(
            self.cookie_name,
            self.signer.sign(session_id),
            max_age=int(self.absolute_timeout),
            path=self.cookie_path,
            domain=self.cookie_domain,
            secure=secure,
            httponly=self.cookie_httponly,
            samesite=self.cookie_samesite,
            partitioned=self.cookie_partitioned,
        )

    def _clear_cookie(self, secure: bool) -> str:
        return clear_cookie(
            self.cookie_name,
            path=self.cookie_path,
            domain=self.cookie_domain,
            secure=secure,
            httponly=self.cookie_httponly,
            samesite=self.cookie_samesite,
            partitioned=self.cookie_partitioned,
        )
