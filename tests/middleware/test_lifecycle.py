"""The lifecycle rules (docs/lifecycle.md, rules 1-9), through raw ASGI, raw WSGI, Starlette and Flask."""

from __future__ import annotations

import json

import pytest

from session_middleware.records import new_session_id

from .support import Browser, Harness, Reply, seed, sign, unsign

DAY = 24 * 3600.0


def stored(h: Harness, browser: Browser) -> dict[str, object] | None:
    """The data stored for the browser's session (decoded), or None if there is none."""
    session_id = browser.session_id
    record = None if session_id is None else h.store.peek(session_id)
    return None if record is None else record.decoded_data()


def create(h: Harness, path: str = "/set?a=1") -> Browser:
    browser = Browser(h)
    reply = browser.get(path)
    assert reply.status == 200 and browser.cookie is not None
    h.store.reset()
    return browser


def attempt(h: Harness, path: str, cookie: str | None = None) -> Reply | None:
    """A request whose app raises: None when the exception came through, else the reply."""
    try:
        return h.request(path, cookie=cookie)
    except RuntimeError:
        return None


def assert_cache_safe(reply: Reply) -> None:
    assert reply.header("cache-control") == "no-store"
    vary = [v.strip().lower() for v in (reply.header("vary") or "").split(",")]
    assert vary.count("cookie") == 1, reply.headers


# -- rule 1: nothing for untouched anonymous requests --------------------------------


@pytest.mark.parametrize("path", ["/", "/id", "/logout", "/clear", "/regenerate", "/set", "/?_status=404"])
def test_untouched_anonymous_request_costs_nothing(h: Harness, path: str) -> None:
    reply = h.request(path)
    assert reply.status in (200, 404)
    assert reply.header_list("set-cookie") == []
    assert h.store.calls == []
    assert len(h.store) == 0


def test_many_anonymous_visits_leave_the_store_empty(h: Harness) -> None:
    for path in ["/", "/logout", "/id"] * 20:
        assert h.request(path).header_list("set-cookie") == []
    assert h.store.calls == [] and len(h.store) == 0


# -- rule 2: stored on first data or login; cookie only when the id changes ------------


def test_first_write_stores_the_session_and_sends_the_cookie(h: Harness) -> None:
    browser = Browser(h)
    reply = browser.get('/set?a=1&b="two"')
    cookie = reply.cookie()
    assert cookie is not None and not cookie.cleared
    assert h.store.calls == ["create"]
    session_id = unsign(cookie.value)
    assert session_id is not None
    record = h.store.peek(session_id)
    assert record is not None and record.decoded_data() == {"a": 1, "b": "two"}
    assert record.user is None
    assert reply.json()["is_new"] is True
    assert_cache_safe(reply)


def test_cookie_is_sent_again_only_when_the_id_changes(h: Harness) -> None:
    browser = create(h)
    for path in ["/set?b=2", "/append?cart=1", "/del?a", "/", "/set?b=3"]:
        reply = browser.get(path)
        assert reply.status == 200
        assert reply.header_list("set-cookie") == [], path
        assert reply.json()["is_new"] is False
    assert stored(h, browser) == {"b": 3, "cart": [1]}


def test_login_stores_a_new_session_with_the_user(h: Harness) -> None:
    browser = Browser(h)
    reply = browser.get("/login?id=u1&name=Ada")
    assert reply.cookie() is not None
    assert h.store.calls == ["create"]
    records = h.store.inner.list_by_user("u1")
    assert [r.id for r in records] == [browser.session_id]
    assert records[0].user == {"id": "u1", "name": "Ada"}
    assert_cache_safe(reply)


# -- rule 3: one store operation loads and touches -----------------------------------


def test_read_only_request_is_one_load_and_touch(h: Harness) -> None:
    browser = create(h)
    h.clock.advance(60)
    reply = browser.get("/")
    assert h.store.calls == ["load_and_touch"]
    assert reply.json()["data"] == {"a": 1}
    record = h.store.peek(browser.session_id or "")
    assert record is not None and record.last_request == h.clock()


# -- rule 4: saved without a call, nested mutation included, unchanged not rewritten ---


def test_unchanged_session_is_not_rewritten(h: Harness) -> None:
    browser = create(h, '/set?a=1&nested={"x":[1,2.5,"é"]}')
    for path in ["/", "/set?a=1", '/set?nested={"x":[1,2.5,"é"]}', "/id"]:
        h.store.reset()
        browser.get(path)
        assert h.store.calls == ["load_and_touch"], path


def test_nested_mutation_is_saved_with_no_extra_call(h: Harness) -> None:
    browser = create(h, '/set?d={"inner":0}')
    browser.get('/append?cart="apple"')
    browser.get('/append?cart="pear"')
    h.store.reset()
    browser.get('/nested?d={"deep":[true]}')
    assert h.store.calls == ["load_and_touch", "save_changes"]
    assert stored(h, browser) == {"d": {"inner": {"deep": [True]}}, "cart": ["apple", "pear"]}


def test_only_changed_keys_are_written(h: Harness) -> None:
    browser = create(h, "/set?a=1&b=2&c=3")
    h.store.reset()
    captured: list[object] = []
    original = h.store.inner.save_changes

    def spy(session_id: str, changes: object) -> bool:
        captured.append(changes)
        return original(session_id, changes)  # type: ignore[arg-type]

    h.store.inner.save_changes = spy  # type: ignore[method-assign]
    browser.get("/set?b=20&c=3")
    browser.get("/del?a")
    assert [(dict(c.updated), set(c.removed), c.clear) for c in captured] == [  # type: ignore[attr-defined]
        ({"b": "20"}, set(), False),
        ({}, {"a"}, False),
    ]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_changes_are_not_saved_on_5xx(h: Harness, status: int) -> None:
    browser = create(h)
    reply = browser.get(f"/set?a=2&b=1&_status={status}")
    assert reply.status == status
    assert h.store.calls == ["load_and_touch"]
    assert reply.header_list("set-cookie") == []
    assert stored(h, browser) == {"a": 1}


def test_new_session_is_not_created_on_5xx(h: Harness) -> None:
    reply = h.request("/login?id=u1&_status=500")
    assert reply.status == 500 and reply.header_list("set-cookie") == []
    assert h.store.calls == [] and len(h.store) == 0


def test_logout_is_not_applied_on_5xx(h: Harness) -> None:
    browser = create(h, "/login?id=u1")
    reply = browser.get("/logout?_status=500")
    assert reply.header_list("set-cookie") == []
    assert browser.get("/").json()["user_id"] == "u1"


@pytest.mark.parametrize("status", [201, 302, 304, 404])
def test_changes_are_saved_on_other_statuses(h: Harness, status: int) -> None:
    browser = create(h)
    assert browser.get(f"/set?a=5&_status={status}").status == status
    assert stored(h, browser) == {"a": 5}


def test_changes_are_not_saved_when_the_app_raises(h: Harness) -> None:
    browser = create(h)
    reply = attempt(h, "/set?a=2&_raise=1", cookie=browser.cookie)
    assert reply is None or (reply.status == 500 and reply.header_list("set-cookie") == [])
    assert h.store.calls == ["load_and_touch"]
    assert stored(h, browser) == {"a": 1}
    h.store.reset()
    attempt(h, "/login?id=u1&_raise=1")
    assert h.store.calls == [] and len(h.store) == 1


def test_head_request_gets_the_cookie(h: Harness) -> None:
    reply = h.request("/set?a=1", method="HEAD")
    assert reply.status == 200
    assert reply.cookie() is not None
    assert_cache_safe(reply)


def test_cleared_logged_in_session_keeps_the_user(h: Harness) -> None:
    browser = create(h, "/login?id=u1")
    browser.get("/set?a=1&b=2")
    reply = browser.get("/clear")
    assert reply.header_list("set-cookie") == []
    assert stored(h, browser) == {}
    assert browser.get("/").json()["user_id"] == "u1"


def test_clear_then_set_replaces_all_data(h: Harness) -> None:
    browser = create(h, "/set?a=1&b=2")
    h.store.reset()
    browser.get("/clear")  # anonymous and emptied: forgotten
    assert browser.cookie is None and len(h.store) == 0
    browser = create(h, "/login?id=u1")
    browser.get("/set?a=1&b=2")
    browser.get("/clear")
    browser.get("/set?c=3")
    assert stored(h, browser) == {"c": 3}


def test_emptied_anonymous_session_is_forgotten(h: Harness) -> None:
    browser = create(h)
    old = browser.session_id or ""
    reply = browser.get("/del?a")
    cookie = reply.cookie()
    assert cookie is not None and cookie.cleared
    assert h.store.peek(old) is None
    assert_cache_safe(reply)


def test_regenerated_then_emptied_anonymous_session_is_forgotten(h: Harness) -> None:
    browser = create(h)
    old = browser.session_id or ""
    reply = browser.get("/regenerate?_clear=1")
    assert (reply.cookie() or pytest.fail("cookie not cleared")).cleared
    assert h.store.peek(old) is None and len(h.store) == 0


# -- rule 6: bad, expired, unknown or revoked cookies --------------------------------


def _stale_cookie(h: Harness, how: str) -> str:
    if how == "unknown":
        return sign(new_session_id())
    session_id = seed(h.store, h.clock, a=1)
    cookie = sign(session_id)
    if how == "tampered":  # not the last character: its low bits are base64 padding
        flipped = "A" if cookie[-5] != "A" else "B"
        return cookie[:-5] + flipped + cookie[-4:]
    if how == "tampered_id":
        return ("A" if cookie[0] != "A" else "B") + cookie[1:]
    if how == "expired":
        h.clock.advance(DAY + 1)
    elif how == "revoked":
        assert h.store.inner.delete(session_id)
    return cookie


STALE = ["tampered", "tampered_id", "unknown", "expired", "revoked"]


@pytest.mark.parametrize("how", STALE)
def test_stale_cookie_gives_a_fresh_session_and_is_cleared(h: Harness, how: str) -> None:
    cookie = _stale_cookie(h, how)
    h.store.reset()
    reply = h.request("/", cookie=cookie)
    assert reply.status == 200
    assert reply.json()["is_new"] is True and reply.json()["data"] == {}
    cleared = reply.cookie()
    assert cleared is not None and cleared.cleared and cleared.value in ("", '""')
    assert_cache_safe(reply)
    expected_calls = [] if how.startswith("tampered") else ["load_and_touch"]
    assert h.store.calls == expected_calls


@pytest.mark.parametrize("how", STALE)
def test_writing_with_a_stale_cookie_issues_a_new_id(h: Harness, how: str) -> None:
    cookie = _stale_cookie(h, how)
    old_id = unsign(cookie)
    reply = h.request("/set?b=2", cookie=cookie)
    new = reply.cookie()
    assert new is not None and not new.cleared and new.value != cookie
    new_id = unsign(new.value)
    assert new_id is not None and new_id != old_id
    record = h.store.peek(new_id)
    assert record is not None and record.decoded_data() == {"b": 2}
    assert old_id is None or h.store.peek(old_id) is None


# -- rule 7: JSON only ---------------------------------------------------------------


@pytest.mark.parametrize("bad", ["nan", "inf", "set", "bytes", "object", "nested_nan"])
def test_non_json_value_is_a_type_error_naming_the_key(h: Harness, bad: str) -> None:
    browser = create(h)
    reply = browser.get(f"/bad?_key=the_key&_kind={bad}")
    assert reply.status == 200
    error = reply.json()["error"]
    assert "'the_key'" in error
    assert (browser.cookie or "") not in error and (browser.session_id or "") not in error
    assert stored(h, browser) == {"a": 1}


def test_non_json_value_put_by_mutation_fails_at_commit_naming_the_key(h: Harness) -> None:
    browser = create(h)
    with pytest.raises(TypeError, match="'sneaky'"):
        h.request("/bad_nested?_key=sneaky", cookie=browser.cookie)
    assert stored(h, browser) == {"a": 1}


# -- login, regenerate, logout -------------------------------------------------------


def test_login_issues_a_new_id_and_the_old_cookie_replays_anonymous(h: Harness) -> None:
    browser = create(h, '/set?cart=["book"]')
    old_cookie, old_id = browser.cookie, browser.session_id
    reply = browser.get("/login?id=u1&name=Ada")
    assert browser.cookie != old_cookie and browser.session_id != old_id
    assert_cache_safe(reply)
    page = browser.get("/").json()
    assert page["user"] == {"id": "u1", "name": "Ada"} and page["data"] == {"cart": ["book"]}
    replay = h.request("/", cookie=old_cookie)
    assert replay.json()["is_new"] is True and replay.json()["user"] is None
    assert (replay.cookie() or pytest.fail("stale cookie not cleared")).cleared
    assert h.store.peek(old_id or "") is None
    assert [r.id for r in h.store.inner.list_by_user("u1")] == [browser.session_id]


def test_login_as_another_user_starts_a_new_session(h: Harness) -> None:
    browser = create(h, "/login?id=u1")
    first = browser.session_id
    h.clock.advance(30)
    browser.get("/login?id=u2")
    page = browser.get("/").json()
    assert page["user_id"] == "u2"
    assert h.store.inner.list_by_user("u1") == []
    assert [r.id for r in h.store.inner.list_by_user("u2")] == [browser.session_id]
    assert browser.session_id != first
    record = h.store.peek(browser.session_id or "")
    assert record is not None and record.opened == h.clock()


@pytest.mark.parametrize(
    "path",
    [
        "/login",
        "/login?id=",
        "/login?name=x",
        '/login?_user={"id":"u1","name":1}',
        '/login?_user={"id":5}',
        '/login?_user=["u1"]',
        '/login?_user={"id":"u1","x":NaN}',
        "/login?id=" + "u" * 257,
    ],
)
def test_login_with_a_bad_user_raises(h: Harness, path: str) -> None:
    try:
        reply = h.request(path)
    except (TypeError, ValueError):
        pass
    else:
        assert reply.status == 500  # Flask turns the app's exception into its own 500
    assert len(h.store) == 0 and h.store.writes == 0


def test_regenerate_keeps_data_user_and_times(h: Harness) -> None:
    browser = create(h, "/login?id=u1&name=Ada")
    browser.get("/set?a=1")
    old_id = browser.session_id or ""
    opened = h.store.peek(old_id).opened  # type: ignore[union-attr]
    h.clock.advance(100)
    reply = browser.get("/regenerate")
    assert reply.cookie() is not None and browser.session_id != old_id
    assert_cache_safe(reply)
    record = h.store.peek(browser.session_id or "")
    assert record is not None
    assert record.decoded_data() == {"a": 1} and record.user == {"id": "u1", "name": "Ada"}
    assert record.opened == opened
    assert h.store.peek(old_id) is None
    assert h.request("/", cookie=sign(old_id)).json()["is_new"] is True


def test_logout_closes_the_session_and_expires_the_cookie(h: Harness) -> None:
    browser = create(h, "/login?id=u1")
    old_cookie, old_id = browser.cookie, browser.session_id or ""
    h.store.reset()
    reply = browser.get("/logout")
    cleared = reply.cookie()
    assert cleared is not None and cleared.cleared
    assert_cache_safe(reply)
    assert h.store.calls == ["load_and_touch", "delete"]
    assert h.store.peek(old_id) is None and h.store.inner.list_by_user("u1") == []
    replay = h.request("/", cookie=old_cookie)
    assert replay.json()["user"] is None and replay.json()["is_new"] is True


def test_data_written_after_logout_goes_to_a_fresh_session(h: Harness) -> None:
    browser = create(h, "/login?id=u1")
    browser.get("/set?secret=1")
    old_id = browser.session_id
    reply = browser.get('/logout?flash="bye"')
    cookie = reply.cookie()
    assert cookie is not None and not cookie.cleared
    assert browser.session_id not in (None, old_id)
    page = browser.get("/").json()
    assert page["user"] is None and page["data"] == {"flash": "bye"}
    assert h.store.peek(old_id or "") is None


def test_logout_then_login_in_one_request(h: Harness) -> None:
    browser = create(h, "/login?id=u1")
    old_id = browser.session_id
    reply = browser.get("/switch?id=u2")
    cookie = reply.cookie()
    assert cookie is not None and not cookie.cleared
    assert h.store.peek(old_id or "") is None and h.store.inner.list_by_user("u1") == []
    assert browser.session_id != old_id
    assert browser.get("/").json()["user_id"] == "u2"


# -- rule 9: cache headers -----------------------------------------------------------


@pytest.mark.parametrize(
    ("app_vary", "expected"),
    [
        ("Accept-Encoding", ["accept-encoding", "cookie"]),
        ("Accept-Encoding, Origin", ["accept-encoding", "origin", "cookie"]),
        ("cookie", ["cookie"]),
        ("*", ["*"]),
    ],
)
def test_vary_is_merged_when_the_cookie_is_set(h: Harness, app_vary: str, expected: list[str]) -> None:
    reply = h.request(f"/set?a=1&_vary={app_vary}&_cc=public, max-age=3600")
    assert reply.cookie() is not None
    assert reply.header("cache-control") == "no-store"
    assert [v.strip().lower() for v in (reply.header("vary") or "").split(",")] == expected


def test_responses_without_cookie_changes_keep_the_apps_cache_headers(h: Harness) -> None:
    browser = create(h)
    reply = browser.get("/set?a=2&_vary=Accept-Encoding&_cc=private, max-age=60")
    assert reply.header_list("set-cookie") == []
    assert reply.header("cache-control") == "private, max-age=60"
    assert reply.header("vary") == "Accept-Encoding, Cookie"  # the app wrote to the session


def test_a_response_varies_by_cookie_exactly_when_the_session_was_accessed(h: Harness) -> None:
    browser = create(h)
    assert browser.get("/get?key=a").header("vary") == "Cookie"  # a read of a stored session
    assert browser.get("/untouched").header("vary") is None
    assert h.request("/get?key=a").header("vary") == "Cookie"  # a read of a new, empty session
    assert h.request("/untouched").header("vary") is None


@pytest.mark.parametrize(
    ("state", "path"),
    [
        ("new", "/set?a=1"),
        ("new", "/login?id=u1"),
        ("existing", "/login?id=u1"),
        ("existing", "/regenerate?"),
        ("existing", "/logout?"),
        ("existing", "/del?a"),
        ("stale", "/?"),
    ],
)
def test_every_cookie_change_is_cache_safe(h: Harness, state: str, path: str) -> None:
    cookie = {"new": None, "existing": create(h).cookie, "stale": sign(new_session_id())}[state]
    reply = h.request(f"{path}&_cc=public, max-age=60&_vary=Origin", cookie=cookie)
    assert reply.cookie() is not None, path
    assert_cache_safe(reply)
    assert [v.strip().lower() for v in (reply.header("vary") or "").split(",")] == ["origin", "cookie"]


def test_is_new_and_metadata(h: Harness) -> None:
    page = h.request("/", headers=[("user-agent", "TestAgent/1.0")]).json()
    assert page["is_new"] is True and page["client"] == "TestAgent/1.0" and page["address"] == "127.0.0.1"
    browser = Browser(h)
    browser.get("/set?a=1", headers=[("user-agent", "TestAgent/1.0")])
    h.clock.advance(5)
    page = browser.get("/", headers=[("user-agent", "Other/2.0")]).json()
    assert page["is_new"] is False
    assert page["client"] == "TestAgent/1.0"  # recorded when the session opened
    assert page["opened"] == page["last_request"]  # within touch_interval: not refreshed
    h.clock.advance(60)
    page = browser.get("/").json()
    assert page["opened"].endswith("+00:00") and page["opened"] < page["last_request"]


def test_json_values_round_trip(h: Harness) -> None:
    value = {"s": "é\u2028\U0001f600", "i": 10**30, "f": -0.5, "l": [None, True, False], "e": {}}
    browser = create(h, "/set?v=" + json.dumps(value).replace("&", "%26"))
    assert browser.get("/").json()["data"] == {"v": value}
