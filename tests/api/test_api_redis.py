"""The API over a RedisStore (a real redis-server on loopback), through both drivers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from session_middleware.stores.redis import RedisStore
from tests.support import fixtures
from tests.support.redis_server import RedisServer

from .support import ADMIN, Harness, Kind, error_of

redis_server = fixtures.redis_server
redis_prefix = fixtures.redis_prefix

OPEN = {"user": {"id": "alice", "name": "Alice"}, "address": "192.0.2.7", "client": "mobile", "data": {"n": 1}}


@pytest.fixture
def redis_harness(kind: Kind, redis_server: RedisServer, redis_prefix: str) -> Iterator[Harness]:
    store = RedisStore(url=redis_server.url, prefix=redis_prefix)
    try:
        yield Harness(kind, store=store)
    finally:
        store.close()


def test_protocol_over_redis(redis_harness: Harness) -> None:
    harness = redis_harness
    bobs = harness.seed("bob", address="192.0.2.7", client="mobile")
    with harness.client(max_sessions_per_user=2) as api:
        first = api.post("/sessions", json=OPEN, headers=ADMIN).json()
        assert api.post("/sessions", json={**OPEN, "data": {"n": 2}}, headers=ADMIN).json()["id"] == first["id"]
        second = api.post("/sessions", json={**OPEN, "client": "desktop"}, headers=ADMIN).json()
        listed = api.get("/sessions/alice", headers=ADMIN).json()
        assert [s["id"] for s in listed] == [first["id"], second["id"]]
        assert listed[0]["data"] == {"n": 2}

        one = api.get("/sessions/alice", params={"session_id": first["id"]}, headers=ADMIN)
        assert one.status_code == 200 and one.json()["last_request"] >= first["last_request"]
        not_hers = api.get("/sessions/alice", params={"session_id": bobs.id}, headers=ADMIN)
        assert error_of(not_hers)["code"] == "SESSION_NOT_FOUND"

        update = api.post(
            "/sessions/alice", params={"session_id": first["id"]}, json={"data": {"x": [1]}}, headers=ADMIN
        )
        assert update.status_code == 204
        assert api.get("/sessions/alice", params={"session_id": first["id"]}, headers=ADMIN).json()["data"] == {
            "x": [1]
        }

        third = api.post("/sessions", json={**OPEN, "client": "tablet"}, headers=ADMIN).json()
        # The cap closed the least recently used: "second", since "first" was read and updated since.
        assert [s["id"] for s in api.get("/sessions/alice", headers=ADMIN).json()] == [first["id"], third["id"]]

        closed = api.delete("/sessions/alice", params={"address": "192.0.2.7", "client": "mobile"}, headers=ADMIN)
        assert closed.status_code == 204
        assert api.delete("/sessions/alice", params={"session_id": third["id"]}, headers=ADMIN).status_code == 204
        assert api.delete("/sessions/alice", params={"session_id": bobs.id}, headers=ADMIN).status_code == 204
        assert api.get("/sessions/alice", headers=ADMIN).json() == []
    assert [r.id for r in harness.store.list_by_user("bob")] == [bobs.id]
