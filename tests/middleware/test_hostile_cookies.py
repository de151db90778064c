"""Hostile Cookie headers (SECURITY-CHECKLIST Part 5a, C-01 to C-15) through both adapters."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from session_middleware._cookies import MAX_COOKIE_HEADER_LENGTH, MAX_COOKIE_PAIRS
from session_middleware._core import SessionCore

from .support import KEY, Harness, Kind, Reply, seed, sign

RAW: tuple[Kind, ...] = ("asgi", "wsgi")


def send(h: Harness, header: bytes | str) -> Reply:
    value = header if isinstance(header, bytes) else header.encode("latin-1")
    reply = h.request("/", headers=[(b"cookie", value)])
    assert reply.status == 200, reply.body
    return reply


def outcome(reply: Reply) -> tuple[object, bool]:
    """(the session's data or "anonymous", whether the cookie was cleared)."""
    page = reply.json()
    cookie = reply.cookie()
    return ("anonymous" if page["is_new"] else page["data"]), cookie is not None and cookie.cleared


@pytest.fixture
def victim(h: Harness) -> str:
    """A live session's cookie value; its data is {"who": "victim"}."""
    cookie = sign(seed(h.store, h.clock, who="victim"))
    h.store.reset()
    return cookie


# -- C-01 to C-15, as a table ----------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "",  # C-01
        " ",
        "session=",  # C-02
        'session=""',
        "session=   ",
        "session=.",
        "session=" + "A" * 43,  # C-03: an unsigned id-shaped value
        "session=" + sign("A" * 4000),  # C-07: oversized but validly signed
        "session=" + sign(""),  # a signed empty id
        "session=" + sign("x"),  # a signed one-character id
        "session=abc\r\nSet-Cookie: evil=1",  # C-08
        "session=a;b",
        "session=a,b",
        "session=a\x00b",
        "session=a\x7fb",
        "session=a\tb",
        '"session"=' + "x",  # C-10 (the value does not matter: no session cookie at all)
        "=session=x",
        "==__Host-session=x",
        "SESSION=x",
        'session="foo\\054bar"',  # C-15
        "session=%0d%0a",
        "session=a+b",
        'session="' + "\\" * 8000 + '"',  # C-11
    ],
)
def test_hostile_headers_are_anonymous_and_cost_no_store_call(h: Harness, header: str) -> None:
    reply = send(h, header)
    assert reply.json()["is_new"] is True
    assert h.store.calls == []
    for set_cookie in reply.header_list("set-cookie"):
        assert "evil" not in set_cookie and "\r" not in set_cookie and "\n" not in set_cookie
        assert set_cookie.startswith("session=;") or set_cookie.startswith('session="";')


@pytest.mark.parametrize(
    "template",
    [
        "oops; ;;; = ; session={v}",  # C-13
        "session={v};",
        ";;session={v};;",
        "  session={v}  ",
        "a=1; session={v}; b=2",
        'session="{v}"',
        "=session=evil; session={v}",  # C-10
        '"session"=evil; session={v}',
        "SESSION=evil; session={v}",
        "session={v}; session=garbage",  # C-09, one of them valid
        "session=garbage; session={v}",
        "session={v}; session={v}",
        "x=\xff\xfe; session={v}",  # C-14
        "x=f\xc3\x83\xc2\xb6; session={v}",
        "x=\xc0\xaf; session={v}",
        "a=" + "x" * 20_000 + "; session={v}",
        "; ".join(["a="] * 200) + "; session={v}",  # C-12 within the pair limit
    ],
)
def test_the_real_session_survives_noise(h: Harness, victim: str, template: str) -> None:
    reply = send(h, template.replace("{v}", victim))
    assert outcome(reply) == ({"who": "victim"}, False)
    assert h.store.calls == ["load_and_touch"]


@pytest.mark.parametrize(
    "header",
    [
        "; ".join(["a="] * 4000),  # C-12: 4,000 tiny cookies
        "a=" + "x" * 64 * 1024,  # 64 KB
        "a=" + "x" * 1024 * 1024,  # 1 MB
        "session=x; " * 4000,
        ";" * 100_000,
    ],
)
def test_cookie_bombs_are_cheap(h: Harness, header: str) -> None:
    started = time.perf_counter()
    reply = send(h, header)
    assert time.perf_counter() - started < 5.0  # generous for loaded machines; a quadratic parse never ends
    assert reply.json()["is_new"] is True and h.store.calls == []


def test_oversized_header_hides_the_session(h: Harness, victim: str) -> None:
    """Above the size cap nothing is parsed: the request is anonymous, the cookie untouched."""
    header = f"session={victim}; pad=" + "x" * MAX_COOKIE_HEADER_LENGTH
    assert outcome(send(h, header)) == ("anonymous", False)
    assert h.store.calls == []


def test_pairs_past_the_limit_are_not_read(h: Harness, victim: str) -> None:
    header = "; ".join(["a=1"] * MAX_COOKIE_PAIRS) + f"; session={victim}"
    assert outcome(send(h, header)) == ("anonymous", False)


def test_parsing_is_linear() -> None:
    core = SessionCore(secret_key=KEY)
    worst = [
        'session="' + "\\" * (MAX_COOKIE_HEADER_LENGTH - 10) + '"',
        "session=; " * (MAX_COOKIE_HEADER_LENGTH // 10),
        "session" * (MAX_COOKIE_HEADER_LENGTH // 7),
        "=" * MAX_COOKIE_HEADER_LENGTH,
    ]
    started = time.perf_counter()
    for header in worst * 25:
        core.read_cookie(header)
    assert time.perf_counter() - started < 5.0  # a quadratic parser takes minutes here


def test_parsing_memory_is_bounded() -> None:
    import tracemalloc

    core = SessionCore(secret_key=KEY)
    headers = ["a=;" * (MAX_COOKIE_HEADER_LENGTH // 3), 'session="' + "\\" * 30_000 + '"', "x" * 1024 * 1024]
    tracemalloc.start()
    try:
        for header in headers:
            tracemalloc.reset_peak()
            core.read_cookie(header)
            assert tracemalloc.get_traced_memory()[1] < 256 * 1024  # an unbounded split takes over 500 KiB
    finally:
        tracemalloc.stop()


# -- C-09: duplicates, one policy in both adapters ---------------------------------------


def _duplicate_cases(victim: str, other: str) -> list[tuple[str, object, bool]]:
    """(header, expected session, cleared) as ``SessionCore.read_cookie`` documents it."""
    garbage = "garbage"
    return [
        (f"session={victim}; session={garbage}", {"who": "victim"}, False),
        (f"session={garbage}; session={victim}", {"who": "victim"}, False),
        (f"session={victim}; session={victim}", {"who": "victim"}, False),
        # two different valid ids (cookie tossing): neither is trusted, the cookie is cleared
        (f"session={other}; session={victim}", "anonymous", True),
        (f"session={victim}; session={other}", "anonymous", True),
        (f"session={garbage}; session={other}; session={victim}", "anonymous", True),
        # only the first four values of the session cookie are considered
        ("; ".join([f"session={garbage}"] * 4) + f"; session={victim}", "anonymous", True),
        ("; ".join([f"session={garbage}"] * 3) + f"; session={victim}", {"who": "victim"}, False),
        # names compare exactly; nameless and quoted names never match
        (f"=session={other}; session={victim}", {"who": "victim"}, False),
        (f"Session={other}; session={victim}", {"who": "victim"}, False),
        (f"session={other}", {"who": "other"}, False),
        (f"session={garbage}", "anonymous", True),
        (f"=session={victim}", "anonymous", False),
    ]


def test_duplicate_cookie_policy_is_identical_in_asgi_and_wsgi(make: Callable[..., Harness]) -> None:
    results: dict[str, list[object]] = {}
    for kind in RAW:
        h = make(kind)
        victim = sign(seed(h.store, h.clock, who="victim"))
        other = sign(seed(h.store, h.clock, who="other"))
        cases = _duplicate_cases(victim, other)
        results[kind] = []
        for header, expected, cleared in cases:
            got = outcome(send(h, header))
            assert got == (expected, cleared), header.replace(victim, "VICTIM").replace(other, "OTHER")
            results[kind].append(got)
    assert results["asgi"] == results["wsgi"]


def test_a_tossed_cookie_never_replaces_the_users_session(h: Harness, victim: str) -> None:
    """An attacker's own valid session planted beside the user's never becomes the session."""
    attacker = sign(seed(h.store, h.clock, who="attacker"))
    for header in (f"session={attacker}; session={victim}", f"session={victim}; session={attacker}"):
        data, _ = outcome(send(h, header))
        assert data != {"who": "attacker"}


# -- the property: any header is a 2xx, the legitimate session or none ------------------

names = st.sampled_from(
    ["session", "session ", " session", "Session", "=session", '"session"', "a", "", "__Host-session"]
)
separators = st.sampled_from([";", "; ", ";;", " ; ", ",", "\t;"])


def _values(victim: str) -> st.SearchStrategy[str]:
    return st.one_of(
        st.just(victim),
        st.just(f'"{victim}"'),
        st.just(victim[:-3] + "abc"),
        st.just(victim.split(".")[0]),
        st.text(st.characters(codec="latin-1"), max_size=40),
        st.integers(0, 3000).map(lambda n: '"' + "\\" * n + '"'),
    )


def _structured(victim: str) -> st.SearchStrategy[bytes]:
    pair = st.tuples(names, st.sampled_from(["=", "", "=="]), _values(victim)).map("".join)
    return st.tuples(st.lists(pair, max_size=12), separators).map(lambda t: t[1].join(t[0]).encode("latin-1"))


def check_any_header(h: Harness, victim: str, header: bytes) -> None:
    h.store.reset()
    reply = send(h, header)
    data, _ = outcome(reply)
    assert data in ("anonymous", {"who": "victim"})
    if victim.encode() not in header:  # nothing validly signed: no store lookup at all
        assert h.store.calls == []
        assert data == "anonymous"
    assert len(h.store) == 1  # nothing was created


@pytest.mark.parametrize("kind", RAW)
def test_any_cookie_header_is_a_2xx_with_the_real_session_or_none(make: Callable[..., Harness], kind: Kind) -> None:
    h = make(kind)
    victim = sign(seed(h.store, h.clock, who="victim"))

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        st.one_of(
            st.binary(max_size=300),
            st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
            _structured(victim),
            st.tuples(st.binary(max_size=50), _structured(victim), st.binary(max_size=50)).map(b"".join),
        )
    )
    def check(header: bytes) -> None:
        check_any_header(h, victim, header)

    check()


@pytest.mark.parametrize("kind", RAW)
def test_huge_and_numerous_cookies_never_fail(make: Callable[..., Harness], kind: Kind) -> None:
    h = make(kind)
    victim = sign(seed(h.store, h.clock, who="victim"))

    @settings(max_examples=25, deadline=None)
    @given(
        count=st.integers(0, 5000),
        pair=st.sampled_from(["a=", "a=b", "session=x", ";", "=", '"\\"'] + [f"session={victim}"]),
        size=st.integers(0, 70_000),
    )
    def check(count: int, pair: str, size: int) -> None:
        header = ("; ".join([pair] * count) + "; pad=" + "x" * size).encode()
        check_any_header(h, victim, header)

    check()
