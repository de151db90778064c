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
import functools
import inspect
import re
from collections.abc import Awaitable, Callable
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


#: The README's quickstarts: blocks that mount the REST API. Each must do what the README says.
QUICKSTARTS = [b for b in ALL if b.path.name == "README.md" and not b.compile_only and "api_path=" in b.source]
API_TOKEN = "documentation-back-office-token-0123456789"
Call = Callable[..., Awaitable[httpx.Response]]


def test_the_readme_has_a_quickstart_per_framework() -> None:
    sources = "\n".join(b.source for b in QUICKSTARTS)
    assert len(QUICKSTARTS) == 5
    for marker in ("starlette", "fastapi", "flask", "async def inner(scope", "def inner(environ"):
        assert marker in sources


@pytest.mark.parametrize("block", QUICKSTARTS, ids=[b.name for b in QUICKSTARTS])
def test_readme_quickstart_runs_the_whole_loop(block: Block, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sign in, use the session, the REST API with the cookie and with the token, sign out."""
    monkeypatch.setenv("SESSION_SECRET_KEY", "documentation-examples-secret-key-0123456789")
    monkeypatch.setenv("SESSIONS_API_TOKEN", API_TOKEN)
    namespace: dict[str, Any] = {"__name__": "docs_example"}
    exec(compile(block.source, block.name, "exec"), namespace)  # noqa: S102 - our own documentation
    app = namespace["app"]
    bearer = {"Authorization": f"Bearer {API_TOKEN}"}

    async def loop(browser: Call, back_office: Call) -> None:
        assert (await browser("GET", "/")).json() == {"user": None, "visits": 1}
        signed_in = await browser("POST", "/login?name=Ada")
        assert signed_in.status_code == 200 and signed_in.json()["user"] == {"id": "ada", "name": "Ada"}
        assert (await browser("GET", "/")).json() == {"user": {"id": "ada", "name": "Ada"}, "visits": 2}
        own = await browser("GET", "/sessions/ada")
        assert own.status_code == 200, own.text
        [listed] = own.json()
        assert listed["user"]["id"] == "ada" and not listed.get("data")  # the browser's view: no data
        admin = await back_office("GET", "/sessions/ada", headers=bearer)
        assert admin.status_code == 200 and [s["data"] for s in admin.json()] == [{"visits": 2}]
        assert (await back_office("GET", "/sessions/ada")).status_code == 401
        assert (await browser("POST", "/logout")).json()["user"] is None
        assert (await browser("GET", "/sessions/ada")).status_code == 401
        assert (await back_office("GET", "/sessions/ada", headers=bearer)).json() == []

    if is_asgi(app):

        async def main() -> None:
            transport = httpx.ASGITransport(app=app)
            async with (
                httpx.AsyncClient(transport=transport, base_url="http://docs.test") as browser,
                httpx.AsyncClient(transport=transport, base_url="http://docs.test") as back_office,
            ):
                await loop(browser.request, back_office.request)
            assert await lifespan_through(app) == ["lifespan.startup.complete", "lifespan.shutdown.complete"]

        asyncio.run(main())
        return
    transport = httpx.WSGITransport(app=app)
    with (
        httpx.Client(transport=transport, base_url="http://docs.test") as browser,
        httpx.Client(transport=transport, base_url="http://docs.test") as back_office,
    ):

        async def call(client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
            return client.request(method, url, **kwargs)

        asyncio.run(loop(functools.partial(call, browser), functools.partial(call, back_office)))


async def lifespan_through(app: Any) -> list[str]:
    """What an ASGI app sends back for a lifespan start-up and shutdown."""
    incoming = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return next(incoming)

    async def send(message: Any) -> None:
        sent.append(message["type"])

    await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    return sent


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


#: The project's home: README links are absolute (PyPI shows the README without the repository).
PROJECT_URL = "https://github.com/session-middleware/session-middleware"
_IN_REPOSITORY = re.compile(re.escape(PROJECT_URL) + r"/(?:blob|tree|raw)/main/([^#?]+)")


def test_readme_links_are_absolute_and_those_into_the_repository_resolve() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = _LINK.findall(readme)
    assert links and all(re.match(r"^https?://", target) for target in links), links
    into_repository = [m.group(1) for target in links if (m := _IN_REPOSITORY.match(target))]
    assert {"docs/index.md", "docs/operations.md", "CHANGELOG.md"} <= set(into_repository)
    missing = [path for path in into_repository if not (ROOT / path).exists()]
    assert missing == []
    github = {target for target in links if target.startswith("https://github.com/")}
    assert all(target.startswith(PROJECT_URL) for target in github), github


def test_slugs_follow_github() -> None:
    assert (
        slug("The REST API: `api_path`, `api_token`, `api_authorize`")
        == "the-rest-api-api_path-api_token-api_authorize"
    )
    assert slug("`store` and `clock`") == "store-and-clock"
