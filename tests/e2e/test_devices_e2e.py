"""The demo in real headless Chromium: two browsers, one user, one signs the other out.

Debian's ``chromium`` is driven by Playwright through ``executable_path`` (Playwright's
own browser download is never used). With ``UPDATE_SCREENSHOTS=1`` the devices page is
saved to ``docs/devices.png``, the picture the README shows.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
expect.set_options(timeout=10_000)  # generous for a loaded CI machine; passing runs take far less
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo") / "server.log"


@pytest.fixture(scope="module")
def demo_url(server_log: Path) -> Iterator[str]:
    """The demo served by uvicorn in a subprocess, as ``make run`` serves it (access log on)."""
    port = free_port()
    env = {**os.environ, "SESSION_SECRET_KEY": "end-to-end-test-secret-key-0123456789abcdef"}
    command = [sys.executable, "-m", "uvicorn", "examples.demo:app", "--host", "127.0.0.1", "--port", str(port)]
    log = server_log.open("wb")
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url, timeout=1).raise_for_status()
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the demo did not start:\n{server_log.read_text()}")
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


class Device:
    """One browser context (its own cookie jar) with one page, failing on any script error."""

    def __init__(self, context: BrowserContext, base_url: str) -> None:
        self.context = context
        self.page: Page = context.new_page()
        self.page.set_default_timeout(10_000)
        self.base_url = base_url
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        # Chromium logs every non-2xx fetch; a 401 for a session closed elsewhere is expected.
        if message.type == "error" and "status of 401" not in message.text:
            self.errors.append(message.text)

    def open(self, path: str) -> Page:
        self.page.goto(self.base_url + path)
        return self.page

    def sign_in(self, name: str) -> None:
        page = self.open("/")
        page.get_by_label("Your name").fill(name)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_test_id("user")).to_have_text(name)

    def current_session_id(self) -> str:
        page = self.open("/devices")
        value = page.locator("#devices").get_attribute("data-current")
        assert value
        return value

    def rows(self) -> list[str]:
        return [r.get_attribute("data-session-id") or "" for r in self.page.locator("tr[data-session-id]").all()]

    def has_session_cookie(self) -> bool:
        return any(cookie["name"] == "session" for cookie in self.context.cookies())


def test_sign_out_another_device_from_the_devices_page(
    playwright: Playwright, browser: Browser, demo_url: str, tmp_path: Path, server_log: Path
) -> None:
    laptop = Device(browser.new_context(viewport={"width": 1100, "height": 470}), demo_url)
    phone = Device(browser.new_context(**playwright.devices["Pixel 7"]), demo_url)  # a phone's UA and screen
    laptop.sign_in("Ada")
    phone.sign_in("Ada")
    phone_id = phone.current_session_id()
    laptop_id = laptop.current_session_id()
    assert phone_id != laptop_id

    devices = laptop.open("/devices")
    rows = devices.locator("tr[data-session-id]")
    expect(rows).to_have_count(2)
    assert set(laptop.rows()) == {laptop_id, phone_id}
    expect(devices.locator("tr.current")).to_have_attribute("data-session-id", laptop_id)
    expect(devices.locator(f'tr[data-session-id="{phone_id}"]')).to_contain_text("Chrome on Android")
    # Both sign-ins are in the recent activity, which the demo keeps from the middleware's on_event.
    activity = devices.get_by_test_id("activity").locator("tr")
    expect(activity).to_have_count(2)
    expect(activity.first).to_contain_text("Signed in")
    expect(devices.get_by_test_id("activity")).to_contain_text("Android")
    shot = tmp_path / "devices.png"
    devices.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 10_000
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        shutil.copyfile(shot, ROOT / "docs" / "devices.png")

    devices.locator(f'tr[data-session-id="{phone_id}"]').get_by_role("button", name="Sign out").click()
    expect(rows).to_have_count(1)
    assert laptop.rows() == [laptop_id]

    # The phone's very next page load is signed out, and its stale cookie is cleared.
    home = phone.open("/")
    expect(home.get_by_role("button", name="Sign in")).to_be_visible()
    expect(home.get_by_test_id("user")).to_have_count(0)
    assert not phone.has_session_cookie()

    # The laptop is untouched.
    laptop.open("/devices")
    expect(rows).to_have_count(1)
    assert laptop.errors == [] and phone.errors == []

    # The server's access log saw the DELETE, but no session id (they travel in query strings).
    log = server_log.read_text()
    assert '"DELETE /sessions/ada HTTP/1.1" 204' in log
    assert phone_id not in log and laptop_id not in log


def test_sign_out_everywhere_else(browser: Browser, demo_url: str) -> None:
    devices = [Device(browser.new_context(), demo_url) for _ in range(3)]
    for device in devices:
        device.sign_in("Grace")
    keeper, stale, other = devices
    stale_page = stale.open("/devices")  # left open while its session is closed elsewhere
    expect(stale_page.locator("tr[data-session-id]")).to_have_count(3)
    page = keeper.open("/devices")
    expect(page.locator("tr[data-session-id]")).to_have_count(3)
    page.get_by_role("button", name="Sign out everywhere else").click()
    expect(page.locator("tr[data-session-id]")).to_have_count(1)
    expect(page.get_by_role("button", name="Sign out everywhere else")).to_be_disabled()

    # The stale page's next API call is refused (its session is gone): it starts over.
    stale_page.get_by_role("button", name="Sign out everywhere else").click()
    expect(stale_page).to_have_url(f"{demo_url}/?signed_out=1")
    expect(stale_page.get_by_text("You were signed out.")).to_be_visible()
    expect(other.open("/").get_by_role("button", name="Sign in")).to_be_visible()
    keeper.open("/devices")
    expect(keeper.page.locator("tr[data-session-id]")).to_have_count(1)
    expect(keeper.page.get_by_test_id("user")).to_have_text("Grace")
    assert all(device.errors == [] for device in devices)
