"""The per-value tagged JSON codec: Flask's types round-trip, the store only ever sees strict JSON."""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from session_middleware.integrations._flask_codec import TaggedJSONCodec

codec = TaggedJSONCodec()


def strict_json(text: str) -> Any:
    def refuse(constant: str) -> Any:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.binary(max_size=20),
    st.text(max_size=20).map(Markup),
    st.uuids(),
    # Flask tags datetimes as HTTP dates: whole seconds, UTC; Werkzeug 3.0 reads a year below 100 as 19xx.
    st.datetimes(min_value=datetime(1900, 1, 1), timezones=st.just(UTC)).map(lambda d: d.replace(microsecond=0)),
)
#: Keys that look like Flask's tags, which the serializer must escape.
TAG_LIKE_KEYS = st.sampled_from([" t", " di", " b", "a", "b__", " m"])
values = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(TAG_LIKE_KEYS | st.text(max_size=5), inner, max_size=3),
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(values)
def test_every_flask_value_round_trips_through_strict_json(value: Any) -> None:
    text = codec.encode("key", value)
    strict_json(text)  # what a store and the REST API see is plain JSON
    decoded = codec.decode(text)
    assert decoded == value
    assert type(decoded) is type(value)


def test_tags_are_flasks_own() -> None:
    assert codec.encode("k", (1, 2)) == '{" t":[1,2]}'
    assert codec.encode("k", b"\xff") == '{" b":"/w=="}'
    assert codec.encode("k", Markup("<b>")) == '{" m":"<b>"}'
    assert codec.encode("k", uuid.UUID(int=1)) == '{" u":"00000000000000000000000000000001"}'
    assert codec.encode("k", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == '{" d":"Fri, 02 Jan 2026 03:04:05 GMT"}'
    assert codec.encode("k", {" t": "x"}) == '{" di":{" t__":"x"}}'


def test_plain_json_is_stored_as_plain_json() -> None:
    assert codec.encode("k", {"a": [1, "é"]}) == '{"a":[1,"é"]}'
    assert codec.decode('{"a":[1,"é"]}') == {"a": [1, "é"]}


def test_what_flasks_json_provider_converts_is_stored_converted() -> None:
    assert codec.decode(codec.encode("k", Decimal("1.50"))) == "1.50"


@pytest.mark.parametrize("value", [object(), {1, 2}, math.nan, math.inf, [math.nan]])
def test_anything_else_is_a_type_error_naming_the_key(value: Any) -> None:
    with pytest.raises(TypeError, match="'cart'"):
        codec.encode("cart", value)


def test_keys_must_be_strings() -> None:
    with pytest.raises(TypeError, match="keys must be str"):
        codec.encode(3, "x")
