"""Session values in Flask's tagged JSON, one value at a time, so the store still holds JSON.

Flask's cookie session serializes the whole session with
:class:`flask.json.tag.TaggedJSONSerializer`, which carries tuples, bytes, ``Markup``,
``UUID`` and ``datetime`` as one-key JSON objects (``{" t": [1, 2]}``). This codec applies
the same tags to each value on its own: every key of a stored session is still one JSON
text (what the REST API shows), nothing is ever pickled, and a value reads back as the
type Flask would have given the app.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import current_app
from flask.json.provider import DefaultJSONProvider
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import session_json_serializer

from ..records import decode_value

#: What Flask's default JSON provider turns into JSON (``date``, ``Decimal``, dataclasses).
_FLASK_DEFAULT: Callable[[Any], Any] = DefaultJSONProvider.default


def _provider_default() -> Callable[[Any], Any]:
    """The ``default`` of the current app's JSON provider: Flask's cookie session encodes
    with ``app.json``, so an app that taught it a type can keep storing that type."""
    if current_app:
        default: Callable[[Any], Any] | None = getattr(current_app.json, "default", None)
        if callable(default):
            return default
    return _FLASK_DEFAULT


class TaggedJSONCodec:
    """Encodes and decodes one session value with Flask's tagged JSON.

    :param serializer: the tagging serializer; defaults to the one Flask's own cookie
        session uses, so tags an app registered there (``register(TagOrderedDict)``) apply.
    """

    __slots__ = ("serializer",)

    def __init__(self, serializer: TaggedJSONSerializer | None = None) -> None:
        self.serializer = session_json_serializer if serializer is None else serializer

    def encode(self, key: object, value: Any) -> str:
        """Compact, strict JSON text for ``value``.

        :raises TypeError: naming ``key`` when the key is not a string or the value has no
            JSON form (not even a tagged one), including NaN and the infinities.
        """
        if not isinstance(key, str):
            raise TypeError(f"session keys must be str, not {type(key).__name__}: {key!r}")
        try:
            tagged = self.serializer.tag(value)
            return json.dumps(
                tagged, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_provider_default()
            )
        except (TypeError, ValueError, RecursionError) as exc:
            raise TypeError(f"session value for key {key!r} is not JSON serializable: {exc}") from None

    def decode(self, text: str) -> Any:
        """The value ``encode`` wrote, tags turned back into their Python types."""
        if "{" not in text:
            return decode_value(text)  # no JSON object, so no tag: the plain (fast) decoder
        return self.serializer.loads(text)
