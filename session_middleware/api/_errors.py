"""The REST API's errors and their standard JSON format (protocol v1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Each error code with its HTTP status and default message.
CODES: Mapping[str, tuple[int, str]] = {
    "BAD_REQUEST": (400, "The request is malformed."),
    "BAD_JSON": (400, "The body is not a valid JSON object."),
    "BAD_DATA": (400, "Session data must be a JSON object within the size limits."),
    "BAD_FIELD": (400, "A body field is unknown or has the wrong type or value."),
    "BAD_PARAMETER": (400, "A path or query parameter is invalid, repeated, unknown or conflicting."),
    "NO_USER": (400, "The body has no user."),
    "NO_USER_ID": (400, "The user has no id."),
    "NO_ADDRESS": (400, "The client address is missing."),
    "NO_CLIENT": (400, "The client application name is missing."),
    "NO_SESSION_ID": (400, "The session_id parameter (or another selector) is missing."),
    "UNAUTHORIZED": (401, "Authentication is required."),
    "FORBIDDEN": (403, "This operation is not allowed for the caller."),
    "NOT_FOUND": (404, "No such route."),
    "SESSION_NOT_FOUND": (404, "No such open session for this user."),
    "METHOD_NOT_ALLOWED": (405, "The method is not allowed on this route."),
    "BODY_TOO_LARGE": (413, "The request body is too large."),
    "UNSUPPORTED_MEDIA_TYPE": (415, "The body must be application/json (UTF-8)."),
    "INTERNAL_ERROR": (500, "The server failed to handle the request."),
    "STORE_UNAVAILABLE": (503, "The session store is unavailable; retry shortly."),
}

# The protocol's error "type" and "category" per status (protocol v1, docs/rest-api.md).
_KINDS: Mapping[int, tuple[str, str]] = {
    400: ("BadRequestException", "BadRequest"),
    401: ("UnauthorizedException", "Unauthorized"),
    403: ("UnauthorizedException", "Unauthorized"),
    404: ("NotFoundException", "NotFound"),
    405: ("UnsupportedException", "Unsupported"),
    413: ("BadRequestException", "BadRequest"),
    415: ("UnsupportedException", "Unsupported"),
    500: ("InternalException", "Internal"),
    503: ("ConnectionException", "NoResponse"),
}


class ApiError(Exception):
    """A request the API refuses: becomes a standard error response.

    :param code: one of :data:`CODES`, which gives the status.
    :param message: replaces the code's default message; never put request values in it.
    :param details: a small JSON object helping the caller (field or parameter names).
    :param headers: extra response headers (``Allow``, ``WWW-Authenticate``...).
    """

    def __init__(
        self,
        code: str,
        message: str | None = None,
        *,
        details: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        status, default = CODES[code]
        super().__init__(message or default)
        self.code = code
        self.status = status
        self.message = message or default
        self.details = dict(details) if details else None
        self.headers = dict(headers or {})


def error_body(
    error: ApiError,
    correlation_id: str | None,
    *,
    cause: str | None = None,
    stack_trace: str | None = None,
) -> dict[str, Any]:
    """The standard error object; ``cause`` and ``stack_trace`` are only given when debugging."""
    kind, category = _KINDS[error.status]
    return {
        "type": kind,
        "category": category,
        "status": error.status,
        "code": error.code,
        "message": error.message,
        "details": error.details,
        "correlation_id": correlation_id,
        "cause": cause,
        "stack_trace": stack_trace,
    }
