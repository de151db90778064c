"""Every ```python block of README.md and docs/*.md runs, so the documentation cannot rot.

Each block runs on its own, in a fresh namespace whose ``__name__`` is not
``"__main__"`` (so ``if __name__ == "__main__": uvicorn.run(...)`` stays quiet), with
``SESSION_SECRET_KEY`` set in the environment, where the docs read their key from. If it
defines ``app``, one ``GET /`` goes through it (ASGI or WSGI, told apart by whether
calling it is a coroutine) and must not answer 5xx. Blocks may assert what they show.

Marker convention, for a block that cannot run here (it needs a server of your own, say):
its first line is exactly ``# doc: compile-only``. Such a block is still compiled, so a
syntax error fails the test; the line is hidden from nobody, so readers see why it does
not run as is. Fragments that are not Python at all belong in another fence (``text``,
``sh``, ``pycon``...), which this test does not touch.
"""

from __future__ import annotations

import asyncio
import inspect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
COMPILE_ONLY = "# doc: compile-only"
_FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)


@dataclass(frozen=True)
class Block:
    path: Path
    line: int
    source: str

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def compile_only(self) -> bool:
        return self.source.lstrip().startswith(COMPILE_ONLY)


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks() -> list[Block]:
    found = []
    for path in doc_files():
        text = path.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 2  # the block's first line of code
            found.append(Block(path, line, match.group(1)))
    return found


ALL = blocks()


def test_the_docs_have_code_to_check() -> None:
    assert (ROOT / "README.md").exists()
    runnable = [b for b in ALL if not b.compile_only]
    assert len(runnable) >= 10, [b.name for b in ALL]
    assert {b.path.name for b in runnable} >= {"README.md", "quickstart.md", "configuration.md", "lifecycle.md"}


@pytest.mark.parametrize("block", ALL, ids=[b.name for b in ALL])
def test_code_block(block: Block, monkeypatch: pytest.MonkeyPatch) -> None:
    code = compile(block.source, block.name, "exec")
    if block.compile_only:
        return
    monkeypatch.setenv("SESSION_SECRET_KEY", "documentation-examples-secret-key-0123456789")
    namespace: dict[str, Any] = {"__name__": "docs_example"}
    exec(code, namespace)  # noqa: S102 - our own documentation
    app = namespace.get("app")
    if app is not None:
        status = drive(app)
        assert status < 500, f"GET / through the app of {block.name} answered {status}"


def is_asgi(app: Any) -> bool:
    call = app if inspect.isfunction(app) else getattr(app, "__call__", None)  # noqa: B004 - the method itself
    return inspect.iscoroutinefunction(call)


def drive(app: Any) -> int:
    """One ``GET /`` through an ASGI or WSGI app; its status."""
    if is_asgi(app):

        async def get() -> int:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://docs.test") as client:
                return (await client.get("/")).status_code

        return asyncio.run(get())
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://docs.test") as client:
        return client.get("/").status_code


def test_marker_and_fence_parsing() -> None:
    text = "intro\n```python\n# doc: compile-only\nimport x\n```\n\n```python\nprint(1)\n```\n```text\nnot code\n```\n"
    found = [m.group(1) for m in _FENCE.finditer(text)]
    assert found == ["# doc: compile-only\nimport x\n", "print(1)\n"]
    assert Block(ROOT, 1, found[0]).compile_only and not Block(ROOT, 1, found[1]).compile_only


def test_app_detection_tells_asgi_from_wsgi() -> None:
    async def asgi_function(scope: Any, receive: Any, send: Any) -> None: ...

    def wsgi_function(environ: Any, start_response: Any) -> list[bytes]:
        return []

    class AsgiObject:
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None: ...

    assert is_asgi(asgi_function) and is_asgi(AsgiObject())
    assert not is_asgi(wsgi_function)


_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.M)


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.M | re.S)
    return {slug(h) for h in _HEADING.findall(text)}


#: Pages written alongside their own code (the benchmark results, say): a link to one of
#: them may precede it. Every other link must resolve, and anchors are checked once a page exists.
MAY_FOLLOW = frozenset({"rest-api.md", "stores.md", "testing.md", "benchmarks.md"})


@pytest.mark.parametrize("path", doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path: Path) -> None:
    """Links between the docs, to the examples and to pictures point at something real."""
    broken = []
    for target in _LINK.findall(path.read_text(encoding="utf-8")):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):
            continue  # http:, https:, mailto:
        file_part, _, fragment = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            if not (linked.parent == ROOT / "docs" and linked.name in MAY_FOLLOW):
                broken.append(target)
        elif fragment and linked.suffix == ".md" and fragment not in anchors(linked):
            broken.append(target)
    assert broken == []


def test_slugs_follow_github() -> None:
    assert (
        slug("The REST API: `api_path`, `api_token`, `api_authorize`")
        == "the-rest-api-api_path-api_token-api_authorize"
    )
    assert slug("`store` and `clock`") == "store-and-clock"
