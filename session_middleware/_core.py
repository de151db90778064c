"""The framework-neutral core: every lifecycle decision of a request, and no I/O.

Theory of operation
-------------------
An adapter (ASGI, WSGI, Flask) turns its request into a :class:`RequestView` and then:

1. runs :meth:`SessionCore.load` (a flow: at most one store operation). It reads the
   session cookie and verifies its signature; no store call happens for a request
   without a cookie or with a bad one, so tampering costs nothing. A cookie whose session
   is gone is *stale*: the request gets a new empty :class:`Session` and the response
   clears the cookie. The load refreshes ``last_request`` only when the stored one is
   older than ``touch_interval``.
2. hands the app the session, and when the response starts asks :meth:`SessionCore.commit`
   for the flow that saves it. The session sums up what the request did in one
   :class:`~session_middleware._session.Outcome`; :meth:`SessionCore._commit_flow` maps it
   to store operations and the ``Set-Cookie`` value, in one table. Nothing is written for
   a 5xx response; an unchanged session costs no write; a session closed meanwhile is
   never recreated, because every write is conditional on the session still existing.
3. asks :meth:`SessionCore.response_headers` for the headers to send: ``Set-Cookie`` with
   ``Cache-Control: no-store``, and ``Vary: Cookie`` whenever the app accessed the session.

A store failure is a :class:`~session_middleware.StoreError`: the adapter answers with
:meth:`SessionCore.unavailable` (503, ``Retry-After``); anything else is a bug and
propagates.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import Any, Literal, NamedTuple, TypedDict

from ._client_info import ClientName, checked_client_name, client_address, default_client_name, parse_trusted_proxies
from ._cookies import (
    CookieSettings,
    clear_cookie,
    is_cookie_name,
    merge_vary,
    path_matches,
    session_cookie_values,
    set_cookie,
)
from ._failure_log import StoreFailureLog
from ._migration import LegacyCookie, legacy_reader
from ._ops import Create, Delete, Flow, ListByUser, Load, SaveChanges
from ._policy import DEFAULT_ABSOLUTE_TIMEOUT, DEFAULT_IDLE_TIMEOUT, RETRY_AFTER_SECONDS, Policy
from ._request import RequestView
from ._session import NOTHING, Action, Outcome, Session
from ._signing import HOW_TO_MAKE_A_KEY, CookieSigner, normalize_secret_keys
from .events import CloseReason, EventHook, EventKind, SessionEvent
from .exceptions import StoreError
from .records import SessionRecord, id_hash
from .stores.base import Clock, Store, loads_inline
from .stores.memory import MemoryStore

logger = logging.getLogger("session_middleware")

DEFAULT_COOKIE_NAME = "session"
#: How many verified Cookie headers a middleware remembers (see ``read_cookie``), and
#: the longest it remembers; about 4096 * 400 bytes for typical headers. Measured in
#: docs/benchmarks.md ("Method"): a header seen before skips parsing and the HMAC, about
#: 2 us of a read.
COOKIE_MEMO_SIZE = 4096
COOKIE_MEMO_MAX_HEADER = 1024
#: The Vary value of a response that had none: the commonest case, built once.
_VARY_COOKIE_TEXT = merge_vary(None)
_VARY_COOKIE = _VARY_COOKIE_TEXT.encode("latin-1")

SameSite = Literal["lax", "strict", "none"]


class SessionOptions(TypedDict, total=False):
    """The keyword options of both middlewares (see the configuration reference); the
    secret key may instead come first, positionally, as Starlette's middleware takes it."""

    secret_key: Any
    store: Store
    clock: Clock
    idle_timeout: float | timedelta
    absolute_timeout: float | timedelta
    touch_interval: float | timedelta | None
    cookie_name: str
    cookie_path: str
    cookie_domain: str | None
    cookie_max_age: float | timedelta | None
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
    on_event: Callable[..., Any] | None
    migrate_from: Any


class StarletteOptions(SessionOptions, total=False):
    """Both middlewares also take Starlette's names for the cookie options (aliases)."""

    session_cookie: str
    max_age: float | timedelta | None
    path: str
    domain: str | None
    same_site: SameSite | None
    https_only: bool
    partitioned: bool


class CookieState(NamedTuple):
    """What the request's cookie said (a named tuple: built on every request)."""

    #: The verified session id, or None.
    session_id: str | None = None
    #: The request carried a session cookie that gives no session: clear it.
    stale: bool = False
    #: The cookie was signed with the newest key (else re-signed on the next write).
    current_key: bool = True
    #: The store operation that loads this cookie's session (built once: remembered
    #: cookies carry it, so a browser's repeat request allocates nothing to load).
    load: Load | None = None


NO_COOKIE = CookieState()
BAD_COOKIE = CookieState(stale=True)


class Opened(NamedTuple):
    """A request's session as loaded, with what its cookie said."""

    session: Session
    cookie: CookieState


class Committed(NamedTuple):
    """What a commit leaves for the adapter: the cookie to send and the events to emit."""

    set_cookie: str | None = None
    events: tuple[SessionEvent, ...] = ()


class Unavailable(NamedTuple):
    """The 503 an adapter answers with when the store failed, and the event to emit."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    event: SessionEvent


#: Headers that ``id_header`` must not name: the middleware or HTTP itself owns them.
_RESERVED_HEADERS = frozenset(
    {"cookie", "set-cookie", "authorization", "host", "vary", "cache-control", "content-type", "content-length"}
)
_HOW_TO_STORE = "pass a store object, e.g. store=MemoryStore() or store=RedisStore(url='redis://127.0.0.1:6379/0')"


def _check_id_header(name: str | None) -> str | None:
    if name is None:
        return None
    if not isinstance(name, str) or not is_cookie_name(name) or name.lower() in _RESERVED_HEADERS:
        raise ValueError(f"id_header {name!r} must be a header name (RFC 9110 token) such as 'X-Session-Id'")
    return name


def _check_store(store: object) -> Store:
    if isinstance(store, type):
        raise TypeError(f"store must be a store object, not the class {store.__name__}: {_HOW_TO_STORE}")
    if not isinstance(store, Store):
        raise TypeError(f"store must be a session store, not {type(store).__name__}: {_HOW_TO_STORE}")
    return store


def _check_api_path(api_path: str | None) -> str | None:
    if api_path is None:
        return None
    if not isinstance(api_path, str):
        raise TypeError("api_path must be a path such as '/sessions', or None")
    api_path = api_path.rstrip("/")  # "//" would otherwise become "" and take every path
    if not api_path.startswith("/") or not api_path.isprintable() or "?" in api_path:
        raise ValueError("api_path must start with '/' and name a path below the root, such as '/sessions'")
    return api_path


class SessionCore:
    """Validated configuration and the pure decisions of the session lifecycle."""

    def __init__(self, *args: Any, session_class: type[Session] = Session, **options: Any) -> None:
        from ._options import resolve_options

        opts: SessionOptions = resolve_options(args, options)  # type: ignore[assignment]
        if "secret_key" not in opts:
            raise TypeError(f"secret_key is required; {HOW_TO_MAKE_A_KEY}")
        secret_keys = normalize_secret_keys(opts["secret_key"])
        self.signer = CookieSigner(secret_keys)
        self._cookie_memo: dict[str, CookieState] = {}
        store, clock = opts.get("store"), opts.get("clock")
        if store is not None:
            store = _check_store(store)
            if clock is not None and store.clock is not clock:
                raise ValueError("pass clock= to your store; the middleware uses the store's clock")
        self.store: Store = store if store is not None else MemoryStore(clock=clock or time.time)
        #: The store's async load is its sync one (``loads_inline``): ASGI calls it directly.
        self.inline_load = loads_inline(self.store)
        self.policy = Policy.make(
            idle_timeout=opts.get("idle_timeout", DEFAULT_IDLE_TIMEOUT),
            absolute_timeout=opts.get("absolute_timeout", DEFAULT_ABSOLUTE_TIMEOUT),
            touch_interval=opts.get("touch_interval"),
            max_sessions_per_user=opts.get("max_sessions_per_user"),
        )
        self.cookies = CookieSettings.make(
            name=opts.get("cookie_name", DEFAULT_COOKIE_NAME),
            path=opts.get("cookie_path", "/"),
            domain=opts.get("cookie_domain"),
            max_age=opts.get("cookie_max_age", self.policy.absolute_timeout),
            secure=opts.get("cookie_secure"),
            httponly=opts.get("cookie_httponly", True),
            samesite=opts.get("cookie_samesite", "lax"),
            partitioned=opts.get("cookie_partitioned", False),
        )
        self.trusted_proxies = parse_trusted_proxies(opts.get("trusted_proxies", ()))
        client_name = opts.get("client_name")
        self.client_name: ClientName = default_client_name if client_name is None else checked_client_name(client_name)
        self.api_path = _check_api_path(opts.get("api_path"))
        self.api_token = opts.get("api_token")
        self.api_authorize = opts.get("api_authorize")
        self.id_header = _check_id_header(opts.get("id_header"))
        #: The lower-case name of ``id_header``, as views look it up.
        self.id_header_key = None if self.id_header is None else self.id_header.lower()
        #: The cookie alone decides (the common configuration): a shortcut in read_credentials.
        self._cookie_only = (
            self.cookies.path == "/"
            and (self.cookies.max_age is None or self.cookies.max_age > 0)
            and self.id_header is None
        )
        self.session_class = session_class
        #: Reads another library's cookie sessions (``migrate_from``), so switching logs nobody out.
        self.legacy: LegacyCookie | None = legacy_reader(
            opts.get("migrate_from"), secret_keys, self.cookies.max_age, clock=self.store.clock
        )
        on_event = opts.get("on_event")
        if on_event is not None and not callable(on_event):
            raise TypeError("on_event must be a callable taking a SessionEvent (or None)")
        self.on_event: EventHook | None = on_event
        self.failures = StoreFailureLog(logger)

    # -- configuration, as the REST API and the docs name it ------------------------------

    @property
    def idle_timeout(self) -> float:
        return self.policy.idle_timeout

    @property
    def absolute_timeout(self) -> float:
        return self.policy.absolute_timeout

    @property
    def cookie_name(self) -> str:
        return self.cookies.name

    @property
    def cookie_secure(self) -> bool | None:
        return self.cookies.secure

    @property
    def cookie_samesite(self) -> str | None:
        return self.cookies.samesite

    def api_options(self) -> dict[str, Any]:
        """Keyword arguments for ``session_middleware.api.create_*_app`` when mounted at ``api_path``."""
        return {
            "api_token": self.api_token,
            "api_authorize": self.api_authorize,
            "policy": self.policy,
            "on_event": self.on_event,
        }

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
        values = session_cookie_values(header, self.cookies.name)
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
        state = self._verified(found.session_id, found.current_key)
        if len(header) <= COOKIE_MEMO_MAX_HEADER:
            if len(self._cookie_memo) >= COOKIE_MEMO_SIZE:
                self._cookie_memo.clear()
            self._cookie_memo[header] = state
        return state

    def read_credentials(self, view: RequestView) -> CookieState:
        """The signed id of a request: from ``id_header`` when configured and sent (not
        empty), else from the cookie. The header is verified exactly like the cookie.

        A request outside ``cookie_path`` never carries our cookie, so a cookie of that
        name there belongs to another app: it is neither read nor cleared."""
        if self._cookie_only:
            return self.read_cookie(view.cookie)
        cookies = self.cookies
        if cookies.path != "/" and not path_matches(view.root_path + view.path, cookies.path):
            return NO_COOKIE
        if cookies.max_age is not None and cookies.max_age <= 0:
            return NO_COOKIE  # every cookie has expired on arrival, as Starlette's max_age=0
        sent = None if self.id_header_key is None else view.header(self.id_header_key)
        if sent is None or not sent.strip():
            return self.read_cookie(view.cookie)
        verified = self.signer.verify(sent.strip())
        if verified is None:
            logger.debug("session id header with a bad signature ignored")
            return BAD_COOKIE
        return self._verified(verified.session_id, verified.current_key)

    def _verified(self, session_id: str, current_key: bool) -> CookieState:
        load = Load(session_id, touch_interval=self.policy.touch_interval)
        return CookieState(session_id, current_key=current_key, load=load)

    # -- step 2: the session ---------------------------------------------------------

    def begin(self, view: RequestView) -> Opened | CookieState:
        """The request's session when no store call is needed (no cookie, a bad one, a
        carried-over one), else the verified cookie: perform its ``load`` and pass the
        record to :meth:`opened`.

        Adapters call it directly, so a request without a session cookie runs no flow."""
        cookie = self.read_credentials(view)
        if cookie.load is not None:
            return cookie
        if cookie.stale and self.legacy is not None:
            carried = self._carry_over(view)
            if carried is not None:
                return carried
        return Opened(self.session_class(None, self.store.clock(), partial(self.origin, view)), cookie)

    def opened(self, view: RequestView, cookie: CookieState, record: SessionRecord | None) -> Opened:
        """The request's session once its :class:`Load` answered ``record``: a cookie whose
        session is gone is stale, and the request starts a new session."""
        if record is None:
            logger.debug("session %s is gone; starting a new one", id_hash(cookie.session_id or ""))
            return Opened(
                self.session_class(None, now=self.store.clock(), origin=partial(self.origin, view)), BAD_COOKIE
            )
        return Opened(self.session_class(record, now=record.last_request, origin=partial(self.origin, view)), cookie)

    def load(self, view: RequestView) -> Flow[Opened]:
        """:meth:`begin` and :meth:`opened` as one flow: at most one store operation."""
        start = self.begin(view)
        if isinstance(start, CookieState):
            assert start.load is not None
            record = yield start.load
            return self.opened(view, start, record)
        return start

    def _carry_over(self, view: RequestView) -> Opened | None:
        """A new session with the data of another library's valid session cookie, if the
        request carries one; its commit stores it and our cookie replaces the old one."""
        assert self.legacy is not None and view.cookie is not None
        for value in session_cookie_values(view.cookie, self.cookies.name):
            data = self.legacy.read(value)
            if data:
                logger.info("a session of the previous library carried over (%d keys)", len(data))
                session = self.session_class(None, now=self.store.clock(), origin=lambda: self.origin(view), data=data)
                return Opened(session, NO_COOKIE)
        return None

    def origin(self, view: RequestView) -> tuple[str, str]:
        """Where a request comes from: its client address and the client's name."""
        headers = view.headers
        address = client_address(view.peer, headers.get("x-forwarded-for"), self.trusted_proxies)
        return address, self.client_name(headers)

    # -- step 3: the commit ----------------------------------------------------------

    def commit(self, opened: Opened, view: RequestView, status: int | None) -> Flow[Committed] | None:
        """The flow that saves what the request did and returns the ``Set-Cookie`` value
        to send with the events to emit, or ``None`` when there is nothing to do (most
        requests).

        :param status: the response status; ``None`` for a websocket that ended (no
            cookie can be sent there, so nothing is created or moved to a new id).
        """
        if status is not None and status >= 500:
            return None  # the app failed: what it did to the session is not kept
        outcome = opened.session.outcome(status is not None)
        # NOTHING (most requests) answers without the property call; it has no needs_commit.
        if (outcome is NOTHING or not outcome.needs_commit) and not opened.cookie.stale:
            return None
        return self._commit_flow(outcome, opened.cookie, view)

    def _commit_flow(self, outcome: Outcome, cookie: CookieState, view: RequestView) -> Flow[Committed]:
        """The one table from an outcome to store operations, the cookie to send and the
        events to emit."""
        cookies, https = self.cookies, view.https
        header: str | None = clear_cookie(cookies, https) if cookie.stale else None
        events: list[SessionEvent] = []
        if outcome.closed is not None:
            if (yield Delete(outcome.closed.id)):
                events.append(event_of("closed", outcome.closed, reason="logout"))
            logger.info("session %s closed (logout)", id_hash(outcome.closed.id))
            header = clear_cookie(cookies, https)
        action, policy = outcome.action, self.policy
        if action is Action.SAVE:  # the commonest write first
            assert outcome.session_id is not None
            saved = yield SaveChanges(outcome.session_id, outcome.changes)
            if not saved:
                logger.info("session %s closed during the request; not saved", id_hash(outcome.session_id))
            elif not cookie.current_key:
                header = set_cookie(cookies, self.signer.sign(outcome.session_id), https)  # re-sign: newest key
        elif action is Action.CREATE:
            assert outcome.new_id is not None
            record = self._new_record(outcome, view)
            _, evicted = yield from create_session(policy, record, report=self.on_event is not None)
            logger.info("session %s opened", id_hash(record.id))
            events.append(event_of("created" if record.user is None else "logged_in", record))
            events += evicted
            header = set_cookie(cookies, self.signer.sign(record.id), https)
        elif action is Action.LOGIN or action is Action.REGENERATE:
            assert outcome.new_id is not None and outcome.record is not None
            old = outcome.record
            if action is Action.LOGIN:  # a new authentication: new times, this device
                record = self._new_record(outcome, view)
            else:
                record = replace(old, id=outcome.new_id, user=outcome.user, data=outcome.data)
            created, evicted = yield from create_session(policy, record, old.id, report=self.on_event is not None)
            events += evicted
            # A session closed while this request held it leaves the cookie alone: the
            # browser may already hold a newer one (a concurrent login) that clearing
            # would log out. A stale cookie is cleared by the next request that sends it.
            if created:
                logger.info("session %s regenerated as %s", id_hash(old.id), id_hash(record.id))
                events.append(event_of("logged_in" if action is Action.LOGIN else "regenerated", record))
                header = set_cookie(cookies, self.signer.sign(record.id), https)
            else:
                logger.info("session %s closed during the request; not regenerated", id_hash(old.id))
        elif action is Action.FORGET:
            assert outcome.session_id is not None
            if (yield Delete(outcome.session_id)):
                header = clear_cookie(cookies, https)
        return Committed(header, tuple(events))

    def _new_record(self, outcome: Outcome, view: RequestView) -> SessionRecord:
        assert outcome.new_id is not None
        address, client = self.origin(view)
        return self.policy.new_record(
            outcome.new_id, self.store.clock(), address=address, client=client, user=outcome.user, data=outcome.data
        )

    # -- the response --------------------------------------------------------------------

    def response_headers(
        self, headers: list[tuple[str, str]], set_cookie_value: str | None, accessed: bool
    ) -> list[tuple[str, str]] | None:
        """The response headers to send instead of ``headers``, or ``None`` to keep them.

        A response that sets or clears the cookie gets ``Set-Cookie``, ``Cache-Control:
        no-store`` (replacing any other caching policy) and ``Vary: Cookie``; a response
        whose session the app accessed gets ``Vary: Cookie`` (merged with what is there),
        so no shared cache serves one user's page or cookie to another. With
        ``id_header``, that header carries the same signed id (``""`` when cleared) and
        joins ``Vary``.
        """
        if set_cookie_value is None and not accessed:
            return None
        drop: set[str] = set()  # besides Vary, which is merged
        extra: list[tuple[str, str]] = []
        if set_cookie_value is not None:
            drop.add("cache-control")
            extra += [("Set-Cookie", set_cookie_value), ("Cache-Control", "no-store")]
            if self.id_header is not None:
                drop.add(self.id_header.lower())
                # set_cookie_value was made here: "name=value; ..." with a signed id (never quoted) or "".
                extra.append((self.id_header, set_cookie_value.partition(";")[0].partition("=")[2]))
        # One pass over the headers: most responses only gain Vary.
        kept, vary_values = [], []
        for header in headers:
            name = header[0].lower()
            if name == "vary":
                vary_values.append(header[1])
            elif name not in drop:
                kept.append(header)
        vary = merge_vary(", ".join(vary_values)) if vary_values else _VARY_COOKIE_TEXT
        if set_cookie_value is not None and self.id_header is not None:
            vary = merge_vary(vary, self.id_header)
        return [*kept, *extra, ("Vary", vary)]

    def response_headers_raw(
        self, raw: Iterable[tuple[bytes, bytes]], set_cookie_value: str | None, accessed: bool
    ) -> list[tuple[bytes, bytes]] | None:
        """:meth:`response_headers` for ASGI's byte pairs. The common case, a response whose
        session was only read, merges ``Vary`` without decoding every header."""
        if set_cookie_value is None:
            if not accessed:
                return None
            kept: list[tuple[bytes, bytes]] = []
            vary: list[str] = []
            for name, value in raw:
                if name.lower() == b"vary":
                    vary.append(value.decode("latin-1"))
                else:
                    kept.append((name, value))
            kept.append((b"vary", merge_vary(", ".join(vary)).encode("latin-1") if vary else _VARY_COOKIE))
            return kept
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]
        changed = self.response_headers(headers, set_cookie_value, accessed)
        assert changed is not None
        return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in changed]

    # -- store failures --------------------------------------------------------------------

    def unavailable(
        self, operation: str, error: StoreError, view: RequestView, session: Session | None = None
    ) -> Unavailable:
        """Log a store failure (one line per burst, see ``StoreFailureLog``) and return the
        503 to answer with, which keeps the request's cookie."""
        if session is not None:
            session_id = None if session.is_new else session.id
        else:
            session_id = self.read_credentials(view).session_id
        self.failures.report(operation, error, None if session_id is None else id_hash(session_id))
        user_id = None if session is None else session.user_id
        event = SessionEvent("store_failure", session_id, user_id, address=view.peer or "")
        return Unavailable(503, list(UNAVAILABLE_HEADERS), UNAVAILABLE_BODY, event)


def create_session(
    policy: Policy, record: SessionRecord, replaces: str | None = None, *, report: bool
) -> Flow[tuple[bool, tuple[SessionEvent, ...]]]:
    """Store a new session under the per-user cap; with ``report``, also return the
    ``closed`` events of the sessions the cap closed.

    The store closes them inside its create; to name them, the user's sessions are listed
    first (one more store operation, only for a login under a cap with a hook to tell).
    """
    cap = policy.cap(record.user)
    doomed: list[SessionRecord] = []
    if cap is not None and report and record.user_id is not None:
        mine: list[SessionRecord] = yield ListByUser(record.user_id)
        others = sorted((r for r in mine if r.id not in (replaces, record.id)), key=lambda r: r.last_request)
        doomed = others[: max(0, len(others) - cap + 1)]
    created: bool = yield Create(record, replaces=replaces, max_per_user=cap)
    if not created:
        return False, ()
    return True, tuple(event_of("closed", r, "evicted") for r in doomed)


def event_of(kind: EventKind, record: SessionRecord, reason: CloseReason | None = None) -> SessionEvent:
    """The lifecycle event ``kind`` of the session ``record``."""
    user = record.user
    return SessionEvent(
        kind,
        record.id,
        None if user is None else str(user["id"]),
        None if user is None else user.get("name"),
        record.client,
        record.address,
        reason,
    )


UNAVAILABLE_BODY = b"The session store is unavailable; please retry shortly.\n"
UNAVAILABLE_HEADERS = (
    ("Content-Type", "text/plain; charset=utf-8"),
    ("Content-Length", str(len(UNAVAILABLE_BODY))),
    ("Retry-After", str(RETRY_AFTER_SECONDS)),
    ("Cache-Control", "no-store"),
)
