"""FastAPI with sessions: handlers receive the session through a dependency.

Run it: ``uvicorn examples.fastapi_app:app --port 8000``. The REST API is at ``/sessions``.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from fastapi import FastAPI

from session_middleware import SessionMiddleware
from session_middleware.integrations.fastapi import SessionDep, UserDep

SECRET_KEY = os.environ.get("SESSION_SECRET_KEY") or secrets.token_urlsafe(48)

app = FastAPI()
app.add_middleware(SessionMiddleware, secret_key=SECRET_KEY, api_path="/sessions")


@app.get("/")
async def home(session: SessionDep) -> dict[str, Any]:
    session["visits"] = session.get("visits", 0) + 1
    return {"user": session.user, "visits": session["visits"]}


@app.post("/login")
async def login(session: SessionDep, name: str = "guest") -> dict[str, Any]:
    session.login({"id": name.lower(), "name": name})
    return {"user": session.user}


@app.get("/me")
async def me(user: UserDep) -> dict[str, Any]:
    return user  # 401 before we get here when nobody is signed in


@app.post("/logout")
async def logout(session: SessionDep) -> dict[str, Any]:
    session.logout()
    return {"user": None}
