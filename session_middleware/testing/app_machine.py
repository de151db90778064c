"""A Hypothesis state machine that drives an app wrapped in the middleware, REST API included."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from .._policy import Policy
from .._signing import CookieSigner, normalize_secret_keys
from ..stores.base import Store
from .app_checks import assert_same_list, assert_same_session, cookie_effect
from .app_model import AppModel, CookieEffect, Visit, canonical
from .client import AppClient, Reply, Request
from .clock import FakeClock
from .strategies import CookieForgery, cookie_forgeries, json_values

__all__ = ["AppLifecycle"]

_KEYS = ("a", "b", "cart", "ünï")
_VALUES = json_values(max_leaves=3)
_DATA = st.dictionaries(st.sampled_from(_KEYS), _VALUES, max_size=2)
_WRITES = st.fixed_dictionaries(
    {"set": _DATA}, optional={"delete": st.lists(st.sampled_from(_KEYS), max_size=2), "clear": st.booleans()}
)
# What one of two overlapping requests does, as (probe action, payload): mostly writes,
# whose per-key merge is what overlapping requests put to the test.
_OVERLAPPING = st.one_of(
    st.fixed_dictionaries({"set": st.dictionaries(st.sampled_from(_KEYS), _VALUES, min_size=1, max_size=2)}).map(
        lambda payload: ("write", payload)
    ),
    st.fixed_dictionaries({"key": st.sampled_from(_KEYS), "item": _VALUES}).map(lambda p: ("append", p)),
    st.fixed_dictionaries({"delete": st.lists(st.sampled_from(_KEYS), min_size=1, max_size=2)}).map(
        lambda payload: ("write", payload)
    ),
    st.integers(0, 2).map(lambda user: ("login", {"user": user})),  # an index into AppLifecycle.users
    st.sampled_from([("logout", {}), ("regenerate", {})]),
)


class AppLifecycle(RuleBasedStateMachine):
    """Drives an app wrapped in the session middleware, with the REST API mounted, through
    several browsers at once, and checks every response against :class:`AppModel`.

    Subclass it and implement :meth:`make_client`: build your app on the given clock,
    with the kit's probe routes (:mod:`~session_middleware.testing.probes`) and the
    middleware configured by :meth:`session_options`, and return
    ``AppClient.asgi(app)`` or ``AppClient.wsgi(app)``. Collect ``YourMachine.TestCase``.

    Checked at every step: a closed or expired session never comes back; the API's list
    of each user's sessions equals the model's; a response sets the cookie only when the
    session id changes and clears it only when the model does; the data the app reads is
    the data written; ``Cache-Control: no-store`` and ``Vary: Cookie`` come with every
    cookie; a user's API access is limited to their own sessions.
    """

    #: The middleware's secret key and the API's admin token; None: random ones per run.
    secret_key: ClassVar[str | None] = None
    api_token: ClassVar[str | None] = None
    api_path: ClassVar[str] = "/sessions"
    cookie_name: ClassVar[str] = "session"
    probe_prefix: ClassVar[str] = "/_probe"
    idle_timeout: ClassVar[float] = 600.0
    absolute_timeout: ClassVar[float] = 3600.0
    max_sessions_per_user: ClassVar[int | None] = None
    #: The middleware's ``touch_interval``; the middleware's own default when None
    #: (the smaller of 60 s and a tenth of ``idle_timeout``: 60 s here).
    touch_interval: ClassVar[float | None] = None
    #: The users browsers log in as (ids with spaces and non-ASCII test the API's paths).
    users: ClassVar[tuple[dict[str, str], ...]] = (
        {"id": "alice", "name": "Alice"},
        {"id": "Bob Ünï", "name": "Bob"},
        {"id": "c+d@example.com"},
    )
    #: (address, User-Agent) of each browser.
    browsers: ClassVar[tuple[tuple[str, str], ...]] = (
        ("127.0.0.1", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
        ("2001:db8::5", "curl/8.5.0"),
        ("192.0.2.7", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148"),
    )

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.secret = self.secret_key or secrets.token_urlsafe(48)
        self.token = self.api_token or secrets.token_urlsafe(24)
        self.signer = CookieSigner(normalize_secret_keys(self.secret))
        self.model = AppModel(
            self.clock,
            idle_timeout=self.idle_timeout,
            absolute_timeout=self.absolute_timeout,
            max_sessions_per_user=self.max_sessions_per_user,
            touch_interval=Policy.make(
                idle_timeout=self.idle_timeout, touch_interval=self.touch_interval
            ).touch_interval,
        )
        #: The session cookie value each browser holds.
        self.jars: list[str | None] = [None] * len(self.browsers)
        #: Every cookie value ever set, for replays, and every id ever issued.
        self.issued_cookies: list[str] = []
        self.issued_ids: set[str] = set()
        self.client = self.make_client(self.clock)

    def make_client(self, clock: FakeClock) -> AppClient:
        """Build the app under test on ``clock`` and return a client for it."""
        raise NotImplementedError("subclass AppLifecycle and implement make_client(clock)")

    def session_options(self, clock: FakeClock, *, store: Store | None = None) -> dict[str, Any]:
        """The middleware options this machine's model assumes. With your own ``store``,
        build it on ``clock``; without, the middleware's MemoryStore gets the clock."""
        options: dict[str, Any] = {
            "secret_key": self.secret,
            "api_token": self.token,
            "api_path": self.api_path,
            "cookie_name": self.cookie_name,
            "idle_timeout": self.idle_timeout,
            "absolute_timeout": self.absolute_timeout,
            "max_sessions_per_user": self.max_sessions_per_user,
            "touch_interval": self.touch_interval,
        }
        if store is None:
            options["clock"] = clock
        else:
            options["store"] = store
        return options

    def teardown(self) -> None:
        self.client.close()

    # -- requests --------------------------------------------------------------------------

    def _request(self, browser: int | None, method: str, path: str, *, cookie: str | None, **kwargs: Any) -> Request:
        address, agent = self.browsers[browser or 0]
        headers: list[tuple[str, str]] = [("user-agent", agent), *kwargs.pop("headers", ())]
        if cookie is not None:
            headers.append(("cookie", cookie))
        if "json" in kwargs:
            return Request.json(method, path, kwargs.pop("json"), headers=headers, address=address, **kwargs)
        return Request(method, path, headers=headers, address=address, **kwargs)

    def _probe_request(self, browser: int, action: str, payload: Mapping[str, Any], cookie: str | None) -> Request:
        if action == "login":
            payload = {"user": self.users[payload["user"]]}
        method = "GET" if action == "state" else "POST"
        return self._request(browser, method, f"{self.probe_prefix}/{action}", cookie=cookie, json=dict(payload))

    def _begin(self, browser: int, header: str | None) -> Visit:
        """What the middleware loads for a ``Cookie`` header holding at most our cookie."""
        session_id, stale = None, False
        if header is not None:
            verified = self.signer.verify(header.partition("=")[2])
            session_id, stale = (verified.session_id, False) if verified is not None else (None, True)
        return self.model.begin(session_id, stale=stale, origin=self.browsers[browser])

    def _cookie(self, value: str | None) -> str | None:
        return None if value is None else f"{self.cookie_name}={value}"

    def _browse(self, browser: int, action: str, payload: Mapping[str, Any], header: str | None) -> None:
        visit = self._begin(browser, header)
        request = self._probe_request(browser, action, payload, header)
        visit.act(action, request_payload(request))
        reply = self.client.send(request)
        self._check_probe(reply, visit, action)
        self._settle(browser, reply, visit, f"{action} {dict(payload)!r}")

    def _check_probe(self, reply: Reply, visit: Visit, action: str) -> None:
        assert reply.status == visit.status, f"{action}: status {reply.status}, expected {visit.status}"
        seen, expected = reply.json(), visit.state()
        assert canonical(seen) == canonical(expected), f"{action}: the app saw {seen!r}, expected {expected!r}"

    def _settle(self, browser: int | None, reply: Reply, visit: Visit | None, what: str) -> None:
        """Check the response's cookie against the model, commit the model, update the jar."""
        effect, value, new_id = cookie_effect(reply, self.cookie_name, self.signer, what)
        if new_id is not None:
            kept = visit is not None and visit.loaded is not None and visit.loaded.id == new_id
            assert not kept, f"{what}: the new cookie keeps the old session id"
            assert new_id not in self.issued_ids, f"{what}: a cookie reuses session id {new_id[:8]}…"
        expected: CookieEffect = "none" if visit is None else self.model.commit(visit, new_id)
        if effect != expected:
            loaded = "nothing" if visit is None or visit.loaded is None else f"session {visit.loaded.id[:8]}…"
            raise AssertionError(f"{what} (having loaded {loaded}): cookie {effect!r}, the model says {expected!r}")
        if new_id is not None and value is not None:
            self.issued_ids.add(new_id)
            self.issued_cookies.append(value)
        if browser is not None and effect != "none":
            self.jars[browser] = value

    # -- browsers --------------------------------------------------------------------------

    @initialize(starts=st.lists(st.integers(-1, 3), min_size=3, max_size=3))
    def open_sessions(self, starts: list[int]) -> None:
        """Each browser starts with no session (-1), an anonymous one with data (3), or
        logged in as one of the users (0 to 2), so rules act on live sessions at once."""
        for browser, start in enumerate(starts[: len(self.browsers)]):
            if start == 3:
                self._browse(browser, "write", {"set": {"a": 1}}, None)
            elif start >= 0:
                self._browse(browser, "login", {"user": start}, None)
            self.clock.tick()

    def _act(self, browser: int, action: str, payload: Mapping[str, Any]) -> None:
        browser %= len(self.browsers)
        self._browse(browser, action, payload, self._cookie(self.jars[browser]))
        self.clock.tick()

    @rule(browser=st.integers(0, 2))
    def visit(self, browser: int) -> None:
        self._act(browser, "state", {})

    @rule(browser=st.integers(0, 2), payload=_WRITES)
    def write(self, browser: int, payload: dict[str, Any]) -> None:
        self._act(browser, "write", payload)

    @rule(browser=st.integers(0, 2), key=st.sampled_from(_KEYS), item=_VALUES)
    def append(self, browser: int, key: str, item: Any) -> None:
        """Nested mutation: an item appended in place to a list the app read."""
        self._act(browser, "append", {"key": key, "item": item})

    @rule(browser=st.integers(0, 2), user=st.integers(0, 2))
    def login(self, browser: int, user: int) -> None:
        self._act(browser, "login", {"user": user})

    @rule(browser=st.integers(0, 2))
    def logout(self, browser: int) -> None:
        self._act(browser, "logout", {})

    @rule(browser=st.integers(0, 2))
    def regenerate(self, browser: int) -> None:
        self._act(browser, "regenerate", {})

    @rule(browser=st.integers(0, 2), data=_DATA)
    def fail(self, browser: int, data: dict[str, Any]) -> None:
        """The app writes, then answers 500: nothing is saved and no cookie is sent."""
        self._act(browser, "fail", {"set": data})

    @rule(pick=st.integers(0, 2), first=_OVERLAPPING, second=_OVERLAPPING)
    def overlapping(self, pick: int, first: tuple[str, dict[str, Any]], second: tuple[str, dict[str, Any]]) -> None:
        """Two tabs of one browser send requests that overlap: both load the session
        before either saves. Different keys both survive; a session closed by one is
        not written back by the other."""
        live = [b for b, jar in enumerate(self.jars) if jar is not None and self._names_live_session(jar)]
        if not live:
            return
        browser = live[pick % len(live)]
        header = self._cookie(self.jars[browser])
        visits = [self._begin(browser, header) for _ in range(2)]
        requests = []
        for visit, (action, payload) in zip(visits, (first, second), strict=True):
            request = self._probe_request(browser, action, payload, header)
            visit.act(action, request_payload(request))
            requests.append(request)
        replies = self.client.send_overlapping(requests[0], requests[1])
        for visit, reply, (action, payload) in zip(visits, replies, (first, second), strict=True):
            self._check_probe(reply, visit, action)
            self._settle(browser, reply, visit, f"overlapping {action} {payload!r}")
        self.clock.tick()

    def _names_live_session(self, value: str) -> bool:
        verified = self.signer.verify(value)
        return verified is not None and self.model.store.get(verified.session_id) is not None

    @rule(browser=st.integers(0, 2), pick=st.integers(0, 50))
    def replay(self, browser: int, pick: int) -> None:
        """A browser (or a thief) sends a cookie issued earlier: live sessions load,
        closed, replaced and expired ones are gone for good."""
        if not self.issued_cookies:
            return
        browser %= len(self.browsers)
        self.jars[browser] = self.issued_cookies[pick % len(self.issued_cookies)]
        self._browse(browser, "state", {}, self._cookie(self.jars[browser]))
        self.clock.tick()

    @rule(browser=st.integers(0, 2), forgery=cookie_forgeries())
    def forged_cookie(self, browser: int, forgery: CookieForgery) -> None:
        """A request with a tampered, truncated, foreign, garbage or unknown cookie gets a
        new empty session and, if a session cookie was sent, a cleared one."""
        browser %= len(self.browsers)
        case = forgery.build(self.secret, self.cookie_name)
        visit = self.model.begin(
            case.session_id, stale=case.must_clear, origin=self.browsers[browser]
        )  # an unknown id is stale too
        request = self._request(browser, "GET", f"{self.probe_prefix}/state", cookie=case.header or None)
        reply = self.client.send(request)
        self._check_probe(reply, visit, f"forged {case.kind} cookie")
        self._settle(None, reply, visit, f"forged {case.kind} cookie {case.header!r}")
        self.clock.tick()

    # -- time ------------------------------------------------------------------------------

    @rule(seconds=st.sampled_from((1.0, 60.0, 299.0, 300.0, 599.0, 600.0, 601.0, 1800.0, 3600.0)))
    def let_time_pass(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @rule(browser=st.integers(0, 2), offset=st.sampled_from((-1.0, 0.0)))
    def reach_expiry(self, browser: int, offset: float) -> None:
        """Jump to the moment a browser's session expires, or one second before."""
        value = self.jars[browser % len(self.browsers)]
        verified = None if value is None else self.signer.verify(value)
        record = None if verified is None else self.model.store.get(verified.session_id)
        if record is not None:
            self.clock.set(max(self.clock(), record.expires_at + offset))

    # -- the REST API ----------------------------------------------------------------------

    def _api(self, method: str, user_id: str, browser: int | None = None, **kwargs: Any) -> Request:
        headers = [("origin", "http://testserver")]
        if browser is None:
            headers.append(("authorization", f"Bearer {self.token}"))
        cookie = None if browser is None else self._cookie(self.jars[browser])
        return self._request(browser, method, f"{self.api_path}/{user_id}", cookie=cookie, headers=headers, **kwargs)

    def _pick(self, user: int, pick: int) -> tuple[str, str | None]:
        """A user's id and one of their session ids: live ones first, then closed ones."""
        user_id = self.users[user % len(self.users)]["id"]
        live = [record.id for record in self.model.store.list_by_user(user_id)]
        ids = live + [sid for sid in self.model.ids_of(user_id) if sid not in live]
        return user_id, (ids[pick % len(ids)] if ids else None)

    @rule(user=st.integers(0, 2), pick=st.integers(0, 7))
    def admin_gets(self, user: int, pick: int) -> None:
        user_id, sid = self._pick(user, pick)
        if sid is None:
            return
        reply = self.client.send(self._api("GET", user_id, query={"session_id": sid}))
        self._settle(None, reply, None, "admin GET")
        expected = self.model.api_get(user_id, sid)
        if expected is None:
            assert reply.status == 404, f"admin GET of a closed session: {reply.status}"
        else:
            assert reply.status == 200, f"admin GET of a live session: {reply.status}"
            assert_same_session(reply.json(), expected, with_data=True)
        self.clock.tick()

    @rule(user=st.integers(0, 2), pick=st.integers(0, 7), data=_DATA)
    def admin_writes(self, user: int, pick: int, data: dict[str, Any]) -> None:
        """The API replaces a session's data; the browser then reads exactly that."""
        user_id, sid = self._pick(user, pick)
        if sid is None:
            return
        reply = self.client.send(self._api("POST", user_id, query={"session_id": sid}, json={"data": data}))
        self._settle(None, reply, None, "admin POST data")
        written = self.model.api_write(user_id, sid, data)
        assert reply.status == (204 if written else 404), f"admin POST data: {reply.status}, written={written}"
        self.clock.tick()

    @rule(user=st.integers(0, 2), pick=st.integers(0, 7))
    def admin_revokes(self, user: int, pick: int) -> None:
        user_id, sid = self._pick(user, pick)
        if sid is None:
            return
        reply = self.client.send(self._api("DELETE", user_id, query={"session_id": sid}))
        self._settle(None, reply, None, "admin DELETE")
        assert reply.status == 204, f"admin DELETE: {reply.status}"
        self.model.api_close(user_id, sid)
        self.clock.tick()

    @rule(user=st.integers(0, 2), browser=st.integers(0, 2))
    def admin_revokes_device(self, user: int, browser: int) -> None:
        """Close a user's sessions opened from one browser's address and client."""
        user_id = self.users[user % len(self.users)]["id"]
        address, client = self.browsers[browser % len(self.browsers)]
        query = {"address": address, "client": client}
        reply = self.client.send(self._api("DELETE", user_id, query=query))
        self._settle(None, reply, None, "admin DELETE by address and client")
        assert reply.status == 204, f"admin DELETE by address and client: {reply.status}"
        self.model.api_close_matching(user_id, address, client)
        self.clock.tick()

    @rule(browser=st.integers(0, 2), user=st.integers(0, 2), pick=st.integers(0, 7), revoke=st.booleans())
    def user_calls_api(self, browser: int, user: int, pick: int, revoke: bool) -> None:
        """A browser lists or closes a user's sessions with its own cookie: allowed for
        its own user only (401 when not logged in, 403 for another user)."""
        browser %= len(self.browsers)
        user_id, sid = self._pick(user, pick)
        if revoke and sid is None:
            return
        header = self._cookie(self.jars[browser])
        visit = self._begin(browser, header)
        own = None if visit.loaded is None else visit.loaded.user_id
        if revoke:
            reply = self.client.send(self._api("DELETE", user_id, browser, query={"session_id": sid or ""}))
        else:
            reply = self.client.send(self._api("GET", user_id, browser))
        what = f"user {own!r} {'closes a session of' if revoke else 'lists'} {user_id!r}"
        if own is None:
            assert reply.status == 401, f"{what}: {reply.status}, expected 401"
        elif own != user_id:
            assert reply.status == 403, f"{what}: {reply.status}, expected 403"
        elif revoke:
            assert reply.status == 204, f"{what}: {reply.status}, expected 204"
            self.model.api_close(user_id, sid or "")
        else:
            assert reply.status == 200, f"{what}: {reply.status}, expected 200"
            self._same_list(reply.json(), user_id, with_data=False)
        self._settle(browser, reply, visit, what)
        self.clock.tick()

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def api_lists_match_model(self) -> None:
        """The admin's view of every user equals the model: no closed or expired session
        comes back, none is missing, and each one's fields and data are right."""
        for user in self.users:
            reply = self.client.send(self._api("GET", user["id"]))
            assert reply.status == 200, f"admin list of {user['id']!r}: {reply.status}"
            self._settle(None, reply, None, "admin list")
            self._same_list(reply.json(), user["id"], with_data=True)

    def _same_list(self, listed: Any, user_id: str, *, with_data: bool) -> None:
        expected = self.model.store.list_by_user(user_id)
        assert_same_list(listed, expected, gone=self.model.store.gone, with_data=with_data)


def request_payload(request: Request) -> dict[str, Any]:
    """The JSON body a request carries (what the probe will act on)."""
    return dict(json.loads(request.body)) if request.body else {}
