"""Who may do what: tokens, ``api_authorize``, the caller's own sessions, cross-site refusal."""

from __future__ import annotations

from typing import Any

import pytest

from sessions_api import ApiRequest, create_asgi_app, create_wsgi_app

from .support import ADMIN, TOKEN, Harness, error_of

OPEN = {"user": {"id": "alice"}, "address": "10.0.0.1", "client": "c"}

ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/sessions/alice", {}),
    ("GET", "/sessions/alice?session_id=SELF", {}),
    ("POST", "/sessions", {"json": OPEN}),
    ("POST", "/sessions/alice?session_id=SELF", {"json": {"data": {"x": 1}}}),
    ("DELETE", "/sessions/alice?session_id=SELF", {}),
    ("DELETE", "/sessions/alice?address=10.0.0.1", {}),
]


def _call(api: Any, harness: Harness, route: tuple[str, str, dict[str, Any]], sid: str, **kwargs: Any) -> Any:
    method, path, extra = route
    headers = {**kwargs.pop("headers", {})}
    return api.request(method, path.replace("SELF", sid), headers=headers, **extra, **kwargs)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r[0]} {r[1]}")
@pytest.mark.parametrize(
    ("headers", "challenge"),
    [
        ({}, 'Bearer realm="sessions"'),
        ({"Authorization": "Bearer wrong-token"}, 'Bearer realm="sessions", error="invalid_token"'),
        ({"Authorization": f"Bearer {TOKEN}x"}, 'Bearer realm="sessions", error="invalid_token"'),
        ({"Authorization": "Bearer "}, 'Bearer realm="sessions", error="invalid_token"'),
        ({"Authorization": f"Basic {TOKEN}"}, 'Bearer realm="sessions"'),
        ({"Authorization": f"Bearer {TOKEN}, Bearer {TOKEN}"}, 'Bearer realm="sessions", error="invalid_token"'),
    ],
)
def test_no_valid_credentials_is_401_and_changes_nothing(
    harness: Harness, route: tuple[str, str, dict[str, Any]], headers: dict[str, str], challenge: str
) -> None:
    record = harness.seed("alice", address="10.0.0.1")
    before = harness.snapshot("alice")
    harness.clock.tick(5)
    with harness.client() as api:
        response = _call(api, harness, route, record.id, headers=headers)
    assert (response.status_code, error_of(response)["code"]) == (401, "UNAUTHORIZED")
    assert response.headers["www-authenticate"] == challenge
    assert "data" not in response.text and record.id not in response.text
    assert harness.snapshot("alice") == before


def test_any_of_several_tokens_works(harness: Harness) -> None:
    with harness.client(api_token=["old-token-abc", "new-token-xyz"]) as api:
        old = api.get("/sessions/u", headers={"Authorization": "Bearer old-token-abc"})
        new = api.get("/sessions/u", headers={"Authorization": "bearer  new-token-xyz"})
        neither = api.get("/sessions/u", headers=ADMIN)
    assert (old.status_code, new.status_code, neither.status_code) == (200, 200, 401)


def test_token_holders_may_come_from_any_origin(harness: Harness) -> None:
    with harness.client() as api:
        response = api.post(
            "/sessions",
            json=OPEN,
            headers={**ADMIN, "Origin": "https://elsewhere.example", "Sec-Fetch-Site": "cross-site"},
        )
    assert response.status_code == 201


@pytest.mark.parametrize("option", [{"api_token": ""}, {"api_token": [TOKEN, ""]}, {"api_token": " padded "}])
def test_empty_or_padded_tokens_are_refused_at_startup(option: dict[str, Any]) -> None:
    for factory in (create_asgi_app, create_wsgi_app):
        with pytest.raises(ValueError, match="api_token"):
            factory(Harness("asgi").store, **option)


@pytest.mark.parametrize(
    ("option", "error"),
    [
        ({"max_sessions_per_user": 0}, ValueError),
        ({"idle_timeout": 0}, ValueError),
        ({"absolute_timeout": -1}, ValueError),
        ({"idle_timeout": float("inf")}, ValueError),
        ({"absolute_timeout": float("nan")}, ValueError),
        ({"max_body_size": 0}, ValueError),
        ({"api_authorize": "admin"}, TypeError),
    ],
)
def test_bad_options_fail_at_startup(option: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        create_asgi_app(Harness("asgi").store, **option)


def test_api_authorize_sees_the_request_and_grants_only_on_true(harness: Harness) -> None:
    seen: list[ApiRequest] = []

    def authorize(request: ApiRequest) -> Any:
        seen.append(request)
        return {"yes": "yes", "one": 1, "true": "true", "admin": True}.get(request.headers.get("x-role", ""))

    with harness.client(api_token=None, api_authorize=authorize) as api:
        granted = api.post("/sessions?correlation_id=c1", json=OPEN, headers={"X-Role": "admin"})
        truthy = [api.get("/sessions/alice", headers={"X-Role": role}) for role in ("yes", "one", "true", "")]
    assert granted.status_code == 201
    assert [r.status_code for r in truthy] == [401, 401, 401, 401]
    first = seen[0]
    assert (first.method, first.path, first.root_path) == ("POST", "", "/sessions")
    assert first.query_string == b"correlation_id=c1" and first.session is None
    assert first.headers["x-role"] == "admin"
    with pytest.raises(TypeError):
        first.headers["x-role"] = "changed"  # type: ignore[index]


def test_api_authorize_can_read_a_bearer_of_its_own(harness: Harness) -> None:
    def authorize(request: ApiRequest) -> bool:
        return request.headers.get("authorization") == "Bearer app-issued-jwt"

    with harness.client(api_token=None, api_authorize=authorize) as api:
        ok = api.get("/sessions/u", headers={"Authorization": "Bearer app-issued-jwt", "Origin": "https://spa.example"})
        bad = api.get("/sessions/u", headers={"Authorization": "Bearer forged"})
    assert ok.status_code == 200
    assert (bad.status_code, bad.headers["www-authenticate"]) == (401, 'Bearer realm="sessions", error="invalid_token"')


def test_async_api_authorize_is_awaited_under_asgi_and_refused_under_wsgi(harness: Harness) -> None:
    async def authorize(request: ApiRequest) -> bool:
        return True

    with harness.client(api_token=None, api_authorize=authorize) as api:
        response = api.get("/sessions/u")
    assert response.status_code == (200 if harness.kind == "asgi" else 401)


def test_cookie_granted_admins_are_refused_cross_site(harness: Harness) -> None:
    with harness.client(api_token=None, api_authorize=lambda request: True) as api:
        same = api.delete("/sessions/u?client=c", headers={"Origin": "http://testserver"})
        cross = api.delete("/sessions/u?client=c", headers={"Origin": "https://evil.example"})
    assert same.status_code == 204
    assert (cross.status_code, error_of(cross)["details"]) == (403, {"reason": "cross-site"})


def test_own_user_lists_and_gets_without_data(harness: Harness) -> None:
    other_device = harness.seed("alice", data={"secret": '"s"'})
    with harness.client(as_user="alice", api_token=None) as api:
        listed = api.get("/sessions/alice")
        one = api.get("/sessions/alice", params={"session_id": other_device.id})
    assert listed.status_code == 200 and len(listed.json()) == 2  # the caller's own session and the other one
    assert all("data" not in s for s in listed.json())
    assert one.status_code == 200 and "data" not in one.json() and one.json()["id"] == other_device.id
    assert "secret" not in listed.text + one.text


def test_own_user_closes_another_device(harness: Harness) -> None:
    other_device = harness.seed("alice")
    with harness.client(as_user="alice") as api:
        response = api.delete(
            "/sessions/alice",
            params={"session_id": other_device.id},
            headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
        )
        by_client = api.delete("/sessions/alice", params={"client": "caller-browser"})
    assert (response.status_code, by_client.status_code) == (204, 204)
    assert harness.store.list_by_user("alice") == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/sessions", OPEN),
        ("POST", "/sessions/alice?session_id=SELF", {"data": {"x": 1}}),
    ],
)
def test_own_user_never_opens_or_writes(harness: Harness, method: str, path: str, body: dict[str, Any]) -> None:
    with harness.client(as_user="alice") as api:
        mine = harness.store.list_by_user("alice")[0]
        before = harness.snapshot("alice")
        response = api.request(method, path.replace("SELF", mine.id), json=body)
    assert (response.status_code, error_of(response)["code"]) == (403, "FORBIDDEN")
    assert harness.snapshot("alice") == before


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r[0]} {r[1]}")
def test_another_user_is_forbidden(harness: Harness, route: tuple[str, str, dict[str, Any]]) -> None:
    record = harness.seed("alice", address="10.0.0.1")
    with harness.client(as_user="mallory") as api:
        before = harness.snapshot("alice", "mallory")
        response = _call(api, harness, route, record.id)
    assert (response.status_code, error_of(response)["code"]) == (403, "FORBIDDEN")
    assert harness.snapshot("alice", "mallory") == before


def test_an_anonymous_session_is_401(harness: Harness) -> None:
    with harness.client(anonymous_session=True) as api:
        response = api.get("/sessions/alice")
    assert response.status_code == 401


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://testserver.evil.example"},
        {"Origin": "http://testserver:8080"},
        {"Origin": "http://user@testserver"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "same-origin", "Origin": "https://evil.example"},
    ],
)
def test_own_user_cross_site_requests_are_refused(harness: Harness, headers: dict[str, str]) -> None:
    other_device = harness.seed("alice")
    with harness.client(as_user="alice") as api:
        before = harness.snapshot("alice")
        close = api.delete("/sessions/alice", params={"session_id": other_device.id}, headers=headers)
        read = api.get("/sessions/alice", headers=headers)
    for response in (close, read):
        assert (response.status_code, error_of(response)["details"]) == (403, {"reason": "cross-site"})
    assert harness.snapshot("alice") == before


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Origin": "http://testserver"},
        {"Origin": "http://TESTSERVER:80"},
        {"Origin": "https://testserver", "Host": "testserver:443"},
        {"Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "none"},
    ],
)
def test_own_user_same_origin_requests_pass(harness: Harness, headers: dict[str, str]) -> None:
    with harness.client(as_user="alice") as api:
        response = api.get("/sessions/alice", headers=headers)
    assert response.status_code == 200
