"""Helpers of the REST API suite: one client API over the ASGI and the WSGI sub-app."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Literal

import httpx
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from session_middleware import MemoryStore, SessionRecord, StoreError
from session_middleware._session import Session
from session_middleware.records import DataChanges, new_session_id
from session_middleware.testing.clock import FakeClock as _KitClock
from sessions_api import create_asgi_app, create_wsgi_app

Kind = Literal["asgi", "wsgi"]
TOKEN = "test-admin-token-0123456789"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
BASE = "http://testserver"


class FakeClock(_KitClock):
    """The testing kit's clock from a fixed start, so dates in tests are stable."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        super().__init__(start)


class Harness:
    """A store, its clock, and clients for the sub-app mounted at ``/sessions``.

    ASGI is mounted as servers and the session middleware do it (``root_path`` grown,
    ``path`` whole), WSGI through Werkzeug's ``DispatcherMiddleware``. ``as_user`` puts a signed-in
    :class:`Session` where the session middleware would (``scope``/``environ["session"]``).
    """

    def __init__(self, kind: Kind, store: Any | None = None, clock: FakeClock | None = None) -> None:
        self.kind = kind
        self.clock = clock or FakeClock()
        self.store = store if store is not None else MemoryStore(clock=self.clock)

    def client(self, *, as_user: str | None = None, anonymous_session: bool = False, **options: Any) -> httpx.Client:
        options.setdefault("api_token", TOKEN)
        session = None
        if as_user is not None or anonymous_session:
            session = self.caller_session(as_user)
        if self.kind == "asgi":
            api = create_asgi_app(self.store, **options)

            async def mounted(scope: Any, receive: Any, send: Any) -> None:
                # What a server or the session middleware does: root_path grows, path stays whole.
                path = scope["path"]
                assert path == "/sessions" or path.startswith("/sessions/"), (path, scope.get("raw_path"))
                scope = {**scope, "root_path": scope.get("root_path", "") + "/sessions"}
                if session is not None:
                    scope["session"] = session
                await api(scope, receive, send)

            return sync_client(mounted)
        wsgi_api = create_wsgi_app(self.store, **options)

        def wsgi_with_session(environ: Any, start_response: Any) -> Any:
            if session is not None:
                environ["session"] = session
            return wsgi_api(environ, start_response)

        app = DispatcherMiddleware(NotFound(), {"/sessions": wsgi_with_session})
        return httpx.Client(transport=httpx.WSGITransport(app=app), base_url=BASE)

    def caller_session(self, user_id: str | None) -> Session:
        record = None
        if user_id is not None:
            record = self.seed(user_id, address="10.9.9.9", client="caller-browser")
        return Session(record, now=self.clock(), origin=lambda: ("10.9.9.9", "caller-browser"))

    def seed(
        self, user_id: str, *, address: str = "10.0.0.1", client: str = "app", data: dict[str, str] | None = None
    ) -> SessionRecord:
        """A live session stored directly (``data`` as per-key JSON text)."""
        now = self.clock()
        record = SessionRecord(
            new_session_id(), now, now, 3600.0, now + 86400.0, address, client, {"id": user_id}, data or {}
        )
        assert self.store.create(record)
        self.clock.tick(1)
        return record

    def snapshot(self, *user_ids: str) -> list[tuple[Any, ...]]:
        """Everything stored for these users, touches included (the clock moves between requests)."""
        rows = []
        for uid in user_ids:
            for r in self.store.list_by_user(uid):
                rows.append((uid, r.id, r.opened, r.last_request, r.address, r.client, dict(r.data)))
        return rows

    def set_data(self, session_id: str, data: dict[str, str]) -> None:
        assert self.store.save_changes(session_id, DataChanges(updated=data, clear=True))


class SyncASGITransport(httpx.BaseTransport):
    """Drives an ASGI app from a sync ``httpx.Client`` on one event loop kept for the client's
    lifetime (async store clients, such as redis.asyncio, are bound to their loop)."""

    def __init__(self, app: Any, **options: Any) -> None:
        self.transport = httpx.ASGITransport(app=app, **options)
        self.runner = asyncio.Runner()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()

        async def run() -> httpx.Response:
            sent = httpx.Request(request.method, request.url, headers=request.headers, content=body)
            response = await self.transport.handle_async_request(sent)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        return self.runner.run(run())

    def close(self) -> None:
        self.runner.close()


def sync_client(app: Any, **options: Any) -> httpx.Client:
    return httpx.Client(transport=SyncASGITransport(app, **options), base_url=BASE)


class FailingStore:
    """A store whose every operation fails, as an unreachable backend would."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.calls = 0

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def fail(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            try:
                raise ConnectionError("backend down")
            except ConnectionError as exc:  # what a real store does: its own error, chained
                raise StoreError("session store failed: ConnectionError") from exc

        async def afail(*args: Any, **kwargs: Any) -> Any:
            return fail()

        return afail if name.startswith("a") else fail


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The standard error object of a response, checked for its shape on the way."""
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {
        "type",
        "category",
        "status",
        "code",
        "message",
        "details",
        "correlation_id",
        "cause",
        "stack_trace",
    }
    assert body["status"] == response.status_code
    assert isinstance(body["message"], str) and body["message"]
    return body  # type: ignore[no-any-return]
