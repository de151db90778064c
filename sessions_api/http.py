"""The protocol-neutral request and response the drivers exchange with the API core."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from session_middleware.session import Session

#: Headers on every response: API answers are per-caller and must never be cached or sniffed.
BASE_HEADERS: tuple[tuple[str, str], ...] = (
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
)
JSON_TYPE = "application/json"

_encoder = json.JSONEncoder(ensure_ascii=True, allow_nan=False, separators=(",", ":"))


def header_map(pairs: Iterable[tuple[str, str]]) -> Mapping[str, str]:
    """Headers by lower-case name, repeated fields joined with ``", "`` (RFC 9110), read-only."""
    headers: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return MappingProxyType(headers)


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """One request, as the API core sees it; also what ``api_authorize`` receives.

    :param method: upper-case HTTP method.
    :param path: the path inside the mount (``""`` or starting with ``/``), decoded.
    :param root_path: the mount's own path (``/sessions``, ``/admin/sessions``...).
    :param query_string: the raw query string, undecoded.
    :param headers: read-only, lower-case names.
    :param session: the caller's own :class:`~session_middleware.Session` when the
        session middleware runs in front of the API, else ``None``.
    :param scheme: ``http`` or ``https``.
    :param body: the request body (already bounded by the driver).
    """

    method: str
    path: str
    root_path: str = ""
    query_string: bytes = b""
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    session: Session | None = None
    scheme: str = "http"
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class ApiResponse:
    """What a driver sends: status, headers (without the common ones) and body bytes."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def final_headers(self, *, correlation_id: str | None) -> list[tuple[str, str]]:
        """Every header to send, Content-Length and the hygiene headers included."""
        headers = list(BASE_HEADERS) + list(self.headers)
        if self.status != 204:
            headers.append(("Content-Length", str(len(self.body))))
        if correlation_id is not None:
            headers.append(("X-Correlation-Id", correlation_id))
        return headers


def json_response(status: int, value: Any, headers: Iterable[tuple[str, str]] = ()) -> ApiResponse:
    """A JSON response; output is ASCII-escaped, so any stored string encodes safely."""
    body = _encoder.encode(value).encode("ascii")
    return ApiResponse(status, (("Content-Type", JSON_TYPE), *headers), body)


def no_content() -> ApiResponse:
    return ApiResponse(204)
