"""The demo app behind ``make run``: Starlette, the memory store and the REST API mounted.

Open http://127.0.0.1:8000, write something into the session, sign in, sign out.
"""

from __future__ import annotations

import html
import os
import secrets

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from session_middleware import SessionMiddleware

# A fresh key each start is fine for a demo (sessions end with the process); a real app
# reads its key from configuration so that sessions survive restarts.
SECRET_KEY = os.environ.get("SESSION_SECRET_KEY") or secrets.token_urlsafe(48)

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>session-middleware demo</title></head>
<body style="font-family: system-ui; max-width: 40rem; margin: 2rem auto">
<h1>session-middleware demo</h1>
<p>User: <b>{user}</b> &middot; session opened {opened}, last request {last_request}</p>
<p>Address {address} &middot; client {client}</p>
<h2>Notes kept in your session</h2><ul>{notes}</ul>
<form method="post" action="/notes"><input name="note" required> <button>Add</button></form>
<h2>Sign in</h2>
<form method="post" action="/login"><input name="name" placeholder="any name" required> <button>Sign in</button></form>
<form method="post" action="/logout"><button>Sign out</button></form>
</body></html>"""


async def home(request: Request) -> Response:
    session = request.session
    user = session.user  # type: ignore[attr-defined]
    notes = "".join(f"<li>{html.escape(str(n))}</li>" for n in session.get("notes", []))
    return HTMLResponse(
        PAGE.format(
            user=html.escape(user["name"]) if user else "anonymous",
            opened=session.opened.isoformat(timespec="seconds"),  # type: ignore[attr-defined]
            last_request=session.last_request.isoformat(timespec="seconds"),  # type: ignore[attr-defined]
            address=html.escape(session.address),  # type: ignore[attr-defined]
            client=html.escape(session.client),  # type: ignore[attr-defined]
            notes=notes or "<li><i>none yet</i></li>",
        )
    )


async def add_note(request: Request) -> Response:
    form = await request.form()
    note = str(form.get("note", ""))[:200]
    request.session.setdefault("notes", []).append(note)
    return RedirectResponse("/", status_code=303)


async def login(request: Request) -> Response:
    form = await request.form()
    name = str(form.get("name", "")).strip()[:64] or "guest"
    request.session.login({"id": name.lower(), "name": name})  # type: ignore[attr-defined]
    return RedirectResponse("/", status_code=303)


async def logout(request: Request) -> Response:
    request.session.logout()  # type: ignore[attr-defined]
    return RedirectResponse("/", status_code=303)


app = Starlette(
    routes=[
        Route("/", home),
        Route("/notes", add_note, methods=["POST"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
    ]
)
app.add_middleware(SessionMiddleware, secret_key=SECRET_KEY)
