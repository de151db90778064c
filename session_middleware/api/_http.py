"""The protocol-neutral request and response the drivers exchange with the API core."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .._request import RequestView
from .._session import Session
from ..events import SessionEvent

#: Headers on every response: API answers are per-caller and must never be cached or sniffed.
BASE_HEADERS: tuple[tuple[str, str], ...] = (
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
)
JSON_TYPE = "application/json"

_encoder = json.JSONEncoder(ensure_ascii=True, allow_nan=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """One request, as the API core sees it; also what ``api_authorize`` receives.

    :param method: upper-case HTTP method.
    :param path: the path inside the mount (``""`` or starting with ``/``), decoded.
    :param root_path: the mount's own path (``/sessions``, ``/admin/sessions``...).
    :param query_string: the raw query string, undecoded.
    :param headers: read-only, lower-case names.
    :param session: the caller's own session (a :class:`~session_middleware.Session`
        when the session middleware runs in front of the API), else ``None``.
    :param user_id: the id of the user the caller's own session is logged in as, else
        ``None``: it may list and close that user's sessions.
    :param scheme: ``http`` or ``https``.
    :param body: the request body (already bounded by the driver).
    """

    method: str
    path: str
    root_path: str = ""
    query_string: bytes = b""
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    session: Mapping[str, Any] | None = None
    user_id: str | None = None
    scheme: str = "http"
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class ApiResponse:
    """A response: status, headers and body bytes (``ApiCore.finish`` adds the common headers)."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    #: Lifecycle events the driver emits once the response is decided (never sent).
    events: tuple[SessionEvent, ...] = ()


def json_response(status: int, value: Any, headers: Iterable[tuple[str, str]] = ()) -> ApiResponse:
    """A JSON response; output is ASCII-escaped, so any stored string encodes safely."""
    body = _encoder.encode(value).encode("ascii")
    return ApiResponse(status, (("Content-Type", JSON_TYPE), *headers), body)


def no_content() -> ApiResponse:
    return ApiResponse(204)


def api_request(view: RequestView, session: object = None) -> ApiRequest:
    """The API's request for a request view; ``session`` is whatever the session middleware
    left in the scope or environ (the caller's own session), if anything."""
    own = session if isinstance(session, Session) else None
    return ApiRequest(
        method=view.method,
        path=view.path,
        root_path=view.root_path,
        query_string=view.query_string,
        headers=view.headers,
        session=own,
        user_id=None if own is None else own.user_id,
        scheme=view.scheme,
    )
