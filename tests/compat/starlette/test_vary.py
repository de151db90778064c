"""Vary: Cookie on every response whose session the app accessed, as Starlette sends it."""

from __future__ import annotations

from .support import ClientFactory, session_app, vary


def test_reading_an_empty_session_varies_the_response_by_cookie(client_factory: ClientFactory) -> None:
    # Starlette's request.session calls session.mark_accessed(): the page may say "log in"
    # because there is no session, so a cache must not serve it to a logged-in user.
    response = client_factory(session_app()).get("/view_session")
    assert response.json() == {"session": {}}
    assert "cookie" in vary(response)
