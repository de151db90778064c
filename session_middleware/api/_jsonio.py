"""JSON in and out: a strict body parser and the protocol's Session object."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from ..records import SessionRecord
from ._errors import ApiError

#: Deepest nesting accepted in a body (the body object itself is level 1).
MAX_DEPTH = 32
#: Longest integer literal accepted, whatever the interpreter's own limit.
MAX_INT_DIGITS = 4300


class _Rejected(ValueError):
    """A JSON text that parses but breaks this API's stricter rules."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _Rejected("duplicate key in a JSON object")
    return obj


def _constant(name: str) -> Any:
    raise _Rejected(f"{name} is not JSON")


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _Rejected("integer too long")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Rejected("number out of range")
    return value


_decoder = json.JSONDecoder(
    object_pairs_hook=_pairs, parse_constant=_constant, parse_int=_int, parse_float=_float, strict=True
)


def parse_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or :class:`ApiError` ``BAD_JSON``.

    Rejected as well as malformed JSON: invalid UTF-8 (and a BOM), duplicate keys in any
    object, NaN and infinities, numbers beyond float range, integers over
    :data:`MAX_INT_DIGITS` digits, strings with lone surrogates, nesting deeper than
    :data:`MAX_DEPTH`, and any top-level value that is not an object.
    """
    try:
        text = body.decode("utf-8")
        value = _decoder.decode(text)
    except UnicodeDecodeError:
        raise ApiError("BAD_JSON", "The body is not valid UTF-8.") from None
    except _Rejected as exc:
        raise ApiError("BAD_JSON", f"The body is not acceptable JSON: {exc}.") from None
    except (ValueError, RecursionError):
        raise ApiError("BAD_JSON", "The body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise ApiError("BAD_JSON", "The body must be a JSON object.")
    _check_tree(value)
    return value


def _check_tree(root: dict[str, Any]) -> None:
    # Iterative, so the check itself cannot run out of stack on what the parser accepted.
    stack: list[tuple[Any, int]] = [(root, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            _check_text(value)
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise ApiError("BAD_JSON", f"The body is nested deeper than {MAX_DEPTH} levels.")
            if isinstance(value, dict):
                for key, item in value.items():
                    _check_text(key)
                    stack.append((item, depth + 1))
            else:
                stack.extend((item, depth + 1) for item in value)


def _check_text(text: str) -> None:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ApiError("BAD_JSON", "The body has a string with a lone surrogate.") from None


def iso_utc(timestamp: float) -> str:
    """ISO 8601 in UTC with milliseconds and ``Z``: ``2026-01-31T12:00:00.000Z``."""
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def session_json(record: SessionRecord, *, with_data: bool = True) -> dict[str, Any]:
    """The protocol's Session object; ``data`` is left out for callers who may not read it."""
    obj: dict[str, Any] = {
        "id": record.id,
        "opened": iso_utc(record.opened),
        "last_request": iso_utc(record.last_request),
        "address": record.address,
        "client": record.client,
        "user": None if record.user is None else dict(record.user),
    }
    if with_data:
        obj["data"] = record.decoded_data()
    return obj
