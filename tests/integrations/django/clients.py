"""Django's test clients behind one synchronous face: ``Client`` (WSGI) and ``AsyncClient`` (ASGI)."""

from __future__ import annotations

import asyncio
from http.cookies import Morsel
from typing import Any

from django.http import HttpResponseBase
from django.test import AsyncClient, Client


class Browser:
    """One browser: its cookie jar, and requests through the WSGI or the ASGI handler."""

    def __init__(
        self, kind: str, runner: asyncio.Runner, headers: dict[str, str] | None = None, **defaults: Any
    ) -> None:
        self.kind = kind
        self._runner = runner
        # Sent with every request (AsyncClient's own default headers never reach the scope's).
        self.headers = dict(headers or {})
        self.client: Client | AsyncClient = Client(**defaults) if kind == "wsgi" else AsyncClient(**defaults)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        kwargs["headers"] = {**self.headers, **kwargs.get("headers", {})}
        call = getattr(self.client, method.lower())
        response = call(path, **kwargs)
        if self.kind == "asgi":
            response = self._runner.run(response)
        assert isinstance(response, HttpResponseBase)
        return response

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)

    @property
    def cookies(self) -> Any:
        return self.client.cookies

    def cookie(self, name: str = "sessionid") -> str | None:
        morsel: Morsel[str] | None = self.client.cookies.get(name)
        return None if morsel is None or not morsel.value else morsel.value

    def set_cookie(self, value: str, name: str = "sessionid") -> None:
        self.client.cookies[name] = value
