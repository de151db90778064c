"""The make-run demo in-process: pages, forms, the playground and the API calls its devices page makes."""

from __future__ import annotations

import asyncio
import html
import importlib
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

BASE = "http://127.0.0.1:8000"
Scenario = Callable[[Callable[[], Any]], Awaitable[None]]


@asynccontextmanager
async def browsers() -> AsyncIterator[Callable[[], httpx.AsyncClient]]:
    """Yields a factory of cookie-keeping clients (one per "browser") on one fresh demo app."""
    demo = importlib.reload(importlib.import_module("examples.demo"))
    transport = httpx.ASGITransport(app=demo.app)
    clients: list[httpx.AsyncClient] = []

    def browser() -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=transport, base_url=BASE, headers={"Origin": BASE})
        clients.append(client)
        return client

    try:
        yield browser
    finally:
        for client in clients:
            await client.aclose()


def run(scenario: Scenario) -> None:
    async def main() -> None:
        async with browsers() as browser:
            await scenario(browser)

    asyncio.run(main())


async def sign_in(client: httpx.AsyncClient, name: str) -> None:
    response = await client.post("/login", data={"name": name})
    assert response.status_code == 303 and "session" in client.cookies


def session_data(page: str) -> Any:
    match = re.search(r'<pre data-testid="data">(.*?)</pre>', page, re.S)
    assert match, page
    return json.loads(html.unescape(match.group(1)))


def test_anonymous_pages_set_no_cookie_and_offer_sign_in() -> None:
    async def scenario(browser: Callable[[], httpx.AsyncClient]) -> None:
        client = browser()
        for path in ("/", "/playground", "/devices", "/static/devices.js", "/static/demo.css"):
            response = await client.get(path)
            assert response.status_code == 200, path
            assert "set-cookie" not in response.headers, path
        home = (await client.get("/")).text
        assert 'action="/login"' in home and "anonymous" in home
        assert "Sign out everywhere else" not in (await client.get("/devices")).text

    run(scenario)


def test_sign_in_shows_this_session_with_escaped_name_and_sign_out_ends_it() -> None:
    async def scenario(browser: Callable[[], httpx.AsyncClient]) -> None:
        client = browser()
        await sign_in(client, "  <b>Ada</b>   Lovelace ")
        page = (await client.get("/")).text
        assert "&lt;b&gt;Ada&lt;/b&gt; Lovelace" in page and "<b>Ada</b>" not in page
        assert "stored on the server" in page and "127.0.0.1" in page and "python-httpx" in page
        out = await client.post("/logout")
        assert out.headers["location"] == "/?signed_out=1"
        assert "You were signed out." in (await client.get("/?signed_out=1")).text
        assert 'action="/login"' in (await client.get("/")).text

    run(scenario)


def test_the_readme_curl_lines_work_against_the_demo() -> None:
    """``make run`` serves the demo; a new user tries the README's curl lines on it."""

    async def scenario(browser: Callable[[], httpx.AsyncClient]) -> None:
        client = browser()
        response = await client.post("/login?name=Ada")
        assert response.status_code == 303 and "session" in client.cookies
        assert "Ada (id ada)" in (await client.get("/")).text
        [mine] = (await client.get("/sessions/ada")).json()
        assert mine["user"] == {"id": "ada", "name": "Ada"}
        assert (await client.post("/logout")).status_code == 303
        assert (await client.get("/sessions/ada")).status_code == 401

    run(scenario)


def test_cross_site_posts_are_refused() -> None:
    async def scenario(browser: Callable[[], httpx.AsyncClient]) -> None:
        client = browser()
        for path, form in (("/login", {"name": "x"}), ("/todos", {"action": "add", "text": "t"}), ("/logout", {})):
            response = await client.post(path, data=form, headers={"Origin": "http://evil.example"})
            assert response.status_code == 403, path
            assert "set-cookie" not in response.headers

    run(scenario)


def test_todo_list_lives_in_the_session() -> None:
    async def scenario(browser: Callable[[], httpx.AsyncClient]) -> None:
        client = browser()
        for text in ("one", "two", "three"):
            await client.post("/todos", data={"action": "add", "text": text})
        await client.post("/todos", data={"action": "toggle", "index": "0"})
        await client.post("/todos", data={"action": "toggle", "index": "2"})
        await client.post("/todos", data={"action": "remove", "index": "1"})
        await client.post("/todos", data={"action": "toggle", "index": "99"})  # ignored
        await client.post("/todos", data={"action": "remove", "index": "-1"})  # ignored
        page = (await client.get("/playground")).text
        assert session_data(page)["todos"] == [{"text": "one", "done": True}, {"text": "three", "done": True}]
        await client.post("/todos", data={"action": "clear-done"})
        assert session_data((await client.get("/playground")).text) == {"todos": []}

    run(scenario)


def test_nested_data_is_set_deleted_and_non_json_refused() -> None:
    async def scenario(browser: Callable[[], httpx.AsyncClient]) -> None:
        client = browser()
        value = {"theme": "dark", "tags": ["a", {"deep": [1, 2.5, None, True]}]}
        await client.post("/data", data={"action": "set", "key": "profile", "value": json.dumps(value)})
        assert session_data((await client.get("/playground")).text) == {"profile": value}
        for bad, message in (("{oops", "Not JSON"), ("NaN", "not JSON serializable"), ("[" * 1500, "")):
            response = await client.post("/data", data={"action": "set", "key": "bad", "value": bad})
            assert response.status_code == 400 and message in response.text
        await client.post("/data", data={"action": "set", "key": "todos", "value": '"not a list"'})
        assert (await client.get("/playground")).status_code == 200  # tolerated, shown as no to-dos
        await client.post("/data", data={"action": "delete", "key": "profile"})
        assert session_data((await client.get("/playground")).text) == {"todos": "not a list"}

    run(scenario)


@settings(max_examples=25, deadline=None)
@given(text=st.text(min_size=1, max_size=60).filter(lambda t: t.split()))
def test_any_todo_text_round_trips_escaped(text: str) -> None:
    async def scenario(browser: Callable[[], httpx.AsyncClient]) -> None:
        client = browser()
        await client.post("/todos", data={"action": "add", "text": text})
        assert session_data((await client.get("/playground")).text)["todos"] == [
            {"text": " ".join(text.split()), "done": False}
        ]

    run(scenario)


def devices_card(page: str) -> dict[str, str]:
    match = re.search(r'id="devices" data-api="([^"]*)"\s+data-user="([^"]*)" data-current="([^"]*)"', page)
    assert match, page
    return {"api": match.group(1), "user": match.group(2), "current": match.group(3)}


def test_devices_page_and_the_api_calls_its_script_makes() -> None:
    async def scenario(browser: Callable[[], httpx.AsyncClient]) -> None:
        laptop, phone, tablet = browser(), browser(), browser()
        for client in (laptop, phone, tablet):
            await sign_in(client, "Ada")
        card = devices_card((await laptop.get("/devices")).text)
        assert card["api"] == "/sessions" and card["user"] == "ada"
        # What devices.js does: list, then DELETE one session with an Origin header (fetch sends it).
        listed = await laptop.get(f"/sessions/{card['user']}", headers={"Accept": "application/json"})
        assert listed.status_code == 200, listed.text
        ids = [s["id"] for s in listed.json()]
        assert len(ids) == 3 and card["current"] in ids
        phone_id = devices_card((await phone.get("/devices")).text)["current"]
        gone = await laptop.delete(f"/sessions/ada?session_id={phone_id}")
        assert gone.status_code == 204, gone.text
        assert 'action="/login"' in (await phone.get("/")).text  # the phone's next page is signed out
        # "Sign out everywhere else": every other id, one DELETE each.
        for other in {s["id"] for s in (await laptop.get("/sessions/ada")).json()} - {card["current"]}:
            assert (await laptop.delete(f"/sessions/ada?session_id={other}")).status_code == 204
        assert 'action="/login"' in (await tablet.get("/")).text
        assert [s["id"] for s in (await laptop.get("/sessions/ada")).json()] == [card["current"]]
        # The API refuses another user's list and cross-site deletes.
        assert (await laptop.get("/sessions/grace")).status_code in (401, 403)
        evil = await laptop.delete(f"/sessions/ada?session_id={card['current']}", headers={"Origin": "http://evil"})
        assert evil.status_code == 403
        assert (await laptop.get("/devices")).status_code == 200 and "data-current" in (
            await laptop.get("/devices")
        ).text

    run(scenario)


@pytest.mark.parametrize("path", ["/static/devices.js"])
def test_the_devices_script_uses_only_the_documented_protocol(path: str) -> None:
    async def scenario(browser: Callable[[], httpx.AsyncClient]) -> None:
        script = (await browser().get(path)).text
        assert "innerHTML" not in script  # every value is set as text
        assert 'method: "DELETE"' in script and "session_id=" in script

    run(scenario)


def activity(page: str) -> list[list[str]]:
    """The rows of the devices page's "Recent activity" table, as text cells."""
    match = re.search(r'<tbody data-testid="activity">(.*?)</tbody>', page, re.S)
    assert match, page
    rows = re.findall(r"<tr>(.*?)</tr>", match.group(1), re.S)
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in rows
    ]


def test_the_devices_page_shows_the_users_own_sign_ins_and_sign_outs_from_on_event() -> None:
    async def scenario(browser: Callable[[], httpx.AsyncClient]) -> None:
        laptop, phone, stranger = browser(), browser(), browser()
        await sign_in(laptop, "Ada")
        await sign_in(phone, "Ada")
        await phone.post("/logout")
        await sign_in(stranger, "Grace")
        rows = activity((await laptop.get("/devices")).text)
        assert [row[1] for row in rows] == ["Signed out", "Signed in", "Signed in"]  # newest first
        assert all(row[2].startswith("python-httpx") and row[3] == "127.0.0.1" for row in rows)
        grace = activity((await stranger.get("/devices")).text)
        assert [row[1] for row in grace] == ["Signed in"]  # nobody sees another user's activity

    run(scenario)


def test_a_device_signed_out_through_the_api_shows_in_the_activity() -> None:
    async def scenario(browser: Callable[[], httpx.AsyncClient]) -> None:
        laptop, phone = browser(), browser()
        await sign_in(laptop, "Ada")
        await sign_in(phone, "Ada")
        phone_id = devices_card((await phone.get("/devices")).text)["current"]
        assert (await laptop.delete(f"/sessions/ada?session_id={phone_id}")).status_code == 204
        rows = activity((await laptop.get("/devices")).text)
        assert [row[1] for row in rows] == ["Signed out from another device", "Signed in", "Signed in"]

    run(scenario)


def test_the_activity_list_is_bounded_and_escapes_what_clients_send() -> None:
    async def scenario(browser: Callable[[], httpx.AsyncClient]) -> None:
        client = browser()
        evil = '<img src=x onerror="alert(1)">'
        for _ in range(15):
            response = await client.post("/login", data={"name": "Ada"}, headers={"User-Agent": evil})
            assert response.status_code == 303
        page = (await client.get("/devices")).text
        rows = activity(page)
        assert len(rows) == 10 and all(row[2] == evil for row in rows)
        assert evil not in page and "&lt;img" in page

    run(scenario)
