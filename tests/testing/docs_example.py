"""Property-based tests of your own app and your own store (docs/testing.md includes this file)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import settings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from session_middleware import MemoryStore, SessionMiddleware
from session_middleware.stores.base import Store
from session_middleware.testing import AppClient, AppLifecycle, FakeClock, StoreLifecycle, probe_action

# -- Your app: its own routes, plus the kit's probe route -----------------------------


async def home(request: Request) -> Response:
    request.session["visits"] = request.session.get("visits", 0) + 1
    return JSONResponse({"visits": request.session["visits"]})


async def probe(request: Request) -> Response:
    payload = json.loads(await request.body() or b"{}")  # read the body before anything else
    status, answer = probe_action(request.scope["session"], request.path_params["action"], payload)
    return JSONResponse(answer, status_code=status)


def create_app(**session_options: Any) -> Starlette:
    app = Starlette(routes=[Route("/", home), Route("/_probe/{action}", probe, methods=["GET", "POST"])])
    app.add_middleware(SessionMiddleware, **session_options)
    return app


# -- The app under the lifecycle machine -----------------------------------------------


class MyAppLifecycle(AppLifecycle):
    max_sessions_per_user = 3  # configure the machine like your app
    idle_timeout = 30 * 60.0
    absolute_timeout = 8 * 3600.0

    def make_client(self, clock: FakeClock) -> AppClient:
        return AppClient.asgi(create_app(**self.session_options(clock)))


TestMyApp = MyAppLifecycle.TestCase
TestMyApp.settings = settings(max_examples=25, stateful_step_count=25, deadline=None)


# -- Your own store under the store machine --------------------------------------------


class MyStore(MemoryStore):
    """Stands in for your store: any class with the Store methods and a clock."""


class MyStoreLifecycle(StoreLifecycle):
    use_async = True  # drive the async methods (False: the sync ones)

    def make_store(self, clock: FakeClock) -> Store:
        return MyStore(clock=clock)


TestMyStore = MyStoreLifecycle.TestCase
TestMyStore.settings = settings(max_examples=25, stateful_step_count=25, deadline=None)
