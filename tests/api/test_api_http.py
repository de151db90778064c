"""HTTP hygiene of the sub-app: error format, headers, methods, content types, bodies."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import httpx
import pytest

from session_middleware import MemoryStore
from sessions_api import create_asgi_app, create_wsgi_app

from .support import ADMIN, TOKEN, FailingStore, Harness, error_of

JSON = {**ADMIN, "Content-Type": "application/json"}
OPEN = {"user": {"id": "u"}, "address": "10.0.0.1", "client": "c"}


def test_every_response_is_uncacheable_and_unsniffable(harness: Harness) -> None:
    record = harness.seed("u")
    with harness.client() as api:
        responses = [
            api.post("/sessions", json=OPEN, headers=ADMIN),
            api.get("/sessions/u", headers=ADMIN),
            api.get("/sessions/u", params={"session_id": record.id}, headers=ADMIN),
            api.post("/sessions/u", params={"session_id": record.id}, json={"data": {}}, headers=ADMIN),
            api.delete("/sessions/u", params={"session_id": record.id}, headers=ADMIN),
            api.get("/sessions/u"),
            api.put("/sessions/u", headers=ADMIN),
            api.get("/sessions/a/b", headers=ADMIN),
            api.post("/sessions", content=b"{", headers=JSON),
        ]
    assert [r.status_code for r in responses] == [201, 200, 200, 204, 204, 401, 405, 404, 400]
    for response in responses:
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-content-type-options"] == "nosniff"
        if response.status_code != 204:
            assert response.headers["content-type"] == "application/json"
            assert int(response.headers["content-length"]) == len(response.content)


def test_error_format_and_correlation_id(harness: Harness) -> None:
    with harness.client() as api:
        by_query = api.get("/sessions/u", params={"correlation_id": "req-42"})
        by_header = api.get("/sessions/u", headers={"X-Correlation-Id": "trace:9"})
        both = api.get("/sessions/u?correlation_id=q1", headers={"X-Correlation-Id": "h1"})
        hostile = api.get("/sessions/u", params={"correlation_id": "x\u202ey" * 3})
        too_long = api.get("/sessions/u", headers={"X-Correlation-Id": "c" * 129})
        success = api.get("/sessions/u", params={"correlation_id": "ok-1"}, headers=ADMIN)
    error = error_of(by_query)
    assert error == {
        "type": "UnauthorizedException",
        "category": "Unauthorized",
        "status": 401,
        "code": "UNAUTHORIZED",
        "message": "Authentication is required.",
        "details": None,
        "correlation_id": "req-42",
        "cause": None,
        "stack_trace": None,
    }
    assert by_query.headers["x-correlation-id"] == "req-42"
    assert error_of(by_header)["correlation_id"] == "trace:9"
    assert error_of(both)["correlation_id"] == "q1"
    assert error_of(hostile)["correlation_id"] is None and "x-correlation-id" not in hostile.headers
    assert error_of(too_long)["correlation_id"] is None
    assert success.headers["x-correlation-id"] == "ok-1"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/sessions/u", "DELETE, GET, HEAD, POST"),
        ("PATCH", "/sessions/u", "DELETE, GET, HEAD, POST"),
        ("TRACE", "/sessions/u", "DELETE, GET, HEAD, POST"),
        ("OPTIONS", "/sessions/u", "DELETE, GET, HEAD, POST"),
        ("GET", "/sessions", "POST"),
        ("DELETE", "/sessions", "POST"),
        ("DELETE", "/sessions/", "POST"),
    ],
)
def test_other_methods_get_405_with_allow(harness: Harness, method: str, path: str, allow: str) -> None:
    harness.seed("u")
    before = harness.snapshot("u")
    with harness.client() as api:
        response = api.request(method, path, headers=ADMIN)
    assert (response.status_code, error_of(response)["code"]) == (405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == allow
    assert harness.snapshot("u") == before


@pytest.mark.parametrize("path", ["/sessions/a/b", "/sessions//", "/sessions//u", "/sessions/u//", "/sessions/a%2Fb"])
def test_unknown_routes_are_404(harness: Harness, path: str) -> None:
    with harness.client() as api:
        response = api.get(path, headers=ADMIN)
    assert (response.status_code, error_of(response)["code"]) == (404, "NOT_FOUND")


def test_trailing_slash_is_the_same_route(harness: Harness) -> None:
    record = harness.seed("u")
    with harness.client() as api:
        assert [s["id"] for s in api.get("/sessions/u/", headers=ADMIN).json()] == [record.id]


def test_head_is_get_without_a_body(harness: Harness) -> None:
    harness.seed("u")
    with harness.client() as api:
        head = api.head("/sessions/u", headers=ADMIN)
        get = api.get("/sessions/u", headers=ADMIN)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(get.content))


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=utf-7",
        "application/json-patch+json",
        "application/xml",
    ],
)
def test_bodies_must_be_json(harness: Harness, content_type: str | None) -> None:
    headers = dict(ADMIN)
    if content_type is not None:
        headers["Content-Type"] = content_type
    with harness.client() as api:
        response = api.post("/sessions", content=b'{"user":{"id":"u"},"address":"a","client":"c"}', headers=headers)
    assert (response.status_code, error_of(response)["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    assert harness.snapshot("u") == []


def test_json_with_a_utf8_charset_is_accepted(harness: Harness) -> None:
    with harness.client() as api:
        response = api.post(
            "/sessions",
            content=b'{"user":{"id":"u"},"address":"a","client":"c"}',
            headers={**ADMIN, "Content-Type": "Application/JSON; charset=UTF-8"},
        )
    assert response.status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"[]",
        b'"str"',
        b"null",
        b"true",
        b"1",
        b"[" * 100_000,
        b'{"a":' * 5000 + b"1" + b"}" * 5000,
        b'{"user":{"id":"u"},"address":"a","client":"c","data":' + b'{"a":' * 40 + b"1" + b"}" * 41,
        b'{"user":{"id":"u"},"address":"a","client":"c","data":{"n":NaN}}',
        b'{"user":{"id":"u"},"address":"a","client":"c","data":{"n":Infinity}}',
        b'{"user":{"id":"u"},"address":"a","client":"c","data":{"n":-Infinity}}',
        b'{"user":{"id":"u"},"address":"a","client":"c","data":{"n":1e400}}',
        b'{"user":{"id":"u"},"address":"a","client":"c","data":{"n":' + b"9" * 5000 + b"}}",
        b'{"user":{"id":"u"},"user":{"id":"v"},"address":"a","client":"c"}',
        b'{"user":{"id":"u"},"address":"a","client":"c","data":{"k":1,"k":2}}',
        b'{"user":{"id":"u"},"address":"a","client":"c","data":{"k":"\\ud800"}}',
        b'{"user":{"id":"u"},"address":"a","client":"c","data":{"\\udfff":1}}',
        b'{"user":{"id":"u"},"address":"a","client":"c","data":{"k":"\xff\xfe"}}',
        b'{"user":{"id":"u"},"address":"a","client":"c","data":{"k":"\xc0\xaf"}}',
        b'\xef\xbb\xbf{"user":{"id":"u"},"address":"a","client":"c"}',
        b'{"user":{"id":"u"},"address":"a","client":"c","data":{"k":"a\x01b"}}',
        b'{"user":{"id":"u"},"address":"a","client":"c"} trailing',
    ],
)
def test_hostile_json_is_400_and_changes_nothing(harness: Harness, body: bytes) -> None:
    with harness.client() as api:
        response = api.post("/sessions", content=body, headers=JSON)
    assert (response.status_code, error_of(response)["code"]) == (400, "BAD_JSON")
    assert harness.snapshot("u", "v") == []


def test_nul_and_control_characters_are_fine_inside_data(harness: Harness) -> None:
    with harness.client() as api:
        response = api.post("/sessions", json={**OPEN, "data": {"k": "a\u0000\u0007b", "é": "ü"}}, headers=ADMIN)
    assert response.status_code == 201 and response.json()["data"] == {"k": "a\u0000\u0007b", "é": "ü"}


def test_a_declared_length_over_the_limit_is_refused_unread(harness: Harness) -> None:
    with harness.client(max_body_size=1000) as api:
        big = api.post("/sessions", json={**OPEN, "data": {"k": "x" * 2000}}, headers=ADMIN)
        fits = api.post("/sessions", json={**OPEN, "data": {"k": "x" * 800}}, headers=ADMIN)
        bad_length = api.post("/sessions", content=b"{}", headers={**JSON, "Content-Length": "abc"})
    error = error_of(big)
    assert (big.status_code, error["code"], error["details"]) == (413, "BODY_TOO_LARGE", {"max_body_size": 1000})
    assert fits.status_code == 201
    assert (bad_length.status_code, error_of(bad_length)["code"]) == (400, "BAD_REQUEST")
    assert len(harness.snapshot("u")) == 1


def test_default_body_limit_is_one_mebibyte(harness: Harness) -> None:
    with harness.client() as api:
        response = api.post("/sessions", content=b" " * (1024 * 1024 + 1), headers=JSON)
    assert response.status_code == 413


async def _chunks(total: int) -> AsyncIterator[bytes]:
    yield b'{"user":{"id":"u"},"address":"a","client":"c","data":{"k":"'
    for _ in range(total // 1000):
        yield b"x" * 1000
    yield b'"}}'


def test_asgi_chunked_body_without_length_is_cut_at_the_limit() -> None:
    store = MemoryStore()
    received: list[int] = []
    api = create_asgi_app(store, api_token=TOKEN, max_body_size=5000)

    async def counting(scope: dict[str, object], receive: object, send: object) -> None:
        async def counted_receive() -> dict[str, object]:
            message = await receive()  # type: ignore[operator]
            received.append(len(message.get("body", b"")))
            return message  # type: ignore[no-any-return]

        await api(scope, counted_receive, send)  # type: ignore[arg-type]

    async def run(total: int) -> httpx.Response:
        transport = httpx.ASGITransport(app=counting, root_path="/sessions")
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.post("/sessions", content=_chunks(total), headers=JSON)

    small = asyncio.run(run(3000))
    assert small.status_code == 201
    received.clear()
    big = asyncio.run(run(50_000))
    assert (big.status_code, big.json()["code"]) == (413, "BODY_TOO_LARGE")
    assert sum(received) <= 6000  # stopped reading right after the limit
    assert len(store.list_by_user("u")) == 1


class _EndlessInput(io.RawIOBase):
    """A ``wsgi.input`` that never ends, as a chunked upload can look."""

    def __init__(self) -> None:
        self.served = 0

    def read(self, size: int = -1) -> bytes:
        size = 65536 if size is None or size < 0 else size
        self.served += size
        return b" " * size


def _wsgi_call(app: object, environ: dict[str, object]) -> tuple[str, bytes]:
    status: list[str] = []
    base = {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "/sessions",
        "PATH_INFO": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "CONTENT_TYPE": "application/json",
        "HTTP_AUTHORIZATION": f"Bearer {TOKEN}",
    }
    body = b"".join(app({**base, **environ}, lambda s, h, e=None: status.append(s)))  # type: ignore[operator]
    return status[0], body


def test_wsgi_chunked_body_without_length_is_cut_at_the_limit() -> None:
    app = create_wsgi_app(MemoryStore(), api_token=TOKEN, max_body_size=5000)
    endless = _EndlessInput()
    status, _ = _wsgi_call(app, {"wsgi.input": endless, "wsgi.input_terminated": True})
    assert status.startswith("413 ") and endless.served <= 5001
    # Without a length and without input_terminated, the stream is not read at all (PEP 3333).
    untouched = _EndlessInput()
    status, _ = _wsgi_call(app, {"wsgi.input": untouched})
    assert status.startswith("400 ") and untouched.served == 0
    small = b'{"user":{"id":"u"},"address":"a","client":"c"}'
    status, _ = _wsgi_call(app, {"wsgi.input": io.BytesIO(small), "wsgi.input_terminated": True})
    assert status.startswith("201 ")


def test_store_failure_is_503_with_retry_after(kind: str) -> None:
    harness = Harness(kind)  # type: ignore[arg-type]
    failing = Harness(kind, store=FailingStore(harness.clock))  # type: ignore[arg-type]
    with failing.client() as api:
        responses = [
            api.get("/sessions/u", headers=ADMIN),
            api.post("/sessions", json=OPEN, headers=ADMIN),
            api.delete("/sessions/u", params={"address": "a"}, headers=ADMIN),
        ]
    for response in responses:
        error = error_of(response)
        assert (response.status_code, error["code"], error["category"]) == (503, "STORE_UNAVAILABLE", "NoResponse")
        assert response.headers["retry-after"] == "2"
        assert error["cause"] is None and error["stack_trace"] is None
    assert failing.store.calls == 3


def test_debug_mode_adds_cause_and_stack_trace(kind: str) -> None:
    clock = Harness(kind).clock  # type: ignore[arg-type]
    failing = Harness(kind, store=FailingStore(clock))  # type: ignore[arg-type]
    with failing.client(debug=True) as api:
        error = error_of(api.get("/sessions/u", headers=ADMIN))
    assert error["code"] == "STORE_UNAVAILABLE"
    assert error["cause"] == "StoreError: session store failed: ConnectionError"
    assert "Traceback" in error["stack_trace"] and "ConnectionError" in error["stack_trace"]


def test_a_failing_authorize_callback_is_a_500_in_the_standard_format(harness: Harness) -> None:
    def broken(request: object) -> bool:
        raise RuntimeError("bug in the application")

    with harness.client(api_authorize=broken) as api:
        response = api.get("/sessions/u")
    error = error_of(response)
    assert (response.status_code, error["code"], error["stack_trace"]) == (500, "INTERNAL_ERROR", None)
    assert "bug" not in response.text


def test_request_that_names_the_session_only_in_the_path_is_404(harness: Harness) -> None:
    record = harness.seed("u")
    with harness.client() as api:
        response = api.get(f"/sessions/u/{record.id}", headers=ADMIN)
    assert response.status_code == 404
