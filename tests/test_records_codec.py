"""Stored values decode exactly as ``json.loads`` decodes them, whatever the text."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from session_middleware.records import decode_value


def _loads(text: str) -> tuple[bool, Any]:
    try:
        return True, json.loads(text)
    except ValueError:
        return False, None


# Texts that look like JSON strings (quotes at both ends) with anything between, raw
# control characters, quotes and backslashes included: where a shortcut could go wrong.
quoted = st.builds(lambda inner: f'"{inner}"', st.text())


@given(st.one_of(st.text(), quoted))
def test_any_text_decodes_as_json_loads_does(text: str) -> None:
    ok, expected = _loads(text)
    if not ok:
        with pytest.raises(ValueError):
            decode_value(text)
    else:
        assert decode_value(text) == expected


@given(st.text())
def test_every_string_reads_back(value: str) -> None:
    for ensure_ascii in (False, True):
        assert decode_value(json.dumps(value, ensure_ascii=ensure_ascii)) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [('"v"', "v"), ('""', ""), ('"a\\"b"', 'a"b'), ('"\\u00e9"', "é"), ('"é ü"', "é ü"), ("1", 1)],
)
def test_examples(text: str, value: Any) -> None:
    assert decode_value(text) == value


@pytest.mark.parametrize("text", ['"tab\there"', '"x"y"', '"\\"', '"'])
def test_invalid_json_strings_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        decode_value(text)
