"""The ``/sessions`` REST API (protocol v1): an ASGI or WSGI sub-app over a session store.

Mount ``create_asgi_app(store, ...)`` or ``create_wsgi_app(store, ...)`` yourself, let
the session middleware mount it at ``api_path``, or run ``python -m sessions_api``, the
standalone service. The implementation lives in :mod:`session_middleware.api`; this
package is its public face, with the service and the REST client.
"""

from __future__ import annotations

from session_middleware.api import ApiOptions as ApiOptions
from session_middleware.api import ApiRequest as ApiRequest
from session_middleware.api import ApiResponse as ApiResponse
from session_middleware.api import create_asgi_app as create_asgi_app
from session_middleware.api import create_wsgi_app as create_wsgi_app
from session_middleware.api import openapi as openapi

__all__ = ["ApiOptions", "ApiRequest", "ApiResponse", "create_asgi_app", "create_wsgi_app", "openapi"]
