"""A tiny app served through both middlewares, in-process or as a server process.

Routes: ``/`` reads the session, ``/write?key=K&value=V`` sets a key, ``/login?user=U``
logs in, ``/logout`` logs out, ``/public`` never touches the session. Every response is
JSON ``{"user": ..., "data": ..., "pid": ...}``; the REST API is mounted at ``/sessions``.

As a server: ``python -m tests.stores.apps asgi|wsgi PORT`` with ``REDIS_URL`` and
``SESSION_SECRET`` in the environment (ASGI on uvicorn, WSGI on werkzeug's server).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs

import httpx

from session_middleware import Session, SessionMiddleware, WSGISessionMiddleware

SECRET = "stores-suite-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
API_TOKEN = "stores-suite-api-token"


def handle(session: Session | None, path: str, query: str) -> tuple[int, bytes]:
    params = {k: v[0] for k, v in parse_qs(query).items()}
    if path == "/public":
        return 200, b'{"public": true}'
    assert session is not None
    if path == "/write":
        session[params["key"]] = params["value"]
    elif path == "/login":
        session.login({"id": params["user"]})
    elif path == "/logout":
        session.logout()
    body = {"user": session.user_id, "data": dict(session), "pid": os.getpid()}
    return 200, json.dumps(body).encode()


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    status, body = handle(scope.get("session"), scope["path"], scope["query_string"].decode())
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    status, body = handle(environ.get("session"), environ["PATH_INFO"], environ.get("QUERY_STRING", ""))
    start_response(f"{status} OK", [("Content-Type", "application/json")])
    return [body]


def make_app(kind: str, store: Any, **options: Any) -> Any:
    options.setdefault("secret_key", SECRET)
    options.setdefault("api_token", API_TOKEN)
    if kind == "asgi":
        return SessionMiddleware(asgi_app, store=store, **options)  # type: ignore[arg-type]
    return WSGISessionMiddleware(wsgi_app, store=store, **options)


class Browser:
    """One browser (a cookie jar) talking to the app in-process, with a sync API for both
    kinds; ASGI requests run on ``runner``, the loop the store's async client lives on."""

    def __init__(self, kind: str, app: Any, runner: asyncio.Runner) -> None:
        self.kind = kind
        self.runner = runner
        base = "http://testserver"
        if kind == "asgi":
            self._async = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base)
        else:
            self._sync = httpx.Client(transport=httpx.WSGITransport(app=app), base_url=base)

    @property
    def cookies(self) -> httpx.Cookies:
        return self._async.cookies if self.kind == "asgi" else self._sync.cookies

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        if self.kind == "asgi":
            return self.runner.run(self._async.get(path, **kwargs))
        return self._sync.get(path, **kwargs)

    def close(self) -> None:
        if self.kind == "asgi":
            self.runner.run(self._async.aclose())
        else:
            self._sync.close()


def serve(kind: str, port: int) -> None:
    from session_middleware.stores.redis import RedisStore

    store = RedisStore(os.environ["REDIS_URL"], socket_timeout=0.5, connect_timeout=0.5)
    app = make_app(kind, store, secret_key=os.environ["SESSION_SECRET"])
    if kind == "asgi":
        import uvicorn

        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
    else:
        from werkzeug.serving import run_simple

        run_simple("127.0.0.1", port, app, threaded=True)


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
