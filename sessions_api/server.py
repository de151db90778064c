"""The standalone sessions microservice: ``python -m sessions_api`` on uvicorn."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence
from types import FrameType
from typing import Any

from session_middleware import MemoryStore, Store
from session_middleware.api import (
    ApiError,
    ApiResponse,
    SessionsAPI,
    create_asgi_app,
    json_response,
    openapi,
    request_from_scope,
    send_response,
)
from session_middleware.types import Message, Receive, Scope, Send

from ._probes import (
    HEALTH_PATH,
    OK,
    READY_PATH,
    READY_TIMEOUT,
    RETRY_AFTER_SECONDS,
    UNAVAILABLE,
    store_answers,
    with_probes,
)

logger = logging.getLogger("sessions_api")
access_logger = logging.getLogger("sessions_api.access")

PREFIX = "/sessions"
TOKEN_ENV = "SESSIONS_API_TOKEN"  # noqa: S105 - the variable's name
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class Service:
    """The API under ``/sessions`` plus ``GET /openapi.json``, ``/health`` and ``/ready``.

    ``/ready`` answers 503 while the store does not answer within ``ready_timeout``
    seconds (failures logged rate-limited on ``sessions_api``). The lifespan closes the
    store on shutdown. Requests are logged without their query string, which may carry
    session ids.
    """

    def __init__(self, store: Store, api: SessionsAPI, *, ready_timeout: float = READY_TIMEOUT) -> None:
        self.store = store
        self.api = api
        self.ready_timeout = ready_timeout
        self.document = openapi_document(ready_timeout)
        # The API's own rate-limited log of store failures: one outage, one line per burst.
        self.store_failures = api.core.failures

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            await self.api(scope, receive, send)  # refuses it
            return
        status = 0

        async def logged_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        path = scope["path"]
        if path == PREFIX or path.startswith(PREFIX + "/"):
            await self.api({**scope, "root_path": scope.get("root_path", "") + PREFIX}, receive, logged_send)
        else:
            await self._own_route(scope, logged_send)
        access_logger.info("%s %s %d", scope["method"], path[:200], status)

    async def _own_route(self, scope: Scope, send: Send) -> None:
        core = self.api.core
        request = request_from_scope({**scope, "root_path": ""})
        if request.path not in ("/openapi.json", HEALTH_PATH, READY_PATH):
            await send_response(send, core.reject(request, ApiError("NOT_FOUND")))
        elif request.method not in ("GET", "HEAD"):
            error = ApiError("METHOD_NOT_ALLOWED", headers={"Allow": "GET, HEAD"})
            await send_response(send, core.reject(request, error))
        elif request.path == READY_PATH:
            await send_response(send, core.finish(request, await self._readiness(), None))
        else:
            value = self.document if request.path == "/openapi.json" else OK
            await send_response(send, core.finish(request, json_response(200, value), None))

    async def _readiness(self) -> ApiResponse:
        failure = await store_answers(self.store, self.ready_timeout)
        if failure is None:
            return json_response(200, OK)
        self.store_failures.report("a readiness check", failure, None)
        return json_response(503, UNAVAILABLE, [("Retry-After", str(RETRY_AFTER_SECONDS))])

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.store_failures.flush()
                try:
                    await self.store.aclose()
                    self.store.close()
                except Exception:
                    logger.exception("closing the session store failed")
                await send({"type": "lifespan.shutdown.complete"})
                return


def openapi_document(ready_timeout: float = READY_TIMEOUT) -> dict[str, Any]:
    """The OpenAPI document the service serves: the API under ``/sessions`` and the probes."""
    return with_probes(openapi(PREFIX), ready_timeout)


def make_store(spec: str) -> Store:
    """``memory`` or a Redis URL (``redis://``, ``rediss://``, ``unix://``)."""
    if spec == "memory":
        return MemoryStore()
    if spec.startswith(_REDIS_SCHEMES):
        from session_middleware import RedisStore  # needs the "redis" extra

        store: Store = RedisStore(url=spec)
        return store
    raise ValueError("--store must be 'memory' or a redis:// URL")


def build_service(
    store: Store,
    tokens: Sequence[str],
    *,
    insecure: bool = False,
    ready_timeout: float = READY_TIMEOUT,
    **options: Any,
) -> Service:
    """The service over ``store``; ``insecure`` without tokens lets every caller do everything."""
    if not (0 < ready_timeout < float("inf")):
        raise ValueError("the readiness timeout must be a positive number of seconds")
    if insecure and not tokens:
        options["api_authorize"] = _anyone
    api = create_asgi_app(store, api_token=list(tokens) or None, **options)
    return Service(store, api, ready_timeout=ready_timeout)


def _anyone(request: object) -> bool:
    return True


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sessions_api",
        description="The sessions REST API (protocol v1) as a standalone service.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default: 8080)")
    parser.add_argument("--store", default="memory", help="'memory' (default) or a redis:// URL")
    parser.add_argument(
        "--token", action="append", default=[], help=f"bearer token; repeat for several (or set {TOKEN_ENV})"
    )
    parser.add_argument("--insecure", action="store_true", help="without a token, serve everyone unauthenticated")
    parser.add_argument("--idle-timeout", type=float, default=86400.0, help="seconds (default: 24 h)")
    parser.add_argument("--absolute-timeout", type=float, default=1209600.0, help="seconds (default: 14 days)")
    parser.add_argument("--max-sessions-per-user", type=int, default=None)
    parser.add_argument(
        "--ready-timeout",
        type=float,
        default=READY_TIMEOUT,
        help=f"seconds /ready waits for the store (default: {READY_TIMEOUT:g})",
    )
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the service until SIGINT or SIGTERM; the exit status is 0 after a clean shutdown."""
    args = _parser().parse_args(argv)
    tokens = list(args.token) or ([os.environ[TOKEN_ENV]] if os.environ.get(TOKEN_ENV) else [])
    if not tokens and not args.insecure:
        print(
            f"refusing to start without a token: pass --token or set {TOKEN_ENV} "
            "(or --insecure to serve without authentication)",
            file=sys.stderr,
        )
        return 2
    try:
        store = make_store(args.store)
        service = build_service(
            store,
            tokens,
            insecure=args.insecure,
            idle_timeout=args.idle_timeout,
            absolute_timeout=args.absolute_timeout,
            max_sessions_per_user=args.max_sessions_per_user,
            ready_timeout=args.ready_timeout,
        )
    except (ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        import uvicorn
    except ImportError:
        print("error: the standalone service needs uvicorn: pip install 'session-middleware[server]'", file=sys.stderr)
        return 2

    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    config = uvicorn.Config(
        service, host=args.host, port=args.port, access_log=False, log_level=args.log_level, lifespan="on"
    )
    if args.insecure and not tokens:
        logger.warning("serving the sessions API WITHOUT authentication (--insecure)")
    server = uvicorn.Server(config)
    # uvicorn turns SIGTERM into a graceful shutdown, then re-raises it to the handler found
    # before it started: make that one a clean exit, as a service manager expects.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    server.run()
    return 0 if server.started else 1


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
