"""A plain WSGI callable with sessions: no framework at all.

Run it: ``python -m examples.raw_wsgi`` (the standard library's server on 127.0.0.1, port
``$PORT`` or 8000).
``POST /login?name=Ada`` signs in, ``POST /logout`` signs out; the REST API is at ``/sessions``.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from session_middleware import Session, WSGISessionMiddleware

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

SECRET_KEY = os.environ.get("SESSION_SECRET_KEY") or secrets.token_urlsafe(48)


def inner(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    session: Session = environ["session"]
    method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/")
    if method == "POST" and path == "/login":
        name = parse_qs(environ.get("QUERY_STRING", "")).get("name", ["guest"])[0]
        session.login({"id": name.lower(), "name": name})
    elif method == "POST" and path == "/logout":
        session.logout()
    elif path == "/":
        session["visits"] = session.get("visits", 0) + 1
    else:
        start_response("404 Not Found", [("Content-Type", "application/json")])
        return [b'{"error": "not found"}']
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"user": session.user, "visits": session.get("visits", 0)}).encode()]


app = WSGISessionMiddleware(inner, secret_key=SECRET_KEY, api_path="/sessions")

if __name__ == "__main__":
    from wsgiref.simple_server import make_server

    port = int(os.environ.get("PORT", "8000"))
    with make_server("127.0.0.1", port, app) as server:
        print(f"serving on http://127.0.0.1:{port}", flush=True)
        server.serve_forever()
