"""The distributions are fit for PyPI: they build, pass ``twine check`` and hold what they should.

The sdist and the wheel are built once (without build isolation, from the test
environment's setuptools, so no download is needed) from a copy of the working tree.
"""

from __future__ import annotations

import email.parser
import email.policy
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest
from trove_classifiers import classifiers as known_classifiers

ROOT = Path(__file__).resolve().parents[1]
PROJECT_URL = "https://github.com/session-middleware/session-middleware"
PUBLISHED_EXTRAS = {"redis", "server", "client", "testing", "django", "flask"}
_NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv*",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    "*.egg-info",
    "build",
    "dist",
    "__pycache__",
    "results",
)


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    work = tmp_path_factory.mktemp("packaging")
    source, out = work / "source", work / "dist"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCE)
    command = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)]
    built = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    [wheel] = out.glob("*.whl")
    [sdist] = out.glob("*.tar.gz")
    yield {"wheel": wheel, "sdist": sdist}


def metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        text = archive.read(name).decode()
    return email.parser.Parser(policy=email.policy.compat32).parsestr(text)


def test_twine_check_passes(dists: dict[str, Path]) -> None:
    command = [sys.executable, "-m", "twine", "check", "--strict", str(dists["wheel"]), str(dists["sdist"])]
    checked = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == 2


def test_the_wheel_holds_both_typed_packages_and_nothing_else(dists: dict[str, Path]) -> None:
    with zipfile.ZipFile(dists["wheel"]) as archive:
        names = archive.namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"session_middleware", "sessions_api", "session_middleware-0.1.0.dist-info"}
    for package in ("session_middleware", "sessions_api"):
        assert f"{package}/__init__.py" in names and f"{package}/py.typed" in names
    assert "session_middleware/events.py" in names and "sessions_api/__main__.py" in names
    assert "session_middleware-0.1.0.dist-info/licenses/LICENSE" in names
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "examples/")) or "/tests/" in n]


def test_the_sdist_builds_the_package_and_leaves_the_repository_tooling_out(dists: dict[str, Path]) -> None:
    with tarfile.open(dists["sdist"]) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", "PKG-INFO"} <= names
    assert "session_middleware/py.typed" in names and "docs/index.md" in names
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "examples/", ".venv/"))]


def test_metadata_is_complete_for_pypi(dists: dict[str, Path]) -> None:
    meta = metadata(dists["wheel"])
    assert meta["Name"] == "session-middleware" and meta["License-Expression"] == "MIT"
    assert meta["Requires-Python"] == ">=3.11"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert "The session-middleware authors" in str(meta["Author"])
    urls = dict(url.split(", ", 1) for url in meta.get_all("Project-URL") or [])
    assert set(urls) == {"Homepage", "Documentation", "Source", "Changelog", "Issues"}
    assert all(url.startswith(PROJECT_URL) for url in urls.values())
    assert set(meta.get_all("Provides-Extra") or []) == PUBLISHED_EXTRAS  # never test, demo or bench
    classifiers = meta.get_all("Classifier") or []
    assert set(classifiers) <= known_classifiers, set(classifiers) - known_classifiers
    for version in ("3.11", "3.12", "3.13"):
        assert f"Programming Language :: Python :: {version}" in classifiers
    for framework in ("Django", "FastAPI", "Flask", "AsyncIO"):
        assert f"Framework :: {framework}" in classifiers
    assert "Typing :: Typed" in classifiers
    assert meta.get_content_type() == "text/plain" and meta["Description-Content-Type"] == "text/markdown"


def test_internal_requirements_are_dependency_groups_not_extras() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert set(project["project"]["optional-dependencies"]) == PUBLISHED_EXTRAS
    groups = project["dependency-groups"]
    assert {"test", "demo", "bench"} <= set(groups)
    test_names = {req.split(">")[0].split("=")[0] for req in groups["test"] if isinstance(req, str)}
    assert {"django", "build", "twine", "pytest", "hypothesis", "playwright"} <= test_names
    assert {"include-group": "demo"} in groups["test"]  # the demo's tests run it
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").splitlines()[2] == (
        "Copyright (c) 2026 The session-middleware authors"
    )
