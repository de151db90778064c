"""The demo app behind ``make run``: Starlette, the memory store and the REST API mounted.

Open http://127.0.0.1:8000: sign in with any name, look at this session, keep a to-do
list and nested data in it, then sign in from a second browser and open "Your devices",
which lists your sessions through the REST API (``GET /sessions/{user_id}``), signs
other devices out (``DELETE /sessions/{user_id}?session_id=...``) and shows your recent
sign-ins and sign-outs, which the middleware reports to ``on_event``.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections import deque
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from examples.demo_pages import devices_page, home_page, playground_page
from session_middleware import Session, SessionMiddleware
from session_middleware.events import SessionEvent
from session_middleware.integrations.starlette import get_session

# A fresh key each start is fine for a demo (sessions end with the process); a real app
# reads its key from configuration so that sessions survive restarts.
SECRET_KEY = os.environ.get("SESSION_SECRET_KEY") or secrets.token_urlsafe(48)
STATIC = Path(__file__).with_name("static")
MAX_TODOS = 50
MAX_TEXT = 200
MAX_JSON = 2000


class _PathsWithoutQuery(logging.Filter):
    """Cut query strings from uvicorn's access log: the API's carry session ids, which
    stay out of logs (a log line names a session by ``id_hash`` at most)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], args[2].partition("?")[0], args[3], args[4])
        return True


logging.getLogger("uvicorn.access").addFilter(_PathsWithoutQuery())

#: Sign-ins and sign-outs, newest first: what a real app would write to its audit log or
#: turn into "new sign-in" e-mails. Kept in memory, like the demo's sessions.
ACTIVITY: deque[SessionEvent] = deque(maxlen=500)
ACTIVITY_SHOWN = 10


def record_activity(event: SessionEvent) -> None:
    """The middleware's ``on_event`` hook: keep the events a user would want to see."""
    if event.kind in ("logged_in", "closed") and event.user_id is not None:
        ACTIVITY.appendleft(event)


def activity_of(user_id: str) -> list[SessionEvent]:
    return [event for event in list(ACTIVITY) if event.user_id == user_id][:ACTIVITY_SHOWN]


def todos(session: Session) -> list[dict[str, Any]]:
    """The to-do list, tolerating anything else stored under its key."""
    items = session.get("todos")
    if not isinstance(items, list):
        return []
    return [i for i in items if isinstance(i, dict) and isinstance(i.get("text"), str)]


def _same_origin(request: Request) -> bool:
    """Browsers send ``Origin`` with every form POST: refuse posts from other sites."""
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.netloc}"


def _see(path: str) -> Response:
    return RedirectResponse(path, status_code=303)


async def home(request: Request) -> Response:
    notice = "You were signed out." if request.query_params.get("signed_out") else None
    return HTMLResponse(home_page(get_session(request), notice=notice))


async def playground(request: Request) -> Response:
    session = get_session(request)
    return HTMLResponse(playground_page(session, todos(session)))


async def devices(request: Request) -> Response:
    session = get_session(request)
    activity = activity_of(session.user_id) if session.user_id is not None else []
    return HTMLResponse(devices_page(session, api_path="/sessions", activity=activity))


async def login(request: Request) -> Response:
    if not _same_origin(request):
        return PlainTextResponse("cross-site request refused", status_code=403)
    form = await request.form()
    # The form's field, or ?name= as the README's curl lines send it.
    given = form.get("name") or request.query_params.get("name", "")
    name = " ".join(str(given).split())[:64] or "guest"
    get_session(request).login({"id": name.casefold(), "name": name})
    return _see("/")


async def logout(request: Request) -> Response:
    if not _same_origin(request):
        return PlainTextResponse("cross-site request refused", status_code=403)
    get_session(request).logout()
    return _see("/?signed_out=1")


async def todo_action(request: Request) -> Response:
    if not _same_origin(request):
        return PlainTextResponse("cross-site request refused", status_code=403)
    session = get_session(request)
    form = await request.form()
    items = todos(session)
    action = form.get("action")
    if action == "add":
        text = " ".join(str(form.get("text", "")).split())[:MAX_TEXT]
        if text and len(items) < MAX_TODOS:
            items.append({"text": text, "done": False})
    elif action in ("toggle", "remove"):
        index = str(form.get("index", ""))
        if index.isdigit() and int(index) < len(items):
            if action == "toggle":
                items[int(index)]["done"] = not items[int(index)].get("done")
            else:
                del items[int(index)]
    elif action == "clear-done":
        items = [i for i in items if not i.get("done")]
    session["todos"] = items
    return _see("/playground")


async def data_action(request: Request) -> Response:
    if not _same_origin(request):
        return PlainTextResponse("cross-site request refused", status_code=403)
    session = get_session(request)
    form = await request.form()
    key = str(form.get("key", "")).strip()[:40]
    if not key:
        return _playground_error(session, "A key is needed.")
    if form.get("action") == "delete":
        session.pop(key, None)
        return _see("/playground")
    text = str(form.get("value", ""))
    if len(text) > MAX_JSON:
        return _playground_error(session, f"Keep values under {MAX_JSON} characters.")
    try:
        session[key] = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return _playground_error(session, f"Not JSON: {exc}")
    except TypeError as exc:  # NaN and Infinity parse, but sessions keep strict JSON only
        return _playground_error(session, str(exc))
    return _see("/playground")


def _playground_error(session: Session, message: str) -> Response:
    return HTMLResponse(playground_page(session, todos(session), error=message), status_code=400)


app = Starlette(
    routes=[
        Route("/", home),
        Route("/playground", playground),
        Route("/devices", devices),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/todos", todo_action, methods=["POST"]),
        Route("/data", data_action, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
)
# The middleware mounts the REST API itself at api_path (nothing is mounted without it),
# and reports every session's lifecycle to on_event.
app.add_middleware(SessionMiddleware, secret_key=SECRET_KEY, api_path="/sessions", on_event=record_activity)
