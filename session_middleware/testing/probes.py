"""The routes :class:`~session_middleware.testing.AppLifecycle` drives, for any app.

Every probe is ``/_probe/<action>``: ``GET`` or ``POST`` with a JSON object body (read
before anything else, so overlapping requests can be staged), answering the session as
the app sees it afterwards: ``{"user": ..., "data": {...}, "is_new": bool}``.

- ``state`` ``{}``: nothing;
- ``write`` ``{"clear": bool, "set": {key: value}, "delete": [key, ...]}``: clears, sets,
  deletes, in that order;
- ``append`` ``{"key": key, "item": value}``: appends in place to the list at ``key`` (a
  nested mutation), or sets ``[item]``;
- ``login`` ``{"user": {"id": ..., "name": ...}}``, ``logout`` ``{}``, ``regenerate`` ``{}``;
- ``fail`` ``{"set": {key: value}}``: sets, then answers 500.

Mount them in your own app with :func:`probe_action` (any framework; see
``docs/testing.md``), or wrap an app with :func:`probe_asgi_app` / :func:`probe_wsgi_app`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .._session import Session
from ..types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["ACTIONS", "DEFAULT_PREFIX", "probe_action", "probe_asgi_app", "probe_wsgi_app"]

DEFAULT_PREFIX = "/_probe"
ACTIONS = frozenset({"state", "write", "append", "login", "logout", "regenerate", "fail"})


def probe_action(session: Session, action: str, payload: Any) -> tuple[int, dict[str, Any]]:
    """Do ``action`` on the request's session; return the status and the JSON to answer.

    ``session`` is the request's :class:`~session_middleware.Session` (``scope["session"]``,
    ``environ["session"]``, Starlette's ``request.session``).
    """
    if action not in ACTIONS:
        return 404, {"error": f"unknown probe {action!r}"}
    if not isinstance(payload, dict):
        return 400, {"error": "the body must be a JSON object"}
    status = 200
    if action in ("write", "fail"):
        if payload.get("clear"):
            session.clear()
        for key, value in payload.get("set", {}).items():
            session[key] = value
        for key in payload.get("delete", ()):
            session.pop(key, None)
        status = 500 if action == "fail" else 200
    elif action == "append":
        current = session.get(payload["key"])
        if isinstance(current, list):
            current.append(payload["item"])  # in place: the middleware must notice
        else:
            session[payload["key"]] = [payload["item"]]
    elif action == "login":
        session.login(payload["user"])
    elif action == "logout":
        session.logout()
    elif action == "regenerate":
        session.regenerate()
    return status, {
        "user": session.user,
        "data": dict(session),
        "is_new": session.is_new,
    }


def _parse(body: bytes) -> Any:
    return json.loads(body) if body.strip() else {}


def _action(path: str, prefix: str) -> str | None:
    if path.startswith(prefix + "/"):
        return path[len(prefix) + 1 :]
    return None


def probe_asgi_app(app: ASGIApp | None = None, *, prefix: str = DEFAULT_PREFIX) -> ASGIApp:
    """An ASGI app answering the probes under ``prefix``, and passing everything else to
    ``app`` (404 without one). Wrap it in :class:`~session_middleware.SessionMiddleware`."""

    async def probes(scope: Scope, receive: Receive, send: Send) -> None:
        action = _action(scope.get("path", ""), prefix) if scope["type"] == "http" else None
        if action is None:
            if app is not None:
                await app(scope, receive, send)
                return
            status, answer = 404, {"error": "not found"}
        else:
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body", False):
                    break
            status, answer = probe_action(scope["session"], action, _parse(body))
        content = json.dumps(answer).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    return probes


_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error"}


def probe_wsgi_app(app: WSGIApplication | None = None, *, prefix: str = DEFAULT_PREFIX) -> WSGIApplication:
    """A WSGI app answering the probes under ``prefix``, and passing everything else to
    ``app`` (404 without one). Wrap it in :class:`~session_middleware.WSGISessionMiddleware`."""

    def probes(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
        action = _action(path, prefix)
        if action is None:
            if app is not None:
                return app(environ, start_response)
            status, answer = 404, {"error": "not found"}
        else:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            status, answer = probe_action(environ["session"], action, _parse(body))
        content = json.dumps(answer).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(content)))]
        start_response(f"{status} {_REASONS.get(status, 'Unknown')}", headers)
        return [content]

    return probes
