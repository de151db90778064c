"""FastAPI apps reach the session as request.session, exactly as with Starlette's middleware."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from session_middleware import SessionMiddleware

from .support import SECRET, ClientFactory, set_cookies, the_set_cookie, vary


def cart(request: Request) -> list[Any]:
    items: list[Any] = request.session.setdefault("cart", [])
    return items


def fastapi_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(SessionMiddleware, secret_key=SECRET, https_only=False, max_age=3600)

    @app.post("/login")
    def login(request: Request, name: str) -> dict[str, Any]:
        request.session["user"] = name
        return {"ok": True}

    @app.get("/me")
    def me(request: Request) -> dict[str, Any]:
        return {"user": request.session.get("user"), "session": dict(request.session)}

    @app.post("/cart")
    def add(item: str, items: Annotated[list[Any], Depends(cart)]) -> list[Any]:
        items.append(item)
        return items

    @app.get("/raw")
    def raw(request: Request) -> JSONResponse:
        return JSONResponse(request.session)

    @app.post("/logout")
    def logout(request: Request) -> dict[str, Any]:
        request.session.clear()
        return {"ok": True}

    return app


def test_fastapi_request_session_round_trips(client_factory: ClientFactory) -> None:
    client = client_factory(fastapi_app())
    assert client.get("/me").json() == {"user": None, "session": {}}
    response = client.post("/login", params={"name": "ada"})
    assert response.json() == {"ok": True}
    assert the_set_cookie(response).get("max-age") == "3600"
    me = client.get("/me")
    assert me.json() == {"user": "ada", "session": {"user": "ada"}}
    assert "cookie" in vary(me) and set_cookies(me) == []


def test_a_dependency_may_hand_out_a_part_of_the_session(client_factory: ClientFactory) -> None:
    client = client_factory(fastapi_app())
    assert client.post("/cart", params={"item": "tea"}).json() == ["tea"]
    assert client.post("/cart", params={"item": "milk"}).json() == ["tea", "milk"]
    assert client.get("/raw").json() == {"cart": ["tea", "milk"]}


def test_fastapi_logout_by_clearing(client_factory: ClientFactory) -> None:
    client = client_factory(fastapi_app())
    client.post("/login", params={"name": "ada"})
    assert the_set_cookie(client.post("/logout")).clears
    assert client.get("/me").json() == {"user": None, "session": {}}
