"""The REST API mounted inside the session middleware at ``api_path``: one explicit composition.

With ``api_path=None`` (the default) the app is returned as it is, so adding the middleware
to an existing app adds no route. Otherwise requests below ``api_path`` go to the REST
sub-app, which runs inside the middleware and so sees the caller's own session (a
signed-in browser may list and close its user's sessions); every other request goes to
the app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._request import unwsgi
from .api import create_asgi_app, create_wsgi_app
from .types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from ._core import SessionCore


def below(path: str, prefix: str) -> bool:
    """Whether ``path`` is ``prefix`` or lies below it."""
    return path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/")


def mount_asgi(app: ASGIApp, core: SessionCore) -> ASGIApp:
    """``app`` with the REST API answering at ``core.api_path``, if set."""
    prefix = core.api_path
    if prefix is None:
        return app
    api = create_asgi_app(core.store, **core.api_options())

    async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            root_path: str = scope.get("root_path", "")
            path: str = scope["path"]
            # ASGI servers and Starlette's Mount keep root_path inside path; others do not.
            relative = path[len(root_path) :] if root_path and path.startswith(root_path) else path
            if below(relative, prefix):
                await api({**scope, "root_path": root_path + prefix}, receive, send)
                return
        await app(scope, receive, send)

    return dispatch


def mount_wsgi(app: WSGIApplication, core: SessionCore) -> WSGIApplication:
    """``app`` with the REST API answering at ``core.api_path``, if set."""
    prefix = core.api_path
    if prefix is None:
        return app
    api = create_wsgi_app(core.store, **core.api_options())

    def dispatch(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes] | object:
        path = environ.get("PATH_INFO", "")
        if below(unwsgi(path), prefix):
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
            environ["PATH_INFO"] = path[len(prefix) :]
            return api(environ, start_response)
        return app(environ, start_response)

    return dispatch  # type: ignore[return-value]
