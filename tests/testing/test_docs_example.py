"""docs/testing.md shows tests/testing/docs_example.py verbatim, and that example runs."""

from __future__ import annotations

from pathlib import Path

from . import docs_example

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def test_the_page_shows_the_example_verbatim() -> None:
    page = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
    example = (HERE / "docs_example.py").read_text(encoding="utf-8")
    assert f"```python\n{example}```\n" in page


def test_the_example_app_machine_runs() -> None:
    docs_example.TestMyApp("runTest").runTest()


def test_the_example_store_machine_runs() -> None:
    docs_example.TestMyStore("runTest").runTest()
