"""The ``/sessions`` REST API (protocol v1): an ASGI or WSGI sub-app over a session store.

Mount ``create_asgi_app(store, ...)`` or ``create_wsgi_app(store, ...)`` yourself, let
the session middleware mount it at ``api_path``, or run ``python -m sessions_api``.
"""

from __future__ import annotations

from .asgi import create_asgi_app as create_asgi_app
from .openapi import openapi as openapi
from .wsgi import create_wsgi_app as create_wsgi_app

__all__ = ["create_asgi_app", "create_wsgi_app", "openapi"]
