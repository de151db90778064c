"""Secret keys as other frameworks take them: short keys work with a warning, empty ones never."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from starlette.datastructures import Secret

from session_middleware._signing import MIN_SECRET_BYTES, normalize_secret_keys

HOW_TO = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'
LONG = "k" * MIN_SECRET_BYTES


def _security_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "session_middleware.security" and r.levelno == logging.WARNING]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("example", [b"example"]),
        (b"x" * 31, [b"x" * 31]),
        (["short", LONG], [b"short", LONG.encode()]),
        (Secret("example"), [b"example"]),
        ([Secret("old"), LONG], [b"old", LONG.encode()]),
        ("é" * 5, ["é".encode() * 5]),
    ],
)
def test_short_keys_work_with_one_warning(caplog: pytest.LogCaptureFixture, key: Any, expected: list[bytes]) -> None:
    caplog.set_level(logging.WARNING, logger="session_middleware.security")
    assert normalize_secret_keys(key) == expected
    (warning,) = _security_warnings(caplog)
    message = warning.getMessage()
    assert HOW_TO in message
    for length in {len(k) for k in expected if len(k) < MIN_SECRET_BYTES}:
        assert f"{length}" in message


def test_several_short_keys_give_one_warning_naming_each_length(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="session_middleware.security")
    normalize_secret_keys(["abc", "abcdefg", LONG])
    (warning,) = _security_warnings(caplog)
    assert "3, 7 bytes" in warning.getMessage()


@pytest.mark.parametrize("key", [LONG, LONG.encode(), [LONG, "m" * 40], Secret(LONG)])
def test_long_keys_warn_nothing(caplog: pytest.LogCaptureFixture, key: Any) -> None:
    caplog.set_level(logging.DEBUG, logger="session_middleware")
    normalize_secret_keys(key)
    assert _security_warnings(caplog) == []


@pytest.mark.parametrize("key", ["", b"", [], (), [LONG, ""], None, [None], Secret("")])
def test_empty_keys_are_refused_with_how_to_make_one(key: Any) -> None:
    with pytest.raises(ValueError, match="must not be empty") as raised:
        normalize_secret_keys(key)
    assert HOW_TO in str(raised.value)


def test_the_warning_never_shows_the_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="session_middleware.security")
    normalize_secret_keys("hunter2")
    assert "hunter2" not in caplog.text
