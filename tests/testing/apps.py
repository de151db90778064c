"""The apps AppLifecycle runs on: the kit's raw ASGI and WSGI probe apps, Starlette and Flask."""

from __future__ import annotations

import json

from flask import Flask, Response, request
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from session_middleware import SessionMiddleware, WSGISessionMiddleware
from session_middleware.stores.base import Store
from session_middleware.testing import AppClient, AppLifecycle, FakeClock
from session_middleware.testing.probes import probe_action, probe_asgi_app, probe_wsgi_app


def starlette_app() -> Starlette:
    async def probe(request: Request) -> JSONResponse:
        body = await request.body()  # read first: overlapping requests are staged on it
        status, answer = probe_action(request.scope["session"], request.path_params["action"], json.loads(body or "{}"))
        return JSONResponse(answer, status_code=status)

    return Starlette(routes=[Route("/_probe/{action}", probe, methods=["GET", "POST"])])


def flask_app() -> Flask:
    app = Flask(__name__)

    @app.route("/_probe/<action>", methods=["GET", "POST"])
    def probe(action: str) -> Response:
        payload = json.loads(request.get_data() or b"{}")
        status, answer = probe_action(request.environ["session"], action, payload)
        return Response(json.dumps(answer), status=status, mimetype="application/json")

    return app


class RawASGI(AppLifecycle):
    """The kit's raw ASGI probe app in SessionMiddleware, on :meth:`make_store`."""

    def make_store(self, clock: FakeClock) -> Store | None:
        """The store to use; None: the middleware's own MemoryStore."""
        return None

    def make_client(self, clock: FakeClock) -> AppClient:
        options = self.session_options(clock, store=self.make_store(clock))
        return AppClient.asgi(SessionMiddleware(probe_asgi_app(), **options))


class RawWSGI(AppLifecycle):
    """The kit's raw WSGI probe app in WSGISessionMiddleware, on :meth:`make_store`."""

    def make_store(self, clock: FakeClock) -> Store | None:
        return None

    def make_client(self, clock: FakeClock) -> AppClient:
        options = self.session_options(clock, store=self.make_store(clock))
        return AppClient.wsgi(WSGISessionMiddleware(probe_wsgi_app(), **options))


class StarletteApp(AppLifecycle):
    def make_client(self, clock: FakeClock) -> AppClient:
        app = starlette_app()
        app.add_middleware(SessionMiddleware, **self.session_options(clock))
        return AppClient.asgi(app)


class FlaskApp(AppLifecycle):
    def make_client(self, clock: FakeClock) -> AppClient:
        app = flask_app()
        app.wsgi_app = WSGISessionMiddleware(app.wsgi_app, **self.session_options(clock))  # type: ignore[method-assign]
        return AppClient.wsgi(app)
