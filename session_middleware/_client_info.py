"""Where a request comes from: the client address and the client application's name."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping

#: A ``client`` string longer than this is cut (User-Agent headers can be huge).
MAX_CLIENT_LENGTH = 256
MAX_ADDRESS_LENGTH = 64

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
#: Computes the ``client`` string from the request headers (lower-case names).
ClientName = Callable[[Mapping[str, str]], str]


def parse_trusted_proxies(proxies: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Addresses or CIDR networks of trusted reverse proxies.

    :raises ValueError: for anything that is not an IP address or network.
    """
    if isinstance(proxies, str):
        proxies = [proxies]
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies)


def normalize_address(value: str) -> str:
    """An IP address in canonical form (IPv4-mapped IPv6 as IPv4); other text is kept,
    bounded and stripped of control characters."""
    value = value.strip()
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return "".join(ch for ch in value if ch.isprintable())[:MAX_ADDRESS_LENGTH]
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def _is_trusted(value: str, trusted: tuple[IPNetwork, ...]) -> bool:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in trusted)


def client_address(peer: str | None, forwarded_for: str | None, trusted: tuple[IPNetwork, ...]) -> str:
    """The client's address: the socket peer, unless the peer is a trusted proxy.

    Behind trusted proxies, ``X-Forwarded-For`` is read from the right (the hops the
    proxies appended) and the first address that is not itself a trusted proxy is the
    client. A client that sends its own header cannot move past that point.
    """
    address = peer or ""
    if forwarded_for and trusted and _is_trusted(address, trusted):
        for hop in reversed(forwarded_for.split(",")[-32:]):
            address = hop.strip()
            if not _is_trusted(address, trusted):
                break
    return normalize_address(address)


def _clean_client(value: str) -> str:
    return "".join(ch for ch in value[: MAX_CLIENT_LENGTH * 2] if ch.isprintable())[:MAX_CLIENT_LENGTH]


def default_client_name(headers: Mapping[str, str]) -> str:
    """The User-Agent, stripped of control characters and cut to a bounded length."""
    return _clean_client(headers.get("user-agent", ""))


def checked_client_name(client_name: ClientName) -> ClientName:
    """A user's ``client_name`` callable whose result is held to the User-Agent's rules,
    since it is stored, listed by the REST API and serialized by every store.

    The wrapped callable raises ``TypeError`` if the result is not a string.
    """

    def name(headers: Mapping[str, str]) -> str:
        value = client_name(headers)
        if not isinstance(value, str):
            raise TypeError(f"client_name must return a str, not {type(value).__name__}")
        return _clean_client(value)

    return name
