"""Django settings for the Django integration's tests, applied with ``settings.configure()``."""

from __future__ import annotations

from typing import Any

SECRET_KEY = "django-tests-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
#: A shared in-memory SQLite database: every thread's connection sees the same tables.
DATABASE_NAME = "file:session-middleware-django?mode=memory&cache=shared"

SETTINGS: dict[str, Any] = {
    "DEBUG": False,
    "SECRET_KEY": SECRET_KEY,
    "ALLOWED_HOSTS": ["testserver", "localhost", "127.0.0.1"],
    "INSTALLED_APPS": [
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.messages",
        "django.contrib.sessions",
    ],
    "TEMPLATES": [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "APP_DIRS": True,
            "OPTIONS": {
                "context_processors": [
                    "django.template.context_processors.request",
                    "django.contrib.auth.context_processors.auth",
                    "django.contrib.messages.context_processors.messages",
                ]
            },
        }
    ],
    "DATABASES": {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATABASE_NAME}},
    "CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}},
    "SESSION_ENGINE": "session_middleware.integrations.django",
    "MIDDLEWARE": [
        "session_middleware.integrations.django.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
    ],
    "ROOT_URLCONF": "tests.integrations.django.urls",
    "USE_TZ": True,
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
    "DEFAULT_AUTO_FIELD": "django.db.models.AutoField",
    "LOGGING_CONFIG": None,
}
