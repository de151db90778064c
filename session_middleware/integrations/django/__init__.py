"""Django: the session engine, the middleware and the ``/sessions`` REST API's URLconf.

::

    SESSION_ENGINE = "session_middleware.integrations.django"
    MIDDLEWARE = [..., "session_middleware.integrations.django.SessionMiddleware", ...]
    SESSION_MIDDLEWARE = {"store": "redis://127.0.0.1:6379/0"}  # optional: memory by default

    urlpatterns = [path("sessions/", include("session_middleware.integrations.django.urls"))]

See ``docs/django.md``.
"""

from __future__ import annotations

try:
    import django
except ModuleNotFoundError as exc:  # pragma: no cover - exercised without the extra
    raise ImportError(
        'session_middleware.integrations.django needs Django: pip install "session-middleware[django]"', name="django"
    ) from exc
if django.VERSION < (5, 1):  # pragma: no cover
    raise ImportError("session_middleware.integrations.django needs Django 5.1 or later (its async session API)")

from .auth import aclose_other_sessions as aclose_other_sessions
from .auth import aupdate_session_auth_hash as aupdate_session_auth_hash
from .auth import close_other_sessions as close_other_sessions
from .auth import update_session_auth_hash as update_session_auth_hash
from .engine import SessionStore as SessionStore
from .middleware import SessionMiddleware as SessionMiddleware

__all__ = [
    "SessionMiddleware",
    "SessionStore",
    "aclose_other_sessions",
    "aupdate_session_auth_hash",
    "close_other_sessions",
    "update_session_auth_hash",
]
