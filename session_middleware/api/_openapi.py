"""The OpenAPI 3.1 description of protocol v1, as this package serves it."""

from __future__ import annotations

import copy
from typing import Any

from .._client_info import MAX_ADDRESS_LENGTH, MAX_CLIENT_LENGTH
from ..records import SESSION_ID_LENGTH, TAGGED_SESSION_ID_LENGTH
from ._errors import CODES
from ._validation import MAX_CORRELATION_ID_LENGTH, MAX_USER_ID_LENGTH, MAX_USER_NAME_LENGTH


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _error(description: str, **headers: str) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": _json(_ref("Error"))}
    if headers:
        response["headers"] = {
            name: {"description": text, "required": True, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    return response


def _errors(*statuses: int) -> dict[str, Any]:
    texts = {
        400: _error("Invalid parameters or body (see `code`)."),
        401: _error("No valid credentials.", **{"WWW-Authenticate": "Bearer challenge."}),
        403: _error("The caller may not do this (or the request came cross-site)."),
        404: _error("No such route, or `SESSION_NOT_FOUND`."),
        405: _error("Method not allowed.", Allow="The methods the route allows."),
        413: _error("Body larger than the limit."),
        415: _error("Body is not `application/json`."),
        503: _error("The session store is unavailable.", **{"Retry-After": "Seconds to wait."}),
    }
    responses = {str(status): texts[status] for status in statuses}
    responses["default"] = _error("Any other error, in the standard format.")
    return responses


_SESSION_ID = {
    "type": "string",
    "pattern": f"^([A-Za-z0-9_-]{{{SESSION_ID_LENGTH}}}|[A-Za-z0-9_-]{{{TAGGED_SESSION_ID_LENGTH}}})$",
}
_USER_ID = {"type": "string", "minLength": 1, "maxLength": MAX_USER_ID_LENGTH, "pattern": "^[^/]+$"}
_TEXT = {"type": "string", "minLength": 1, "pattern": r"\S"}
_NULLABLE_TEXT = {"type": ["string", "null"]}

_SCHEMAS: dict[str, Any] = {
    "User": {
        "type": "object",
        "required": ["id"],
        "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
    },
    "UserInput": {
        "type": "object",
        "required": ["id"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "minLength": 1, "maxLength": MAX_USER_ID_LENGTH},
            "name": {"type": "string", "maxLength": MAX_USER_NAME_LENGTH},
        },
    },
    "Session": {
        "type": "object",
        "description": "An open session. `data` is left out for a user reading their own sessions.",
        "required": ["id", "opened", "last_request", "address", "client", "user"],
        "properties": {
            "id": {**_SESSION_ID, "description": "The session's public handle."},
            "opened": {"type": "string", "format": "date-time"},
            "last_request": {"type": "string", "format": "date-time"},
            "address": {"type": "string"},
            "client": {"type": "string"},
            "user": {"anyOf": [_ref("User"), {"type": "null"}]},
            "data": {"type": "object"},
        },
    },
    "OpenRequest": {
        "type": "object",
        "required": ["user", "address", "client"],
        "additionalProperties": False,
        "properties": {
            "user": _ref("UserInput"),
            "address": {**_TEXT, "maxLength": MAX_ADDRESS_LENGTH},
            "client": {**_TEXT, "maxLength": MAX_CLIENT_LENGTH},
            "data": {"type": "object"},
        },
    },
    "DataRequest": {
        "type": "object",
        "required": ["data"],
        "additionalProperties": False,
        "properties": {"data": {"type": "object"}},
    },
    "Error": {
        "type": "object",
        "description": "The standard error format.",
        "required": [
            "type",
            "category",
            "status",
            "code",
            "message",
            "details",
            "correlation_id",
            "cause",
            "stack_trace",
        ],
        "properties": {
            "type": {"type": "string"},
            "category": {"type": "string"},
            "status": {"type": "integer"},
            "code": {"type": "string", "enum": sorted(CODES)},
            "message": {"type": "string"},
            "details": {"type": ["object", "null"]},
            "correlation_id": _NULLABLE_TEXT,
            "cause": _NULLABLE_TEXT,
            "stack_trace": _NULLABLE_TEXT,
        },
    },
}

_PARAMS: dict[str, Any] = {
    "user_id": {"name": "user_id", "in": "path", "required": True, "schema": _USER_ID},
    "session_id": {"name": "session_id", "in": "query", "schema": _SESSION_ID},
    "address": {"name": "address", "in": "query", "schema": {**_TEXT, "maxLength": MAX_ADDRESS_LENGTH}},
    "client": {"name": "client", "in": "query", "schema": {**_TEXT, "maxLength": MAX_CLIENT_LENGTH}},
    "correlation_id": {
        "name": "correlation_id",
        "in": "query",
        "description": "Echoed in errors and the `X-Correlation-Id` response header.",
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_CORRELATION_ID_LENGTH, "pattern": "^[!-~]+$"},
    },
}


def _params(*names: str) -> list[dict[str, Any]]:
    return [{"$ref": f"#/components/parameters/{name}"} for name in names]


def openapi(prefix: str = "/sessions") -> dict[str, Any]:
    """The OpenAPI 3.1 document of the REST API mounted at ``prefix``."""
    no_content = {"204": {"description": "Done."}}
    document = {
        "openapi": "3.1.0",
        "info": {
            "title": "Sessions API",
            "version": "1.0.0",
            "description": "Protocol v1: list, read, open, update and close users' server-side sessions.",
        },
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        "paths": {
            prefix: {
                "post": {
                    "operationId": "openSession",
                    "summary": "Open a session for a user (admin); reuses one from the same address and client.",
                    "parameters": _params("correlation_id"),
                    "requestBody": {"required": True, "content": _json(_ref("OpenRequest"))},
                    "responses": {
                        "201": {"description": "The session.", "content": _json(_ref("Session"))},
                        **_errors(400, 401, 403, 413, 415, 503),
                    },
                },
            },
            prefix + "/{user_id}": {
                "parameters": _params("user_id"),
                "get": {
                    "operationId": "getSessions",
                    "summary": "The user's open sessions, or the one named by session_id (refreshing it).",
                    "parameters": _params("session_id", "correlation_id"),
                    "responses": {
                        "200": {
                            "description": "An array of sessions by `opened`, or one session.",
                            "content": _json({"anyOf": [{"type": "array", "items": _ref("Session")}, _ref("Session")]}),
                        },
                        **_errors(400, 401, 403, 404, 503),
                    },
                },
                "post": {
                    "operationId": "updateSessionData",
                    "summary": "Replace a session's data (admin).",
                    "parameters": [{**_PARAMS["session_id"], "required": True}, *_params("correlation_id")],
                    "requestBody": {"required": True, "content": _json(_ref("DataRequest"))},
                    "responses": {**no_content, **_errors(400, 401, 403, 404, 413, 415, 503)},
                },
                "delete": {
                    "operationId": "closeSessions",
                    "summary": "Close a session by id, or the sessions matching address and/or client.",
                    "parameters": _params("session_id", "address", "client", "correlation_id"),
                    "responses": {**no_content, **_errors(400, 401, 403, 404, 503)},
                },
            },
        },
        "components": {
            "schemas": _SCHEMAS,
            "parameters": _PARAMS,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "description": "`api_token`: full access."},
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "session",
                    "description": "The caller's own session cookie: read and close that user's sessions.",
                },
            },
        },
    }
    return copy.deepcopy(document)  # callers may edit their copy freely
