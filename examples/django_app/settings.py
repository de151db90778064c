"""Settings of the example site: Django's usual ones, with this package's session engine."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = os.environ.get("SESSION_SECRET_KEY") or secrets.token_urlsafe(48)
DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
]
MIDDLEWARE = [
    # In place of django.contrib.sessions.middleware.SessionMiddleware:
    "session_middleware.integrations.django.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "examples.django_app.urls"
WSGI_APPLICATION = "examples.django_app.wsgi.application"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DJANGO_APP_DATABASE") or str(BASE_DIR / "db.sqlite3"),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True

SESSION_ENGINE = "session_middleware.integrations.django"
SESSION_MIDDLEWARE: dict[str, Any] = {
    "store": os.environ.get("REDIS_URL") or "memory",
    "idle_timeout": 24 * 3600,
    # Switching from Django's database sessions? Keep everybody signed in:
    # "migrate_from": "django.contrib.sessions.backends.db",  (and keep django.contrib.sessions installed)
}
