"""Property tests: whatever arrives, the API never answers 5xx, and a 4xx changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from .support import ADMIN, Harness, Kind

pytestmark = pytest.mark.parametrize("kind", ["asgi", "wsgi"])

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
USERS = ("alice", "bob", "u", "")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
texts = st.one_of(st.text(max_size=300), st.sampled_from(["", " ", "a", "10.0.0.1", "::ffff:10.0.0.1", "*", ".."]))
open_bodies = st.fixed_dictionaries(
    {},
    optional={
        "user": st.one_of(json_values, st.fixed_dictionaries({"id": texts}, optional={"name": json_values})),
        "address": st.one_of(texts, json_values),
        "client": st.one_of(texts, json_values),
        "data": json_values,
        "extra": json_values,
    },
)


class Fixture:
    """A seeded store and a client; ``request`` checks the invariants around one request."""

    def __init__(self, kind: Kind) -> None:
        self.harness = Harness(kind)
        self.alice = self.harness.seed("alice", data={"k": '"v"'})
        self.bob = self.harness.seed("bob", address="10.0.0.1", client="app")
        self.client = self.harness.client()

    def ids(self) -> dict[str, str]:
        return {"ALICE": self.alice.id, "BOB": self.bob.id}

    def request(self, send: Callable[[httpx.Client], httpx.Response]) -> httpx.Response:
        harness = self.harness
        harness.clock.tick(1)  # so that a stray touch would show in last_request
        before = harness.snapshot(*USERS), len(harness.store)
        response = send(self.client)
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            assert harness.snapshot(*USERS) == before[0] and len(harness.store) == before[1]
            if response.request.method == "HEAD":
                return response
            body = response.json()
            assert body["status"] == response.status_code and isinstance(body["code"], str)
        return response


def test_arbitrary_json_bodies(kind: Kind) -> None:
    fixture = Fixture(kind)

    @SETTINGS
    @given(body=st.one_of(open_bodies, json_values), target=st.sampled_from(["/sessions", "/sessions/alice"]))
    def check(body: Any, target: str) -> None:
        content = json.dumps(body).encode()
        params = {"session_id": fixture.alice.id} if target != "/sessions" else {}
        fixture.request(
            lambda c: c.post(
                target, content=content, params=params, headers={**ADMIN, "Content-Type": "application/json"}
            )
        )

    with fixture.client:
        check()


def test_arbitrary_raw_bodies(kind: Kind) -> None:
    fixture = Fixture(kind)
    content_types = st.sampled_from(["application/json", "application/json; charset=latin-1", "text/plain", ""])

    @SETTINGS
    @given(body=st.binary(max_size=400), content_type=content_types, method=st.sampled_from(["POST", "DELETE", "GET"]))
    def check(body: bytes, content_type: str, method: str) -> None:
        headers = {**ADMIN, "Content-Type": content_type} if content_type else ADMIN
        fixture.request(lambda c: c.request(method, "/sessions/alice", content=body, headers=headers))
        fixture.request(lambda c: c.request(method, "/sessions", content=body, headers=headers))

    with fixture.client:
        check()


def test_arbitrary_query_strings(kind: Kind) -> None:
    fixture = Fixture(kind)
    names = st.sampled_from(["session_id", "address", "client", "correlation_id", "x", ""]) | st.text(max_size=5)
    values = st.sampled_from(["ALICE", "BOB", "", " ", "10.0.0.1", "app"]) | st.text(max_size=60)
    pairs = st.lists(st.tuples(names, values), max_size=5)

    @SETTINGS
    @given(
        query=pairs | st.binary(max_size=80),
        method=st.sampled_from(["GET", "DELETE", "POST", "PUT"]),
        user=st.sampled_from(["alice", "bob"]),
    )
    def check(query: list[tuple[str, str]] | bytes, method: str, user: str) -> None:
        if isinstance(query, bytes):
            url = httpx.URL(f"/sessions/{user}", query=quote(query, safe="=&%").encode())
        else:
            ids = fixture.ids()
            url = httpx.URL(f"/sessions/{user}", params=[(k, ids.get(v, v)) for k, v in query])
        fixture.request(lambda c: c.request(method, url, json={"data": {"z": 1}}, headers=ADMIN))

    with fixture.client:
        check()


def test_arbitrary_path_ids(kind: Kind) -> None:
    fixture = Fixture(kind)
    ids = st.text(max_size=300) | st.sampled_from(
        ["..", "../../x", "%2e%2e%2f", "a/b", "a\\b", "*", "[a-z]*", "user:*"]
    )

    @SETTINGS
    @given(user_id=ids, method=st.sampled_from(["GET", "DELETE", "POST", "HEAD"]), encode=st.booleans())
    def check(user_id: str, method: str, encode: bool) -> None:
        path = "/sessions/" + (quote(user_id, safe="") if encode else quote(user_id, safe="/%*[]:"))
        assume(httpx.URL("http://testserver" + path).path.startswith("/sessions/"))  # ".." leaves the mount
        response = fixture.request(lambda c: c.request(method, path, params={"address": "10.0.0.1"}, headers=ADMIN))
        if response.status_code == 200 and method == "GET":
            assert all(s["user"]["id"] == user_id for s in response.json())

    with fixture.client:
        check()
    assert [r.id for r in fixture.harness.store.list_by_user("bob")] in ([fixture.bob.id], [])
