"""Checks on every value a request carries, done before any store access."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.http import parse_options_header

from .._client_info import MAX_ADDRESS_LENGTH, MAX_CLIENT_LENGTH, normalize_address
from ..records import encode_value, is_session_id
from ._errors import ApiError
from ._http import JSON_TYPE, ApiRequest

MAX_USER_ID_LENGTH = 256
MAX_USER_NAME_LENGTH = 256
#: Largest session data accepted, as the sum of its keys' and values' JSON in UTF-8.
MAX_DATA_BYTES = 64 * 1024
MAX_DATA_KEYS = 1000
MAX_QUERY_FIELDS = 16
MAX_CORRELATION_ID_LENGTH = 128


def query_params(request: ApiRequest, allowed: Collection[str]) -> dict[str, str]:
    """The query parameters, each at most once, all among ``allowed``.

    :raises ApiError: ``BAD_PARAMETER`` for undecodable, repeated or unknown parameters.
    """
    try:
        pairs = _parse_query(request.query_string)
    except ValueError:
        raise ApiError("BAD_PARAMETER", "The query string cannot be decoded.") from None
    params: dict[str, str] = {}
    for name, value in pairs:
        if name not in allowed:
            raise ApiError("BAD_PARAMETER", "Unknown query parameter.", details={"parameter": name[:64]})
        if name in params:
            raise ApiError("BAD_PARAMETER", "Repeated query parameter.", details={"parameter": name})
        params[name] = value
    return params


def _parse_query(query: bytes) -> list[tuple[str, str]]:
    # UnicodeDecodeError is a ValueError: raw and percent-encoded bytes must both be UTF-8.
    text = query.decode("utf-8")
    return parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=MAX_QUERY_FIELDS)


def correlation_id(request: ApiRequest) -> str | None:
    """The caller's correlation id (``?correlation_id=`` first, then ``X-Correlation-Id``),
    if it is a short printable token; anything else is ignored rather than echoed."""
    candidates: list[str] = []
    try:
        pairs = _parse_query(request.query_string)
        candidates += [value for name, value in pairs if name == "correlation_id"][:1]
    except ValueError:
        pass
    header = request.headers.get("x-correlation-id")
    if header is not None:
        candidates.append(header)
    for value in candidates:
        if 0 < len(value) <= MAX_CORRELATION_ID_LENGTH and value.isascii() and value.isprintable():
            return value
    return None


def user_id(value: str) -> str:
    """A user id from the path: the rule :func:`~session_middleware.records.validate_user` applies."""
    if not value or len(value) > MAX_USER_ID_LENGTH or not value.isprintable():
        raise ApiError("BAD_PARAMETER", "Invalid user id.", details={"parameter": "user_id"})
    return value


def session_id(params: Mapping[str, str], *, required: bool) -> str | None:
    """The ``session_id`` parameter: absent (unless required) or the exact shape of an id."""
    value = params.get("session_id")
    if value is None and not required:
        return None
    if not value:
        raise ApiError("NO_SESSION_ID")
    if not is_session_id(value):
        raise ApiError("BAD_PARAMETER", "Invalid session id.", details={"parameter": "session_id"})
    return value


def address(value: Any, *, where: str, missing: str = "NO_ADDRESS") -> str:
    """A client address: non-empty printable text; IP addresses in canonical form."""
    text = _text(value, where=where, missing=missing, limit=MAX_ADDRESS_LENGTH)
    return normalize_address(text)


def client(value: Any, *, where: str) -> str:
    return _text(value, where=where, missing="NO_CLIENT", limit=MAX_CLIENT_LENGTH)


def _text(value: Any, *, where: str, missing: str, limit: int) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ApiError(missing)
    if not isinstance(value, str):
        raise ApiError("BAD_FIELD", f"{where} must be a string.", details={"field": where})
    if len(value) > limit or not value.isprintable():
        message = f"{where} must be printable text of at most {limit} characters."
        raise ApiError("BAD_FIELD", message, details={"field": where})
    return value


def user(value: Any) -> dict[str, str]:
    """The ``user`` of a body: ``{"id": str, "name"?: str}`` and nothing else."""
    if value is None:
        raise ApiError("NO_USER")
    if not isinstance(value, dict):
        raise ApiError("BAD_FIELD", "user must be an object.", details={"field": "user"})
    unknown = set(value) - {"id", "name"}
    if unknown:
        raise ApiError("BAD_FIELD", "user has unknown fields.", details={"field": "user." + min(unknown)[:64]})
    uid = value.get("id")
    if uid is None or uid == "":
        raise ApiError("NO_USER_ID")
    if not isinstance(uid, str) or len(uid) > MAX_USER_ID_LENGTH or not uid.isprintable():
        raise ApiError("BAD_FIELD", "user.id must be 1 to 256 printable characters.", details={"field": "user.id"})
    checked = {"id": uid}
    name = value.get("name")
    if name is not None:
        if not isinstance(name, str) or len(name) > MAX_USER_NAME_LENGTH or not name.isprintable():
            raise ApiError("BAD_FIELD", "user.name must be printable text.", details={"field": "user.name"})
        checked["name"] = name
    return checked


def data(value: Any) -> dict[str, str]:
    """Session data (a JSON object) encoded per key, within the size limits."""
    if not isinstance(value, dict):
        raise ApiError("BAD_DATA", "data must be a JSON object.")
    if len(value) > MAX_DATA_KEYS:
        raise ApiError("BAD_DATA", f"data has more than {MAX_DATA_KEYS} keys.")
    encoded = {key: encode_value(key, item) for key, item in value.items()}
    size = sum(len(key.encode()) + len(text.encode()) for key, text in encoded.items())
    if size > MAX_DATA_BYTES:
        raise ApiError("BAD_DATA", f"data is larger than {MAX_DATA_BYTES} bytes.")
    return encoded


def body_fields(body: Mapping[str, Any], allowed: Collection[str]) -> None:
    """Refuse fields a route does not define (no mass assignment of internal fields)."""
    unknown = set(body) - set(allowed)
    if unknown:
        raise ApiError("BAD_FIELD", "Unknown body field.", details={"field": min(unknown)[:64]})


def require_json(request: ApiRequest) -> None:
    """Only ``application/json``, optionally with ``charset=utf-8``, is read as a body."""
    mimetype, options = parse_options_header(request.headers.get("content-type", ""))
    charset = options.get("charset", "utf-8").lower()
    if mimetype.lower() != JSON_TYPE or charset not in ("utf-8", "utf8"):
        raise ApiError("UNSUPPORTED_MEDIA_TYPE")
