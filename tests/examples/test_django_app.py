"""The Django example site runs under WSGI and ASGI and does what its docstring says.

Django's settings are process-wide, so the example runs in a process of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCENARIO = r"""
import asyncio, json
import django
django.setup()
from django.core.management import call_command
from django.test import AsyncClient, Client

call_command("migrate", verbosity=0)


def browse(client, run):
    def call(method, path):
        response = run(getattr(client, method)(path))
        return response.status_code, (json.loads(response.content) if response.content else None)
    return call


def scenario(make, run):
    phone, laptop = browse(make(), run), browse(make(), run)
    assert phone("get", "/") == (200, {"user": None, "visits": 1})
    assert phone("get", "/") == (200, {"user": None, "visits": 2})
    status, body = phone("post", "/login?name=Ada")
    user = body["user"]
    assert status == 200 and user["name"] == "ada", body
    assert phone("get", "/")[1] == {"user": user, "visits": 3}  # the visit count survives the login
    laptop("post", "/login?name=Ada")
    status, listed = phone("get", "/sessions/" + user["id"])
    assert status == 200 and len(listed) == 2 and all(not s.get("data") for s in listed), listed
    status, devices = phone("get", "/devices")
    assert [d["current"] for d in devices["devices"]].count(True) == 1
    assert phone("post", "/devices/sign-out-others") == (200, {"closed": 1})
    assert laptop("get", "/")[1]["user"] is None
    assert phone("post", "/logout") == (200, {"user": None})
    assert phone("get", "/")[1]["user"] is None
    assert phone("get", "/sessions/" + user["id"])[0] == 401


scenario(Client, lambda response: response)

# A browser's POST passes Django's CSRF check with the token GET / handed out, and only so.
strict = Client(enforce_csrf_checks=True)
strict.get("/")
assert strict.post("/login?name=Eve").status_code == 403
token = strict.cookies["csrftoken"].value
assert strict.post("/login?name=Eve", headers={"x-csrftoken": token}).status_code == 200

with asyncio.Runner() as runner:
    scenario(AsyncClient, runner.run)
print("ok")
"""


def test_the_django_example_runs_under_wsgi_and_asgi() -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "examples.django_app.settings",
        "DJANGO_APP_DATABASE": "file:django-example?mode=memory&cache=shared",
    }
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", SCENARIO], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("ok")
