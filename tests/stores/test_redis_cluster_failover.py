"""A Redis Cluster master dies under load and comes back empty: users' sessions and indexes go together."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from session_middleware import StoreError
from session_middleware.records import DataChanges, SessionRecord, new_session_id
from session_middleware.stores._redis_schema import decode, decode_record
from session_middleware.stores.redis import RedisStore
from tests.support.redis_server import RedisClusterNodes

pytestmark = pytest.mark.redis

USERS = [f"user-{i}" for i in range(30)]
PREFIX = "failover:"
#: What docs/stores.md recommends for sessions: the masters that are up keep serving.
NODE_ARGS = ["--cluster-require-full-coverage", "no"]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[RedisClusterNodes]:
    with RedisClusterNodes(tmp_path, extra_args=NODE_ARGS) as nodes:
        yield nodes


class Load:
    """A few threads logging users in and out and making requests, until stopped."""

    def __init__(self, store: RedisStore, threads: int = 4) -> None:
        self.store = store
        self.stop = threading.Event()
        self.failures = 0
        self.threads = [threading.Thread(target=self._run, args=(seed,), daemon=True) for seed in range(threads)]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def _run(self, seed: int) -> None:
        rng = random.Random(seed)
        mine: list[str] = []
        while not self.stop.is_set():
            user = rng.choice(USERS)
            now = time.time()
            try:
                roll = rng.random()
                if roll < 0.35 or not mine:
                    anonymous = SessionRecord(new_session_id(), now, now, 600.0, now + 3600.0, "10.0.0.1", "A")
                    self.store.create(anonymous)
                    login = SessionRecord(
                        new_session_id(user), now, now, 600.0, now + 3600.0, "10.0.0.1", "A", {"id": user}
                    )
                    if self.store.create(login, replaces=anonymous.id, max_per_user=rng.choice([None, 3])):
                        mine.append(login.id)
                elif roll < 0.75:
                    session_id = rng.choice(mine)
                    if self.store.load_and_touch(session_id, touch_interval=rng.choice([0.0, 0.05])) is not None:
                        self.store.save_changes(session_id, DataChanges({"n": str(rng.randrange(100))}))
                elif roll < 0.9:
                    self.store.delete(mine.pop(rng.randrange(len(mine))))
                elif roll < 0.95:
                    self.store.list_by_user(user)
                else:
                    self.store.close_by_user(user, keep=rng.choice(mine))
            except StoreError:
                self.failures += 1
            time.sleep(0.001)


def live_sessions(cluster: RedisClusterNodes) -> dict[str, SessionRecord]:
    """Every live logged-in session on any node, read past the store."""
    found: dict[str, SessionRecord] = {}
    now = time.time()
    for node in cluster.nodes:
        raw = node.client(decode_responses=False)
        for key in raw.scan_iter(match=f"{PREFIX}s:*", count=1000):
            token = decode(key)[len(PREFIX) + 2 :].split("{")[0]
            record = decode_record(raw.hgetall(key), token)
            if record is not None and record.user_id is not None and record.is_live(now):
                found[record.id] = record
        raw.close()
    return found


def session_keys(node: Any) -> int:
    raw = node.client()
    count = sum(1 for _ in raw.scan_iter(match=f"{PREFIX}s:*", count=1000))
    raw.close()
    return count


def test_a_master_lost_and_restarted_empty_leaves_no_session_unlisted(cluster: RedisClusterNodes) -> None:
    store = RedisStore(cluster.url, cluster=True, prefix=PREFIX, socket_timeout=0.5, connect_timeout=0.5)
    victim = cluster.nodes[1]
    with Load(store) as load:
        time.sleep(1.0)
        assert session_keys(victim) > 0  # it holds some users' sessions when it dies
        victim.kill()
        time.sleep(2.5)  # past cluster-node-timeout (2 s): the others see it fail, and keep serving
        victim.restart()  # same port and cluster identity, no data: every session it held is gone
        cluster.wait_until_healthy()
        time.sleep(1.0)  # the load goes on against the recovered cluster
    assert load.failures > 0  # the outage was seen by the store

    live = live_sessions(cluster)
    for user in USERS:
        listed = {r.id for r in store.list_by_user(user)}
        alive = {sid for sid, r in live.items() if r.user_id == user}
        assert alive <= listed, f"{user}: alive but not listed"
    for user in USERS:
        store.close_by_user(user)  # "sign out everywhere"
    assert live_sessions(cluster) == {}
    store.close()
