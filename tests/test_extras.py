"""A missing optional dependency fails with an ImportError that names the extra to install.

Each case runs in a fresh interpreter where the dependency is blocked
(``sys.modules[name] = None`` makes any import of it fail, as if it were not installed).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_without(module: str, code: str) -> subprocess.CompletedProcess[str]:
    script = f"import sys\nsys.modules[{module!r}] = None\n" + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    ("module", "code", "extra"),
    [
        ("httpx", "import sessions_api.client", "client"),
        ("httpx", "from sessions_api.client import SessionsClient", "client"),
        ("hypothesis", "from session_middleware.testing import strategies", "testing"),
        ("hypothesis", "import session_middleware.testing as kit\nkit.StoreLifecycle", "testing"),
        ("hypothesis", "from session_middleware.testing import AppLifecycle", "testing"),
    ],
)
def test_a_missing_extra_is_named_in_the_import_error(module: str, code: str, extra: str) -> None:
    result = run_without(module, code)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError:"), result.stderr
    assert f'pip install "session-middleware[{extra}]"' in last


def test_what_needs_no_extra_still_imports_without_it() -> None:
    code = """
        import session_middleware, sessions_api
        from session_middleware.testing import FakeClock
        assert FakeClock(5.0)() == 5.0
        print("ok")
    """
    for module in ("httpx", "hypothesis"):
        result = run_without(module, code)
        assert result.returncode == 0 and result.stdout == "ok\n", result.stderr


def test_other_import_errors_are_not_disguised_as_a_missing_extra() -> None:
    # A broken dependency of the kit other than Hypothesis keeps its own error.
    result = run_without("session_middleware.testing.strategies", "from session_middleware.testing import strategies")
    assert result.returncode == 1 and "session-middleware[testing]" not in result.stderr
    assert "ModuleNotFoundError" in result.stderr or "ImportError" in result.stderr
