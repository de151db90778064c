"""The session cookie: id quality, signing, key rotation and every attribute."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from typing import Any

import pytest
from itsdangerous import Signer

from session_middleware._cookies import path_matches
from session_middleware._signing import COOKIE_SALT
from session_middleware.records import SESSION_ID_LENGTH, is_session_id, new_session_id

from .support import KEY, OLD_KEY, OTHER_KEY, Browser, Harness, Kind, seed, sign, unsign

BASE64URL = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


# -- the id --------------------------------------------------------------------------


def test_ids_are_256_bit_tokens_from_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[int] = []
    real = secrets.token_urlsafe

    def spy(nbytes: int | None = None) -> str:
        asked.append(nbytes or 0)
        return real(nbytes)

    monkeypatch.setattr(secrets, "token_urlsafe", spy)
    ids = [new_session_id() for _ in range(10_000)]
    assert asked == [32] * 10_000
    assert len(set(ids)) == 10_000
    assert all(len(i) == SESSION_ID_LENGTH == 43 and BASE64URL.issuperset(i) for i in ids)
    assert all(is_session_id(i) for i in ids[:100])


@pytest.mark.parametrize("value", ["", "a", "A" * 42, "A" * 44, "A" * 42 + "=", "A" * 42 + ".", "A" * 42 + "é"])
def test_only_ids_of_the_exact_shape_are_ids(value: str) -> None:
    assert not is_session_id(value)


def test_cookie_carries_only_the_signed_id(h: Harness) -> None:
    browser = Browser(h)
    browser.get("/set?a=1")
    first = browser.cookie or ""
    session_id, _, signature = first.partition(".")
    assert is_session_id(session_id) and h.store.peek(session_id) is not None
    assert len(signature) == 43 and len(first) == 87
    browser.get("/set?big=" + '"' + "x" * 3000 + '"')
    browser.get("/regenerate")
    assert len(browser.cookie or "") == 87  # data never travels in the cookie


def test_cookie_is_signed_with_itsdangerous_and_the_cookie_salt(h: Harness) -> None:
    browser = Browser(h)
    browser.get("/set?a=1")
    value = browser.cookie or ""
    assert Signer(KEY, salt=COOKIE_SALT, digest_method=hashlib.sha256).unsign(value).decode() == browser.session_id
    for salt in ("itsdangerous.Signer", "session_middleware.other"):
        forged = Signer(KEY, salt=salt, digest_method=hashlib.sha256).sign(browser.session_id or "").decode()
        h.store.reset()
        assert h.request("/", cookie=forged).json()["is_new"] is True
        assert h.store.calls == []  # a wrong purpose costs no store call


@pytest.mark.parametrize(
    "forge",
    [
        lambda sid: sid,  # unsigned raw id
        lambda sid: sign(sid, OTHER_KEY),
        lambda sid: sign(sid) + ".x",
        lambda sid: sign(sid)[:-1],
        lambda sid: sign(sid).replace(".", ""),
        lambda sid: sign(sid).replace(".", ":"),
        lambda sid: Signer(KEY, salt=COOKIE_SALT).sign(sid).decode(),  # SHA-1, itsdangerous' default
        lambda sid: sign(sid + "A"),
        lambda sid: sign(sid[:-1]),
        lambda sid: sign(""),
        lambda sid: sign(" " + sid[1:]),
        lambda sid: f'"{sign(sid)}',
    ],
)
def test_forged_cookies_are_anonymous_and_cost_no_store_call(h: Harness, forge: Callable[[str], str]) -> None:
    session_id = seed(h.store, h.clock, user={"id": "victim"})
    h.store.reset()
    reply = h.request("/", cookie=forge(session_id))
    assert reply.status == 200 and reply.json()["user"] is None
    assert h.store.calls == []
    assert (reply.cookie() or pytest.fail("bad cookie not cleared")).cleared


def test_quoted_cookie_value_is_accepted(h: Harness) -> None:
    session_id = seed(h.store, h.clock, a=1)
    assert h.request("/", cookie=f'"{sign(session_id)}"').json()["data"] == {"a": 1}


def test_signatures_are_compared_in_constant_time(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    import hmac

    compared: list[int] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append(1)
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)  # itsdangerous looks it up on each check
    session_id = seed(h.store, h.clock, a=1)
    assert h.request("/", cookie=sign(session_id)).json()["data"] == {"a": 1}
    assert h.request("/", cookie=sign(session_id, OTHER_KEY)).json()["is_new"] is True
    assert len(compared) >= 2


def test_cookies_carry_no_time_so_clock_skew_cannot_expire_them(h: Harness) -> None:
    """Expiry is decided by the store's clock alone; the signature has no timestamp."""
    browser = Browser(h)
    browser.get("/set?a=1")
    value = browser.cookie or ""
    assert value.count(".") == 1 and len(value) == 87
    h.clock.rewind(3600)  # a host whose clock is behind
    assert h.request("/", cookie=value).json()["data"] == {"a": 1}
    h.clock.advance(3600 + 23 * 3600)  # and one far ahead, still within the idle timeout
    assert h.request("/", cookie=value).json()["data"] == {"a": 1}


# -- key rotation --------------------------------------------------------------------


def test_old_key_cookie_is_accepted_and_resigned_on_the_next_write(make: Callable[..., Harness], kind: Kind) -> None:
    h = make(kind, secret_key=[OLD_KEY, KEY])
    session_id = seed(h.store, h.clock, a=1)
    old_cookie = sign(session_id, OLD_KEY)
    read = h.request("/", cookie=old_cookie)
    assert read.json()["data"] == {"a": 1}
    assert read.cookie() is None  # a read changes nothing, not even the signature
    write = h.request("/set?b=2", cookie=old_cookie)
    resigned = write.cookie()
    assert resigned is not None and not resigned.cleared
    assert unsign(resigned.value, KEY) == session_id and unsign(resigned.value, OLD_KEY) is None
    assert write.header("cache-control") == "no-store"
    again = h.request("/set?c=3", cookie=resigned.value)
    assert again.cookie() is None  # signed with the newest key: nothing to re-sign
    assert h.store.peek(session_id).decoded_data() == {"a": 1, "b": 2, "c": 3}  # type: ignore[union-attr]


def test_new_cookies_are_signed_with_the_newest_key(make: Callable[..., Harness], kind: Kind) -> None:
    h = make(kind, secret_key=(OLD_KEY.encode(), KEY.encode()))
    cookie = h.request("/set?a=1").cookie()
    assert cookie is not None and unsign(cookie.value, KEY) is not None and unsign(cookie.value, OLD_KEY) is None


def test_removed_key_makes_its_cookies_anonymous(make: Callable[..., Harness], kind: Kind) -> None:
    h = make(kind, secret_key=[KEY])
    session_id = seed(h.store, h.clock, a=1)
    h.store.reset()
    reply = h.request("/", cookie=sign(session_id, OLD_KEY))
    assert reply.json()["is_new"] is True and h.store.calls == []
    assert (reply.cookie() or pytest.fail("not cleared")).cleared


# -- attributes ----------------------------------------------------------------------


def _new_cookie(h: Harness, https: bool = False) -> Any:
    cookie = h.request("/set?a=1", https=https).cookie(h.cookie_name)
    assert cookie is not None
    return cookie


def _cleared_cookie(h: Harness, https: bool = False, path: str = "/") -> Any:
    cookie = h.request(path, cookie=sign(new_session_id()), https=https).cookie(h.cookie_name)
    assert cookie is not None and cookie.cleared
    return cookie


def test_default_attributes(h: Harness) -> None:
    for cookie in (_new_cookie(h), _cleared_cookie(h)):
        assert cookie.name == "session"
        assert cookie.attrs.get("httponly") is True
        assert cookie.attrs.get("samesite") == "Lax"
        assert cookie.attrs.get("path") == "/"
        assert "domain" not in cookie.attrs and "partitioned" not in cookie.attrs
        assert "secure" not in cookie.attrs  # plain http
    assert _new_cookie(h).attrs["max-age"] == str(14 * 24 * 3600)


def test_secure_is_automatic_on_https(h: Harness) -> None:
    assert _new_cookie(h, https=True).attrs.get("secure") is True
    assert _cleared_cookie(h, https=True).attrs.get("secure") is True


@pytest.mark.parametrize(("secure", "https", "expected"), [(True, False, True), (False, True, False)])
def test_cookie_secure_overrides(
    make: Callable[..., Harness], raw_kind: Kind, secure: bool, https: bool, expected: bool
) -> None:
    h = make(raw_kind, cookie_secure=secure)
    assert ("secure" in _new_cookie(h, https=https).attrs) is expected
    assert ("secure" in _cleared_cookie(h, https=https).attrs) is expected


def test_clearing_repeats_domain_and_path(make: Callable[..., Harness], kind: Kind) -> None:
    # The cookie's path must cover the request that logs out (the scenario app's /logout).
    h = make(kind, cookie_domain="example.com", cookie_path="/logout", cookie_name="sid")
    set_ = _new_cookie(h)
    assert set_.name == "sid" and set_.attrs["domain"] == "example.com" and set_.attrs["path"] == "/logout"
    cleared = h.request("/logout", cookie=set_.value).cookie("sid")
    assert cleared is not None and cleared.value in ("", '""')
    assert cleared.attrs["max-age"] == "0" and cleared.attrs["expires"] == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert cleared.attrs["domain"] == "example.com" and cleared.attrs["path"] == "/logout"
    assert cleared.attrs["samesite"] == set_.attrs["samesite"] and cleared.attrs["httponly"] is True


@pytest.mark.parametrize("path", ["/", "/application", "/other/app"])
def test_a_request_outside_the_cookie_path_never_reads_or_clears_a_cookie_of_that_name(
    make: Callable[..., Harness], raw_kind: Kind, path: str
) -> None:
    # Another app on the same host, at "/", has its own "session" cookie: our cookie lives
    # at /app, so the browser could never send ours to these paths.
    h = make(raw_kind, cookie_path="/app")
    reply = h.request(path, cookie="not-ours")
    assert reply.cookie(h.cookie_name) is None and h.store.calls == []


@pytest.mark.parametrize(
    ("request_path", "cookie_path", "sent"),
    [
        ("/app", "/app", True),
        ("/app/x", "/app", True),
        ("/app/x", "/app/", True),
        ("/apple", "/app", False),
        ("/", "/app", False),
        ("/anything", "/", True),
        ("/ap", "/app", False),
    ],
)
def test_path_matching_follows_rfc_6265(request_path: str, cookie_path: str, sent: bool) -> None:
    assert path_matches(request_path, cookie_path) is sent


def test_custom_cookie_name_ignores_other_names(make: Callable[..., Harness], raw_kind: Kind) -> None:
    h = make(raw_kind, cookie_name="sid")
    session_id = seed(h.store, h.clock, a=1)
    assert h.request("/", headers=[("cookie", f"session={sign(session_id)}")]).json()["is_new"] is True
    assert h.request("/", headers=[("cookie", f"sid={sign(session_id)}")]).json()["data"] == {"a": 1}


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"cookie_httponly": False}, {"httponly": None}),
        ({"cookie_samesite": "strict"}, {"samesite": "Strict"}),
        ({"cookie_samesite": "Strict"}, {"samesite": "Strict"}),
        ({"cookie_samesite": None}, {"samesite": None}),
        ({"cookie_samesite": "none"}, {"samesite": "None", "secure": True}),
        ({"cookie_partitioned": True}, {"partitioned": True, "secure": True}),
        ({"cookie_name": "__Host-session"}, {"secure": True, "path": "/", "domain": None}),
        ({"cookie_name": "__host-session"}, {"secure": True, "path": "/", "domain": None}),
        ({"cookie_name": "__SECURE-session"}, {"secure": True}),
        ({"cookie_name": "__Secure-session", "cookie_domain": "example.com"}, {"secure": True}),
        ({"absolute_timeout": 3600}, {"max-age": "3600"}),
    ],
)
def test_configured_attributes(
    make: Callable[..., Harness], raw_kind: Kind, options: dict[str, Any], expected: dict[str, Any]
) -> None:
    h = make(raw_kind, **options)
    for cookie in (_new_cookie(h), _cleared_cookie(h)):  # plain http: forced attributes still hold
        for name, value in expected.items():
            if name == "max-age" and cookie.cleared:
                continue
            assert cookie.attrs.get(name) == value, (name, cookie.raw)


@pytest.mark.parametrize(
    "options",
    [
        {"cookie_name": "__Host-session", "cookie_path": "/app"},
        {"cookie_name": "__Host-session", "cookie_domain": "example.com"},
        {"cookie_name": "__Host-session", "cookie_secure": False},
        {"cookie_name": "__Secure-session", "cookie_secure": False},
        {"cookie_samesite": "none", "cookie_secure": False},
        {"cookie_partitioned": True, "cookie_secure": False},
        # browsers match the prefixes case-insensitively (RFC 6265bis)
        {"cookie_name": "__HOST-session", "cookie_path": "/app"},
        {"cookie_name": "__host-session", "cookie_domain": "example.com"},
        {"cookie_name": "__secure-session", "cookie_secure": False},
    ],
)
def test_prefix_and_cross_site_constraints_are_checked_at_construction(
    make: Callable[..., Harness], raw_kind: Kind, options: dict[str, Any]
) -> None:
    with pytest.raises(ValueError):
        make(raw_kind, **options)


@pytest.mark.parametrize(
    "name", ["", "bad name", "a;b", "a=b", "bad\r\nname", "séssion", 'a"b', "a,b", "a\tb", "a\x00", "(a)", "a/b"]
)
def test_invalid_cookie_names_are_rejected(make: Callable[..., Harness], raw_kind: Kind, name: str) -> None:
    with pytest.raises(ValueError, match="cookie_name"):
        make(raw_kind, cookie_name=name)


@pytest.mark.parametrize("path", ["", "app", "/a;b", "/a\nb", "/a\x00b", "/a\rb"])
def test_invalid_cookie_paths_are_rejected(make: Callable[..., Harness], raw_kind: Kind, path: str) -> None:
    with pytest.raises(ValueError, match="cookie_path"):
        make(raw_kind, cookie_path=path)


@pytest.mark.parametrize("domain", ["", "bad domain", "a;b", "a\r\nb", "exämple.com"])
def test_invalid_cookie_domains_are_rejected(make: Callable[..., Harness], raw_kind: Kind, domain: str) -> None:
    with pytest.raises(ValueError, match="cookie_domain"):
        make(raw_kind, cookie_domain=domain)


@pytest.mark.parametrize("secret", ["", b"", [], (), ["x" * 40, ""]])
def test_empty_secrets_are_rejected_with_advice(make: Callable[..., Harness], raw_kind: Kind, secret: Any) -> None:
    with pytest.raises(ValueError, match=r"secrets\.token_urlsafe"):
        make(raw_kind, secret_key=secret)


@pytest.mark.parametrize("secret", ["short", "x" * 31, b"y" * 31, ["x" * 40, "short"]])
def test_short_secrets_work_with_a_warning(
    make: Callable[..., Harness], raw_kind: Kind, secret: Any, caplog: pytest.LogCaptureFixture
) -> None:
    h = make(raw_kind, secret_key=secret)
    assert h.request("/set?a=1").cookie() is not None
    warnings = [r for r in caplog.records if r.name == "session_middleware.security"]
    assert len(warnings) == 1 and "secrets.token_urlsafe" in warnings[0].getMessage()


@pytest.mark.parametrize("secret", ["x" * 32, b"y" * 32, ["x" * 32, b"z" * 40], ("é" * 16,)])
def test_32_byte_secrets_are_enough(make: Callable[..., Harness], raw_kind: Kind, secret: Any) -> None:
    h = make(raw_kind, secret_key=secret)
    assert h.request("/set?a=1").cookie() is not None


def test_set_cookie_is_small_and_clean(make: Callable[..., Harness], raw_kind: Kind) -> None:
    h = make(raw_kind, cookie_domain="sub.example.com", cookie_path="/a/b", cookie_partitioned=True)
    for cookie in (_new_cookie(h, https=True), _cleared_cookie(h, path="/a/b")):
        assert len(cookie.raw) <= 4096
        assert cookie.raw.isascii() and cookie.raw.isprintable()
        assert not set(cookie.value) & set(' ;,\\"')
