"""Flask with sessions: ``flask.session`` is the tracked session.

Run it: ``flask --app examples.flask_app run``. The REST API is at ``/sessions``.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from flask import Flask, flash, get_flashed_messages, request, session

from session_middleware.integrations.flask import get_session, init_app

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ.get("SESSION_SECRET_KEY") or secrets.token_urlsafe(48)
init_app(app, api_path="/sessions")  # secret_key defaults to app.config["SECRET_KEY"]


@app.get("/")
def home() -> dict[str, Any]:
    session["visits"] = session.get("visits", 0) + 1
    return {"user": get_session().user, "visits": session["visits"], "messages": get_flashed_messages()}


@app.post("/login")
def login() -> dict[str, Any]:
    name = request.args.get("name", "guest")
    get_session().login({"id": name.lower(), "name": name})
    flash(f"Welcome, {name}!")  # flash() keeps its messages in the session, as usual
    return {"user": get_session().user}


@app.post("/logout")
def logout() -> dict[str, Any]:
    get_session().logout()
    return {"user": None}
