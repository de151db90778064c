"""The core's one decision table: the outcome a session reports and what the commit does with it.

``SessionCore.commit`` returns ``None`` (the adapters' shortcut: no store driver runs)
exactly when the full commit flow would perform no store operation and send no cookie.
Random sequences of what an app can do to a session check that the two never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from session_middleware import MemoryStore, Session
from session_middleware._core import BAD_COOKIE, COOKIE_MEMO_SIZE, NO_COOKIE, Opened, SessionCore
from session_middleware._ops import run_flow
from session_middleware._request import RequestView
from session_middleware._session import Action

from .support import KEY, FakeClock, sign

VIEW = RequestView(method="GET", scheme="https", path="/")

Step = Callable[[Session], Any]


def _set(key: str, value: Any) -> Step:
    return lambda s: s.__setitem__(key, value)


steps: st.SearchStrategy[Step] = st.one_of(
    st.builds(_set, st.sampled_from("abc"), st.integers(0, 3) | st.lists(st.integers(0, 2), max_size=2)),
    st.sampled_from("abc").map(lambda k: lambda s: s.pop(k, None)),
    st.sampled_from("abc").map(lambda k: lambda s: s.get(k)),
    st.sampled_from("abc").map(lambda k: lambda s: s.get(k).append(9) if isinstance(s.get(k), list) else None),
    st.just(lambda s: s.clear()),
    st.just(lambda s: s.regenerate()),
    st.just(lambda s: s.logout()),
    st.sampled_from(["u1", "u2"]).map(lambda u: lambda s: s.login({"id": u})),
    st.just(lambda s: dict(s)),
)


def _drive(flow: Any, store: MemoryStore) -> tuple[list[str], Any]:
    names: list[str] = []
    result = None
    try:
        op = next(flow)
        while True:
            names.append(type(op).__name__)
            op = flow.send(op.run(store))
    except StopIteration as stop:
        result = stop.value
    return names, result


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["new", "stored", "stored-user", "stale"]),
    st.lists(steps, max_size=5),
    st.sampled_from([200, 302, 404, 500, None]),
)
def test_the_commit_shortcut_and_the_commit_flow_never_disagree(start: str, actions: list[Step], status: Any) -> None:
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    core = SessionCore(secret_key=KEY, store=store)
    opened = _open(core, store, start)
    for action in actions:
        action(opened.session)
    outcome = opened.session.outcome(can_issue_id=status is not None)
    flow = core.commit(opened, VIEW, status)
    full = core._commit_flow(outcome, opened.cookie, VIEW)
    ops, committed = _drive(full, store)
    if flow is None:
        # Skipped: either a 5xx (nothing kept on purpose) or nothing to do at all.
        assert (status is not None and status >= 500) or (ops == [] and committed.set_cookie is None)
    else:
        assert status is None or status < 500
        assert ops or committed.set_cookie is not None  # the shortcut never runs a flow that does nothing
    assert outcome.needs_commit == (outcome.action is not Action.NONE or outcome.closed is not None)


def _open(core: SessionCore, store: MemoryStore, start: str) -> Opened:
    if start == "new":
        return run_flow(core.load(VIEW), store)
    if start == "stale":
        view = RequestView(method="GET", scheme="https", path="/", cookie="session=" + sign("A" * 43))
        opened = run_flow(core.load(view), store)
        assert opened.cookie == BAD_COOKIE
        return opened
    seed = run_flow(core.load(VIEW), store)
    seed.session["a"] = [1]
    if start == "stored-user":
        seed.session.login({"id": "u1"})
    flow = core.commit(seed, VIEW, 200)
    assert flow is not None
    set_cookie = run_flow(flow, store).set_cookie
    assert set_cookie is not None
    cookie = set_cookie.partition(";")[0]
    return run_flow(core.load(RequestView(method="GET", scheme="https", path="/", cookie=cookie)), store)


def test_a_read_only_request_on_a_stored_session_commits_nothing() -> None:
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    core = SessionCore(secret_key=KEY, store=store)
    opened = _open(core, store, "stored")
    assert opened.session["a"] == [1] and opened.session.accessed and not opened.session.modified
    assert core.commit(opened, VIEW, 200) is None


def test_the_cookie_memo_forgets_everything_when_full_and_keeps_answering_right() -> None:
    core = SessionCore(secret_key=KEY)
    headers = [f"session={sign(f'{i:043d}'[-43:].replace('0', 'A'))}; n={i}" for i in range(COOKIE_MEMO_SIZE + 1)]
    states = [core.read_cookie(h) for h in headers[:COOKIE_MEMO_SIZE]]
    assert len(core._cookie_memo) == COOKIE_MEMO_SIZE
    assert core.read_cookie(headers[COOKIE_MEMO_SIZE]).session_id is not None  # evicts all, then remembers it
    assert len(core._cookie_memo) == 1
    assert [core.read_cookie(h) for h in headers[:COOKIE_MEMO_SIZE]] == states  # recomputed, identical
    assert core.read_cookie("session=forged; n=1") == BAD_COOKIE and core.read_cookie("") == NO_COOKIE
    assert "session=forged; n=1" not in core._cookie_memo  # only verified headers are remembered
