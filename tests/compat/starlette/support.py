"""A Starlette app written for Starlette's SessionMiddleware, and ways to look at its cookies.

The routes and the middleware list are what such an app has; only the import differs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import BaseRoute, Route
from starlette.testclient import TestClient

from session_middleware import SessionMiddleware

#: Starlette's documentation and tests use short keys like this one.
SECRET = "example"
FOURTEEN_DAYS = 14 * 24 * 3600

ClientFactory = Callable[..., TestClient]


def view_session(request: Request) -> JSONResponse:
    return JSONResponse({"session": request.session})


async def update_session(request: Request) -> JSONResponse:
    request.session.update(await request.json())
    return JSONResponse({"session": request.session})


async def clear_session(request: Request) -> JSONResponse:
    request.session.clear()
    return JSONResponse({"session": request.session})


def no_session(request: Request) -> PlainTextResponse:
    return PlainTextResponse("no session used")


ROUTES: list[BaseRoute] = [
    Route("/view_session", endpoint=view_session),
    Route("/update_session", endpoint=update_session, methods=["POST"]),
    Route("/clear_session", endpoint=clear_session, methods=["POST"]),
    Route("/no_session", endpoint=no_session),
]


def session_app(*args: Any, routes: Sequence[BaseRoute] = ROUTES, **options: Any) -> Starlette:
    """Starlette's own test app: the middleware configured as an app would configure it."""
    if not args and "secret_key" not in options:
        options["secret_key"] = SECRET
    return Starlette(routes=list(routes), middleware=[Middleware(SessionMiddleware, *args, **options)])


@dataclass(frozen=True)
class SetCookie:
    """One ``Set-Cookie`` header, attributes by lower-case name (as browsers read them)."""

    name: str
    value: str
    attributes: dict[str, str] = field(default_factory=dict)

    def has(self, attribute: str) -> bool:
        return attribute.lower() in self.attributes

    def get(self, attribute: str) -> str | None:
        return self.attributes.get(attribute.lower())

    @property
    def samesite(self) -> str | None:
        """The SameSite value, whose case browsers ignore."""
        value = self.get("samesite")
        return None if value is None else value.lower()

    @property
    def clears(self) -> bool:
        """Whether a browser deletes the cookie on receiving this header."""
        max_age = self.get("max-age")
        if max_age is not None:
            return int(max_age) <= 0
        expires = self.get("expires")
        return expires is not None and parsedate_to_datetime(expires).year < 2000


def set_cookies(response: httpx.Response, name: str = "session") -> list[SetCookie]:
    """The response's ``Set-Cookie`` headers for the cookie ``name``."""
    found = []
    for header in response.headers.get_list("set-cookie"):
        pair, *attributes = (part.strip() for part in header.split(";"))
        cookie_name, _, value = pair.partition("=")
        if cookie_name != name:
            continue
        parsed = {}
        for attribute in attributes:
            key, _, attr_value = attribute.partition("=")
            parsed[key.strip().lower()] = attr_value.strip()
        found.append(SetCookie(cookie_name, value, parsed))
    return found


def the_set_cookie(response: httpx.Response, name: str = "session") -> SetCookie:
    (cookie,) = set_cookies(response, name)
    return cookie


def vary(response: httpx.Response) -> list[str]:
    return [v.strip().lower() for header in response.headers.get_list("vary") for v in header.split(",")]
