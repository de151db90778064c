"""Where a session comes from: ``address`` (peer or trusted proxies) and ``client``."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from session_middleware._client_info import MAX_CLIENT_LENGTH, client_address, parse_trusted_proxies

from .support import Browser, Harness, HeaderList, Kind

PROXIES = ["10.0.0.0/8", "192.0.2.7", "::1", "fd00::/8"]


def origin(h: Harness, *, peer: str = "127.0.0.1", headers: HeaderList = ()) -> tuple[str, str]:
    """The address and client a new session records, checked on the stored record too."""
    browser = Browser(h)
    page = browser.get("/set?a=1", peer=peer, headers=headers).json()
    record = h.store.peek(browser.session_id or "")
    assert record is not None and (record.address, record.client) == (page["address"], page["client"])
    return page["address"], page["client"]


@pytest.mark.parametrize(
    ("peer", "xff", "expected"),
    [
        ("203.0.113.9", None, "203.0.113.9"),
        ("203.0.113.9", "6.6.6.6", "203.0.113.9"),  # spoofed: the peer is no proxy
        ("10.1.2.3", "198.51.100.1", "198.51.100.1"),
        ("10.1.2.3", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # the client's own entry is ignored
        ("10.1.2.3", "198.51.100.1, 10.9.9.9, 192.0.2.7", "198.51.100.1"),  # several proxies
        ("10.1.2.3", "10.2.2.2, 10.3.3.3", "10.2.2.2"),  # all hops trusted: the farthest
        ("192.0.2.7", "198.51.100.1", "198.51.100.1"),  # a single trusted address
        ("192.0.2.8", "198.51.100.1", "192.0.2.8"),
        ("::1", "2001:db8::5", "2001:db8::5"),
        ("fd00::1", "2001:db8::5, fd00::2", "2001:db8::5"),
        ("::ffff:10.1.2.3", "198.51.100.1", "198.51.100.1"),  # IPv4-mapped peer
        ("10.1.2.3", "::ffff:198.51.100.1", "198.51.100.1"),
        ("::ffff:203.0.113.9", None, "203.0.113.9"),
        ("2001:DB8:0:0::1", None, "2001:db8::1"),
        ("10.1.2.3", "", "10.1.2.3"),
    ],
)
def test_address(make: Callable[..., Harness], kind: Kind, peer: str, xff: str | None, expected: str) -> None:
    h = make(kind, trusted_proxies=PROXIES)
    headers = [] if xff is None else [("x-forwarded-for", xff)]
    assert origin(h, peer=peer, headers=headers)[0] == expected


def test_without_trusted_proxies_forwarded_headers_are_ignored(h: Harness) -> None:
    headers = [("x-forwarded-for", "6.6.6.6"), ("forwarded", "for=6.6.6.7"), ("x-real-ip", "6.6.6.8")]
    assert origin(h, peer="10.1.2.3", headers=headers)[0] == "10.1.2.3"


def test_several_forwarded_for_fields_are_read_as_one_list(make: Callable[..., Harness], raw_kind: Kind) -> None:
    h = make(raw_kind, trusted_proxies=PROXIES)
    headers = [("x-forwarded-for", "6.6.6.6"), ("x-forwarded-for", "198.51.100.1")]
    assert origin(h, peer="10.1.2.3", headers=headers)[0] == "198.51.100.1"


def test_address_is_recorded_at_opening_only(make: Callable[..., Harness], kind: Kind) -> None:
    h = make(kind)
    browser = Browser(h)
    browser.get("/set?a=1", peer="203.0.113.1")
    assert browser.get("/", peer="203.0.113.2").json()["address"] == "203.0.113.1"


def test_client_is_the_user_agent(h: Harness) -> None:
    assert (
        origin(h, headers=[("user-agent", "Mozilla/5.0 (X11) Firefox/128.0")])[1] == "Mozilla/5.0 (X11) Firefox/128.0"
    )
    assert origin(h)[1] == ""


def test_client_is_bounded_and_printable(h: Harness) -> None:
    agent = "Evil\x00\x1b[31m\tAgent/" + "x" * 5000
    client = origin(h, headers=[("user-agent", agent)])[1]
    assert len(client) == MAX_CLIENT_LENGTH and client.isprintable()
    assert client.startswith("Evil[31mAgent/")


def test_client_name_callable(make: Callable[..., Harness], kind: Kind) -> None:
    seen: list[Mapping[str, str]] = []

    def client_name(headers: Mapping[str, str]) -> str:
        seen.append(headers)
        return headers.get("x-app-name", "unknown") + "/" + headers.get("user-agent", "")

    h = make(kind, client_name=client_name)
    assert origin(h, headers=[("X-App-Name", "mobile"), ("User-Agent", "ua")])[1] == "mobile/ua"
    assert all(name == name.lower() for name in seen[0])


def test_client_name_result_is_bounded_and_printable(make: Callable[..., Harness], kind: Kind) -> None:
    h = make(kind, client_name=lambda headers: "app\r\n\x00name/" + "v" * 5000)
    client = origin(h)[1]
    assert client.startswith("appname/") and len(client) == MAX_CLIENT_LENGTH and client.isprintable()


@pytest.mark.parametrize("result", [None, 42, b"bytes"])
def test_client_name_must_return_text(make: Callable[..., Harness], kind: Kind, result: object) -> None:
    h = make(kind, client_name=lambda headers: result)
    try:
        reply = h.request("/set?a=1")
    except TypeError as exc:
        assert "client_name" in str(exc)
    else:
        assert reply.status == 500  # Flask answers the app's exception itself
    assert len(h.store) == 0


def test_client_name_is_not_called_for_requests_that_store_nothing(make: Callable[..., Harness], kind: Kind) -> None:
    calls: list[int] = []

    def client_name(headers: Mapping[str, str]) -> str:
        calls.append(1)
        return "x"

    h = make(kind, client_name=client_name)
    assert h.request("/id").status == 200
    assert calls == []


# -- the pure function, for every input ----------------------------------------------

addresses = st.ip_addresses().map(str)


def canonical(address: str) -> str:
    parsed = ipaddress.ip_address(address)
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(parsed)


hops = st.lists(addresses | st.text(max_size=20), max_size=6).map(", ".join)


@settings(max_examples=200, deadline=None)
@given(peer=addresses | st.none(), forwarded=hops | st.none())
def test_untrusted_peer_is_always_the_address(peer: str | None, forwarded: str | None) -> None:
    trusted = parse_trusted_proxies(["10.0.0.0/8"])
    if peer is not None and peer.startswith("10."):
        return
    address = client_address(peer, forwarded, trusted)
    assert address == ("" if peer is None else canonical(peer))


@settings(max_examples=200, deadline=None)
@given(client=addresses, forwarded=hops, proxies=st.lists(st.sampled_from(["10.0.0.1", "10.0.0.2"]), max_size=3))
def test_behind_trusted_proxies_the_client_cannot_push_past_its_own_hop(
    client: str, forwarded: str, proxies: list[str]
) -> None:
    """Whatever the client puts in its header, the proxies' own entries decide."""
    trusted = parse_trusted_proxies(["10.0.0.0/8"])
    if client.startswith("10.") or client.startswith("::ffff:10."):
        return
    header = ", ".join(p for p in [forwarded, client, *proxies] if p)
    address = client_address("10.9.9.9", header, trusted)
    assert address == canonical(client)
    assert len(address) <= 64 and address.isprintable()
