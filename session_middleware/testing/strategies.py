"""Hypothesis strategies for what a session sees: users, JSON data, clients and cookies."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from hypothesis import strategies as st
from itsdangerous import Signer

from .._cookies import is_cookie_name
from .._signing import COOKIE_SALT, CookieSigner, normalize_secret_keys

__all__ = [
    "COOKIE_KINDS",
    "CookieCase",
    "CookieForgery",
    "client_addresses",
    "cookie_cases",
    "cookie_forgeries",
    "cookie_headers",
    "json_values",
    "session_data",
    "session_ids",
    "user_agents",
    "user_ids",
    "users",
]

CookieKind = Literal[
    "valid",
    "shadowed",
    "tampered",
    "truncated",
    "foreign_key",
    "foreign_salt",
    "unsigned",
    "garbage",
    "empty",
    "absent",
]
#: Every kind of cookie :func:`cookie_cases` makes. Only ``valid`` and ``shadowed`` (a
#: valid cookie behind an invalid duplicate) name a session; ``absent`` has no session
#: cookie at all; every other kind is a session cookie that must be ignored and cleared.
COOKIE_KINDS: tuple[CookieKind, ...] = get_args(CookieKind)

_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_TOKEN_ALPHABET = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # noqa: S105 - cookie-name characters, not a secret
# Cookie values a browser could send: printable Latin-1 without the pair separator.
_COOKIE_VALUE_CHARS = st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters=";\x7f")
# Text that survives UTF-8 (no lone surrogates): anything a JSON body can carry.
_TEXT_CHARS = st.characters(codec="utf-8")
_EDGE_STRINGS = ["", " ", "\x00", "\u2028", "\ufeff", "ünïcödé", "日本語", "\U0001f600", '"\\/', "<script>"]
_EDGE_INTS = [0, -1, 1, 2**31 - 1, -(2**31), 2**53, 2**53 + 1, 2**63 - 1, -(2**63), 2**64, 10**30]
_EDGE_FLOATS = [-0.0, 0.1, 1e-7, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 1e16, -1.5]


def json_values(*, max_leaves: int = 8, printable: bool = False) -> st.SearchStrategy[Any]:
    """Any JSON value a session may hold: nested lists and objects, unicode text, edge numbers.

    Floats are finite (JSON has no NaN or infinity) and every value survives a JSON round
    trip unchanged. ``printable`` keeps text to printable characters, for APIs that
    refuse control characters.
    """
    chars = (
        st.characters(codec="utf-8", categories=("L", "M", "N", "P", "S"), include_characters=" ")
        if printable
        else _TEXT_CHARS
    )
    edge_strings = [s for s in _EDGE_STRINGS if s.isprintable()] if printable else _EDGE_STRINGS
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**64) | st.sampled_from(_EDGE_INTS),
        st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(_EDGE_FLOATS),
        st.text(chars, max_size=16) | st.sampled_from(edge_strings),
    )
    keys = st.text(chars, max_size=8)
    return st.recursive(
        scalars,
        lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
        max_leaves=max_leaves,
    )


def session_data(
    *,
    keys: st.SearchStrategy[str] | None = None,
    min_keys: int = 0,
    max_keys: int = 5,
    max_leaves: int = 8,
    printable: bool = False,
) -> st.SearchStrategy[dict[str, Any]]:
    """A session's data: a dict of string keys to JSON values (see :func:`json_values`)."""
    key_strategy = keys if keys is not None else st.text(_TEXT_CHARS, min_size=1, max_size=12)
    return st.dictionaries(
        key_strategy,
        json_values(max_leaves=max_leaves, printable=printable),
        min_size=min_keys,
        max_size=max_keys,
    )


def user_ids(*, max_size: int = 40) -> st.SearchStrategy[str]:
    """User ids the package accepts: 1 to 256 printable characters, unicode included.

    Ids never contain ``/``, so they fit in one path segment of the REST API.
    """
    chars = st.characters(codec="utf-8", categories=("L", "M", "N", "P", "S"), exclude_characters="/")
    plain = st.text(chars | st.just(" "), min_size=1, max_size=max_size).filter(str.isprintable)
    return plain | st.sampled_from(["42", "alice", "Ünïcode User", "a.b+c@example.com", "x" * min(max_size, 256)])


def users(*, with_name: bool | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """User mappings for ``Session.login``: a string ``id`` and, sometimes, a ``name``."""
    names = st.text(_TEXT_CHARS, max_size=30).filter(str.isprintable)
    ids = user_ids()
    with_names = st.fixed_dictionaries({"id": ids, "name": names})
    without = st.fixed_dictionaries({"id": ids})
    if with_name is None:
        return with_names | without
    return with_names if with_name else without


def client_addresses() -> st.SearchStrategy[str]:
    """Client IP addresses in canonical text form, IPv4 and IPv6 (loopback, private, public)."""
    return st.ip_addresses(v=4).map(str) | st.ip_addresses(v=6).map(str)


_KNOWN_AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "curl/8.5.0",
    "python-httpx/0.28.1",
]


def user_agents(*, max_size: int = 300) -> st.SearchStrategy[str]:
    """User-Agent header values: real browsers' and arbitrary printable ASCII, without
    surrounding whitespace (servers strip it). Values past 256 characters test the
    middleware's cut of the ``client`` string."""
    arbitrary = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=max_size)
    return st.sampled_from(_KNOWN_AGENTS) | arbitrary.map(str.strip).filter(bool)


def session_ids() -> st.SearchStrategy[str]:
    """Ids shaped like the package's own (256 bits, 43 base64url characters)."""
    return st.binary(min_size=32, max_size=32).map(_token)


def _token(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# -- cookies ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CookieCase:
    """A ``Cookie`` header and what the middleware must make of it."""

    kind: CookieKind
    header: str
    #: The session id a ``valid`` or ``shadowed`` cookie carries, else ``None``.
    session_id: str | None

    @property
    def names_session(self) -> bool:
        """Whether the header names a session (it is loaded if that session is live)."""
        return self.session_id is not None

    @property
    def must_clear(self) -> bool:
        """Whether the header carries a session cookie that gives no session whatever the
        store holds: the response must clear it."""
        return self.session_id is None and self.kind != "absent"


@dataclass(frozen=True, slots=True)
class CookieForgery:
    """A recipe for one :class:`CookieCase`, independent of the secret key, so a state
    machine can draw it as a rule argument and build it with its own key."""

    kind: CookieKind
    id_bytes: bytes
    position: int
    noise: str
    others: tuple[tuple[str, str], ...]

    def build(self, secret_key: str | bytes | Sequence[str | bytes], cookie_name: str = "session") -> CookieCase:
        """The cookie header this recipe gives for the application's secret key(s)."""
        keys = normalize_secret_keys(secret_key)
        signer = CookieSigner(keys)
        session_id = _token(self.id_bytes)
        signed = signer.sign(session_id)
        carried: str | None = None
        kind = self.kind
        if kind == "valid":
            value, carried = signed, session_id
        elif kind == "shadowed":
            value, carried = f"{_junk(self.noise)}; {cookie_name}={signed}", session_id
        elif kind == "tampered":
            # Any character, the signature's last one included: its two unused bits make a
            # non-canonical encoding of the same signature, which must be refused too.
            index = self.position % len(signed)
            value = signed[:index] + _other_char(signed[index], self.position) + signed[index + 1 :]
        elif kind == "truncated":
            value = signed[: self.position % len(signed)]
        elif kind == "foreign_key":
            value = CookieSigner([hashlib.sha256(b"foreign" + self.id_bytes).hexdigest().encode()]).sign(session_id)
        elif kind == "foreign_salt":
            value = (
                Signer(keys[-1], salt=COOKIE_SALT + b".other", digest_method=hashlib.sha256).sign(session_id).decode()
            )
        elif kind == "unsigned":
            value = session_id
        elif kind == "garbage":
            value = _junk(self.noise)
        else:  # empty, absent
            value = ""
        pairs = [f"{name}={val}" for name, val in self.others if name != cookie_name]
        if kind != "absent":
            pairs.insert(self.position % (len(pairs) + 1), f"{cookie_name}={value}")
        return CookieCase(kind, "; ".join(pairs), carried)


def _junk(noise: str) -> str:
    # Never a valid signed value: those are exactly 87 characters.
    return noise if len(noise) != 87 else noise[:-1]


def _other_char(char: str, seed: int) -> str:
    alphabet = _ID_ALPHABET.replace(char, "") if char in _ID_ALPHABET else _ID_ALPHABET
    return alphabet[seed % len(alphabet)]


def cookie_forgeries(*, kinds: Sequence[CookieKind] = COOKIE_KINDS) -> st.SearchStrategy[CookieForgery]:
    """Recipes for cookie headers of the given kinds (see :data:`COOKIE_KINDS`)."""
    other_names = st.text(st.sampled_from(_TOKEN_ALPHABET), min_size=1, max_size=8).filter(is_cookie_name)
    other_values = st.text(st.sampled_from(_TOKEN_ALPHABET), max_size=12)
    return st.builds(
        CookieForgery,
        kind=st.sampled_from(list(kinds)),
        id_bytes=st.binary(min_size=32, max_size=32),
        position=st.integers(min_value=0, max_value=200),
        noise=st.text(_COOKIE_VALUE_CHARS, max_size=120).map(str.strip),
        others=st.lists(st.tuples(other_names, other_values), max_size=3).map(tuple),
    )


def cookie_cases(
    secret_key: str | bytes | Sequence[str | bytes],
    *,
    cookie_name: str = "session",
    kinds: Sequence[CookieKind] = COOKIE_KINDS,
) -> st.SearchStrategy[CookieCase]:
    """``Cookie`` headers with the kind of each: valid, shadowed by a bad duplicate,
    tampered, truncated, signed with a foreign key or salt, unsigned, garbage, empty, or
    absent among other cookies. Valid ones are signed with ``secret_key`` (the
    middleware's ``secret_key`` option: the newest key signs)."""
    normalize_secret_keys(secret_key)  # fail now, not inside a test
    return cookie_forgeries(kinds=kinds).map(lambda forgery: forgery.build(secret_key, cookie_name))


def cookie_headers(
    secret_key: str | bytes | Sequence[str | bytes],
    *,
    cookie_name: str = "session",
    kinds: Sequence[CookieKind] = COOKIE_KINDS,
) -> st.SearchStrategy[str]:
    """The ``Cookie`` header values of :func:`cookie_cases`."""
    return cookie_cases(secret_key, cookie_name=cookie_name, kinds=kinds).map(lambda case: case.header)
