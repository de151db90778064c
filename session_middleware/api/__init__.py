"""The ``/sessions`` REST API (protocol v1) over a session store, as an ASGI or WSGI app.

Mount ``create_asgi_app(store, ...)`` or ``create_wsgi_app(store, ...)`` yourself, or give
the session middleware ``api_path=`` to mount it in front of your app. The protocol-neutral
request and response (:class:`ApiRequest`, :class:`ApiResponse`) are public so that other
frameworks' adapters (Django's views, say) serve the same API.
"""

from __future__ import annotations

from ._asgi import SessionsAPI as SessionsAPI
from ._asgi import create_asgi_app as create_asgi_app
from ._asgi import request_from_scope as request_from_scope
from ._asgi import send_response as send_response
from ._core import ApiOptions as ApiOptions
from ._errors import ApiError as ApiError
from ._http import ApiRequest as ApiRequest
from ._http import ApiResponse as ApiResponse
from ._http import json_response as json_response
from ._openapi import openapi as openapi
from ._wsgi import WSGISessionsAPI as WSGISessionsAPI
from ._wsgi import create_wsgi_app as create_wsgi_app

__all__ = [
    "ApiError",
    "ApiOptions",
    "ApiRequest",
    "ApiResponse",
    "SessionsAPI",
    "WSGISessionsAPI",
    "create_asgi_app",
    "create_wsgi_app",
    "json_response",
    "openapi",
    "request_from_scope",
    "send_response",
]
