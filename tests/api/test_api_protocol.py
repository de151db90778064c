"""Protocol v1 routes and their semantics, against the ASGI and the WSGI sub-app."""

from __future__ import annotations

import logging
import re

import pytest

from session_middleware.records import id_hash, is_session_id

from .support import ADMIN, Harness, error_of

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
OPEN = {"user": {"id": "alice", "name": "Alice"}, "address": "192.0.2.7", "client": "mobile", "data": {"cart": [1, 2]}}


def test_open_returns_the_new_session_and_stores_it(harness: Harness) -> None:
    with harness.client() as api:
        response = api.post("/sessions", json=OPEN, headers=ADMIN)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "opened", "last_request", "address", "client", "user", "data"}
    assert is_session_id(body["id"])
    assert body["user"] == {"id": "alice", "name": "Alice"}
    assert (body["address"], body["client"], body["data"]) == ("192.0.2.7", "mobile", {"cart": [1, 2]})
    assert ISO_MS.match(body["opened"]) and body["opened"] == body["last_request"]
    assert body["opened"] == "2027-01-15T08:00:00.000Z"  # the store's clock, 1_800_000_000
    (stored,) = harness.store.list_by_user("alice")
    assert stored.id == body["id"] and stored.data == {"cart": "[1,2]"}
    assert stored.expires_at == harness.clock() + 86400.0  # default idle timeout


def test_open_at_the_mount_root_with_or_without_slash(harness: Harness) -> None:
    with harness.client() as api:
        first = api.post("/sessions", json=OPEN, headers=ADMIN)
        second = api.post("/sessions/", json={**OPEN, "client": "desktop"}, headers=ADMIN)
    assert (first.status_code, second.status_code) == (201, 201)
    assert len(harness.store.list_by_user("alice")) == 2


def test_open_reuses_the_session_of_the_same_user_address_and_client(harness: Harness) -> None:
    with harness.client() as api:
        first = api.post("/sessions", json=OPEN, headers=ADMIN).json()
        harness.clock.tick(61)  # past touch_interval: reusing it counts as a request
        again = api.post("/sessions", json={**OPEN, "data": {"new": True}}, headers=ADMIN).json()
        harness.clock.tick(30)
        kept = api.post("/sessions", json={k: v for k, v in OPEN.items() if k != "data"}, headers=ADMIN).json()
        other_client = api.post("/sessions", json={**OPEN, "client": "desktop"}, headers=ADMIN).json()
        other_user = api.post("/sessions", json={**OPEN, "user": {"id": "bob"}}, headers=ADMIN).json()
    assert again["id"] == first["id"] == kept["id"]
    assert again["data"] == {"new": True} and kept["data"] == {"new": True}  # data replaced only when given
    assert again["last_request"] > first["last_request"] and again["opened"] == first["opened"]
    assert other_client["id"] != first["id"] and other_user["id"] != first["id"]
    assert [r.id for r in harness.store.list_by_user("alice")] == [first["id"], other_client["id"]]


def test_open_matches_addresses_in_canonical_form(harness: Harness) -> None:
    with harness.client() as api:
        mapped = api.post("/sessions", json={**OPEN, "address": "::ffff:192.0.2.7"}, headers=ADMIN).json()
        plain = api.post("/sessions", json=OPEN, headers=ADMIN).json()
    assert mapped["address"] == "192.0.2.7" and plain["id"] == mapped["id"]


def test_open_applies_the_configured_timeouts_and_cap(harness: Harness) -> None:
    with harness.client(idle_timeout=60, absolute_timeout=600, max_sessions_per_user=2) as api:
        ids = []
        for client in ("a", "b", "c"):
            ids.append(api.post("/sessions", json={**OPEN, "client": client}, headers=ADMIN).json()["id"])
            harness.clock.tick(1)
        assert [s["id"] for s in api.get("/sessions/alice", headers=ADMIN).json()] == ids[1:]
        harness.clock.tick(61)
        assert api.get("/sessions/alice", headers=ADMIN).json() == []
        sid = api.post("/sessions", json=OPEN, headers=ADMIN).json()["id"]
        for _ in range(11):  # active every 50 s, yet gone 600 s after opening
            harness.clock.tick(50)
            assert api.get("/sessions/alice", params={"session_id": sid}, headers=ADMIN).status_code == 200
        harness.clock.tick(50)
        assert api.get("/sessions/alice", params={"session_id": sid}, headers=ADMIN).status_code == 404


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"address": "a", "client": "c"}, "NO_USER", None),
        ({"user": None, "address": "a", "client": "c"}, "NO_USER", None),
        ({"user": {}, "address": "a", "client": "c"}, "NO_USER_ID", None),
        ({"user": {"id": ""}, "address": "a", "client": "c"}, "NO_USER_ID", None),
        ({"user": {"id": "u"}, "client": "c"}, "NO_ADDRESS", None),
        ({"user": {"id": "u"}, "address": "  ", "client": "c"}, "NO_ADDRESS", None),
        ({"user": {"id": "u"}, "address": "a"}, "NO_CLIENT", None),
        ({"user": {"id": "u"}, "address": "a", "client": ""}, "NO_CLIENT", None),
        ({"user": {"id": "u"}, "address": "a", "client": "c", "data": []}, "BAD_DATA", None),
        ({"user": {"id": "u"}, "address": "a", "client": "c", "data": "x"}, "BAD_DATA", None),
        ({"user": "u", "address": "a", "client": "c"}, "BAD_FIELD", "user"),
        ({"user": {"id": 7}, "address": "a", "client": "c"}, "BAD_FIELD", "user.id"),
        ({"user": {"id": "u", "role": "admin"}, "address": "a", "client": "c"}, "BAD_FIELD", "user.role"),
        ({"user": {"id": "u\n"}, "address": "a", "client": "c"}, "BAD_FIELD", "user.id"),
        ({"user": {"id": "u" * 257}, "address": "a", "client": "c"}, "BAD_FIELD", "user.id"),
        ({"user": {"id": "u", "name": 3}, "address": "a", "client": "c"}, "BAD_FIELD", "user.name"),
        ({"user": {"id": "u"}, "address": ["a"], "client": "c"}, "BAD_FIELD", "address"),
        ({"user": {"id": "u"}, "address": "a\r\nb", "client": "c"}, "BAD_FIELD", "address"),
        ({"user": {"id": "u"}, "address": "a" * 65, "client": "c"}, "BAD_FIELD", "address"),
        ({"user": {"id": "u"}, "address": "a", "client": True}, "BAD_FIELD", "client"),
        ({"user": {"id": "u"}, "address": "a", "client": "c", "id": "x"}, "BAD_FIELD", "id"),
        ({"user": {"id": "u"}, "address": "a", "client": "c", "opened": 0}, "BAD_FIELD", "opened"),
    ],
)
def test_open_validates_every_field(harness: Harness, body: dict[str, object], code: str, field: str | None) -> None:
    with harness.client() as api:
        response = api.post("/sessions", json=body, headers=ADMIN)
    error = error_of(response)
    assert (response.status_code, error["code"]) == (400, code)
    if field is not None:
        assert error["details"] == {"field": field}
    assert harness.snapshot("u") == []


def test_list_is_the_users_live_sessions_by_opened(harness: Harness) -> None:
    first = harness.seed("alice", data={"k": '"v"'})
    second = harness.seed("alice", client="other")
    harness.seed("alicia")
    harness.seed("a*")
    with harness.client() as api:
        listed = api.get("/sessions/alice", headers=ADMIN)
        star = api.get("/sessions/a*", headers=ADMIN).json()
        nobody = api.get("/sessions/nobody", headers=ADMIN)
    assert listed.status_code == 200
    assert [s["id"] for s in listed.json()] == [first.id, second.id]
    assert listed.json()[0]["data"] == {"k": "v"} and listed.json()[1]["client"] == "other"
    assert [s["user"]["id"] for s in star] == ["a*"]  # an id, never a pattern
    assert (nobody.status_code, nobody.json()) == (200, [])


def test_get_one_session_refreshes_its_last_request(harness: Harness) -> None:
    record = harness.seed("alice", data={"n": "1"})
    harness.clock.tick(100)
    with harness.client() as api:
        response = api.get("/sessions/alice", params={"session_id": record.id}, headers=ADMIN)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == record.id and body["data"] == {"n": 1}
    (stored,) = harness.store.list_by_user("alice")
    assert stored.last_request == harness.clock() > record.last_request
    assert body["last_request"] == "2027-01-15T08:01:41.000Z"


def test_get_of_another_users_session_is_not_found_and_untouched(harness: Harness) -> None:
    bobs = harness.seed("bob")
    before = harness.snapshot("bob")
    harness.clock.tick(5)
    with harness.client() as api:
        response = api.get("/sessions/alice", params={"session_id": bobs.id}, headers=ADMIN)
        unknown = api.get("/sessions/bob", params={"session_id": "A" * 43}, headers=ADMIN)
    assert (response.status_code, error_of(response)["code"]) == (404, "SESSION_NOT_FOUND")
    assert (unknown.status_code, error_of(unknown)["code"]) == (404, "SESSION_NOT_FOUND")
    assert harness.snapshot("bob") == before


def test_update_replaces_the_data(harness: Harness) -> None:
    record = harness.seed("alice", data={"old": "1", "keep": "2"})
    with harness.client() as api:
        response = api.post(
            "/sessions/alice", params={"session_id": record.id}, json={"data": {"new": {"x": [1]}}}, headers=ADMIN
        )
        shown = api.get("/sessions/alice", params={"session_id": record.id}, headers=ADMIN).json()
    assert (response.status_code, response.content) == (204, b"")
    assert "content-type" not in response.headers
    assert shown["data"] == {"new": {"x": [1]}}


@pytest.mark.parametrize(
    ("params", "body", "code"),
    [
        ({}, {"data": {}}, "NO_SESSION_ID"),
        ({"session_id": ""}, {"data": {}}, "NO_SESSION_ID"),
        ({"session_id": "short"}, {"data": {}}, "BAD_PARAMETER"),
        ({"session_id": "SELF"}, {}, "BAD_DATA"),
        ({"session_id": "SELF"}, {"data": None}, "BAD_DATA"),
        ({"session_id": "SELF"}, {"data": [1]}, "BAD_DATA"),
        ({"session_id": "SELF"}, {"data": {"big": "x" * 70_000}}, "BAD_DATA"),
        ({"session_id": "SELF"}, {"data": {str(i): i for i in range(1001)}}, "BAD_DATA"),
        ({"session_id": "SELF"}, {"data": {}, "user": {"id": "mallory"}}, "BAD_FIELD"),
        ({"session_id": "OTHER"}, {"data": {"x": 1}}, "SESSION_NOT_FOUND"),
        ({"session_id": "A" * 43}, {"data": {"x": 1}}, "SESSION_NOT_FOUND"),
    ],
)
def test_update_refusals_change_nothing(
    harness: Harness, params: dict[str, str], body: dict[str, object], code: str
) -> None:
    mine = harness.seed("alice", data={"keep": "1"})
    other = harness.seed("bob", data={"keep": "2"})
    ids = {"SELF": mine.id, "OTHER": other.id}
    params = {k: ids.get(v, v) for k, v in params.items()}
    before = harness.snapshot("alice", "bob")
    harness.clock.tick(10)
    with harness.client() as api:
        response = api.post("/sessions/alice", params=params, json=body, headers=ADMIN)
    assert response.status_code in (400, 404)
    assert error_of(response)["code"] == code
    assert harness.snapshot("alice", "bob") == before


def test_close_by_id_is_idempotent_and_scoped_to_the_user(harness: Harness) -> None:
    mine = harness.seed("alice")
    bobs = harness.seed("bob")
    with harness.client() as api:
        first = api.delete("/sessions/alice", params={"session_id": mine.id}, headers=ADMIN)
        again = api.delete("/sessions/alice", params={"session_id": mine.id}, headers=ADMIN)
        not_hers = api.delete("/sessions/alice", params={"session_id": bobs.id}, headers=ADMIN)
    assert [r.status_code for r in (first, again, not_hers)] == [204, 204, 204]
    assert harness.store.list_by_user("alice") == []
    assert [r.id for r in harness.store.list_by_user("bob")] == [bobs.id]


def test_close_by_address_and_client_closes_only_that_users_matches(harness: Harness) -> None:
    a1 = harness.seed("alice", address="10.0.0.1", client="app")
    a2 = harness.seed("alice", address="10.0.0.1", client="web")
    a3 = harness.seed("alice", address="10.0.0.2", client="app")
    b1 = harness.seed("bob", address="10.0.0.1", client="app")
    with harness.client() as api:
        both = api.delete("/sessions/alice", params={"address": "::ffff:10.0.0.1", "client": "app"}, headers=ADMIN)
        assert [r.id for r in harness.store.list_by_user("alice")] == [a2.id, a3.id]
        by_client = api.delete("/sessions/alice", params={"client": "app"}, headers=ADMIN)
        assert [r.id for r in harness.store.list_by_user("alice")] == [a2.id]
        by_address = api.delete("/sessions/alice", params={"address": "10.0.0.1"}, headers=ADMIN)
    assert [r.status_code for r in (both, by_client, by_address)] == [204, 204, 204]
    assert harness.store.list_by_user("alice") == [] and a1.id != b1.id
    assert [r.id for r in harness.store.list_by_user("bob")] == [b1.id]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "NO_SESSION_ID"),
        ("session_id=", "NO_SESSION_ID"),
        ("address=", "NO_ADDRESS"),
        ("address=%20%20", "NO_ADDRESS"),
        ("client=", "NO_CLIENT"),
        ("address=10.0.0.1&client=", "NO_CLIENT"),
        ("session_id=SELF&address=10.0.0.1", "BAD_PARAMETER"),
        ("session_id=SELF&session_id=SELF", "BAD_PARAMETER"),
        ("address=10.0.0.1&address=10.0.0.2", "BAD_PARAMETER"),
        ("session_id=%2A", "BAD_PARAMETER"),
        ("all=true", "BAD_PARAMETER"),
        ("client=a%0Ab", "BAD_FIELD"),
        ("session_id=%FF%FE", "BAD_PARAMETER"),
    ],
)
def test_close_never_means_all(harness: Harness, query: str, code: str) -> None:
    mine = harness.seed("alice")
    before = harness.snapshot("alice")
    with harness.client() as api:
        response = api.delete("/sessions/alice?" + query.replace("SELF", mine.id), headers=ADMIN)
    assert (response.status_code, error_of(response)["code"]) == (400, code)
    assert harness.snapshot("alice") == before


def test_unicode_user_ids_are_exact(harness: Harness) -> None:
    harness.seed("admin")
    harness.seed("ｅ\u0301")
    with harness.client() as api:
        fullwidth = api.get("/sessions/ａｄｍｉｎ", headers=ADMIN).json()
        upper = api.get("/sessions/Admin", headers=ADMIN).json()
        combining = api.get("/sessions/ｅ\u0301", headers=ADMIN).json()
    assert fullwidth == [] and upper == []
    assert [s["user"]["id"] for s in combining] == ["ｅ\u0301"]


def test_logs_never_carry_session_ids(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    record = harness.seed("alice")
    with harness.client() as api:
        sid = api.post("/sessions", json=OPEN, headers=ADMIN).json()["id"]
        api.get("/sessions/alice", params={"session_id": sid}, headers=ADMIN)
        api.post("/sessions/alice", params={"session_id": sid}, json={"data": {}}, headers=ADMIN)
        api.get("/sessions/alice", params={"session_id": "B" * 43}, headers=ADMIN)
        api.delete("/sessions/alice", params={"session_id": sid}, headers=ADMIN)
        api.delete("/sessions/alice", params={"session_id": record.id}, headers=ADMIN)
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("sessions_api")]
    assert len(messages) >= 4  # the lifecycle is logged...
    assert id_hash(sid) in " ".join(messages)  # ...by hash...
    assert not [m for m in messages if sid in m or record.id in m]  # ...never by id
