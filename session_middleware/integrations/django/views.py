"""The ``/sessions`` REST API (protocol v1) as Django views, over the engine's store.

The views translate a Django request into the API's protocol-neutral request and its
answer back; routing, validation, access rules and JSON are the API's own, exactly as
when the API is mounted in front of an ASGI or WSGI app. Access:

- a bearer token (``SESSION_MIDDLEWARE["api_token"]``): everything;
- a staff user (``is_staff``), or ``SESSION_MIDDLEWARE["api_authorize"](request)``
  returning ``True``: everything, from same-site requests;
- a signed-in user: list, get and close their own sessions, never open one or write data;
- anyone else: 401.

The views are ``csrf_exempt``: the API refuses cross-site requests itself (``Origin`` and
``Sec-Fetch-Site``) whenever a cookie is what authorizes them, and a bearer token is no
ambient credential a forged request could carry (see docs/django.md).
"""

from __future__ import annotations

import contextvars
from types import MappingProxyType
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from ...api import ApiRequest, ApiResponse, SessionsAPI, WSGISessionsAPI, create_asgi_app, create_wsgi_app
from .auth import resolve_user
from .config import DjangoConfig, get_config
from .engine import SessionStore

#: The Django request being answered, for the ``api_authorize`` hook (which the API
#: calls with its own request type).
_current: contextvars.ContextVar[HttpRequest] = contextvars.ContextVar("session_middleware_django_request")

_apis: dict[int, tuple[DjangoConfig, WSGISessionsAPI, SessionsAPI]] = {}


def is_admin(request: HttpRequest) -> bool:
    """Whether the Django request's user may manage every session: an active staff user,
    or whatever ``SESSION_MIDDLEWARE["api_authorize"]`` says (only ``True`` grants)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_active and user.is_staff:
        return True
    hook = get_config().api_authorize
    return hook is not None and hook(request) is True


def _authorize(api_request: ApiRequest) -> bool:
    request = _current.get(None)
    return request is not None and is_admin(request)


def _apis_for(config: DjangoConfig) -> tuple[WSGISessionsAPI, SessionsAPI]:
    known = _apis.get(id(config))
    if known is not None and known[0] is config:
        return known[1], known[2]
    options: dict[str, Any] = {
        "api_token": config.api_token,
        "api_authorize": _authorize,
        "idle_timeout": config.idle_timeout,
        "absolute_timeout": config.absolute_timeout,
        "max_sessions_per_user": config.max_sessions_per_user,
        "touch_interval": config.touch_interval,
    }
    pair = create_wsgi_app(config.store, **options), create_asgi_app(config.store, **options)
    _apis.clear()  # the configuration changed (a test's override_settings): forget the old
    _apis[id(config)] = (config, *pair)
    return pair


def _caller(request: HttpRequest) -> str | None:
    """The signed-in user's id: Django's auth decides when it runs, else the session's binding."""
    user = getattr(request, "user", None)
    if user is not None:
        return str(user.pk) if user.is_authenticated else None
    session = getattr(request, "session", None)
    bound = session.user if isinstance(session, SessionStore) else None
    return None if bound is None else str(bound["id"])


def _paths(request: HttpRequest, rest: str) -> tuple[str, str]:
    """``(path inside the mount, the mount's path)``.

    Mounted at ``"sessions"`` the API answers ``/sessions`` and ``/sessions/...``; at
    ``"sessions/"`` it answers ``/sessions/`` and ``/sessions/...``. ``/sessionsX`` is
    never the API.
    """
    full = request.path
    mount = full[: len(full) - len(rest)] if rest else full
    if not rest:
        return "", mount.rstrip("/") or "/"
    if rest.startswith("/"):
        return rest, mount
    if not mount.endswith("/"):
        raise Http404
    return "/" + rest, mount[:-1]


def _api_request(request: HttpRequest, rest: str, body: bytes) -> ApiRequest:
    path, root_path = _paths(request, rest)
    headers = {name.lower(): value for name, value in request.headers.items()}
    # The host Django validated against ALLOWED_HOSTS: what the API's Origin check compares.
    headers["host"] = request.get_host()
    return ApiRequest(
        method=(request.method or "GET").upper(),
        path=path,
        root_path=root_path,
        query_string=request.META.get("QUERY_STRING", "").encode("utf-8", "surrogateescape"),
        headers=MappingProxyType(headers),
        session=None,
        user_id=_caller(request),
        scheme=request.scheme or "http",
        body=body,
    )


def _body(request: HttpRequest, api: WSGISessionsAPI | SessionsAPI) -> bytes | ApiResponse:
    """The body, or the API's 413 when it is larger than the API accepts (checked on the
    declared length before Django reads it, then on what was read)."""
    headers = MappingProxyType({k.lower(): v for k, v in request.headers.items()})
    probe = ApiRequest(method=(request.method or "GET").upper(), path="", headers=headers)
    refusal = api.core.refuse_body(probe)
    if refusal is not None:
        return refusal
    body = request.body
    refusal = api.core.refuse_body(probe, len(body))
    return body if refusal is None else refusal


def _django_response(response: ApiResponse) -> HttpResponse:
    answer = HttpResponse(response.body, status=response.status)
    del answer["Content-Type"]
    for name, value in response.headers:
        answer.headers[name] = value
    return answer


@csrf_exempt
def sessions_api(request: HttpRequest, rest: str = "") -> HttpResponse:
    """The REST API, answered with the store's sync methods (WSGI, or any Django)."""
    wsgi_api, _ = _apis_for(get_config())
    body = _body(request, wsgi_api)
    if isinstance(body, ApiResponse):
        return _django_response(body)
    token = _current.set(request)
    try:
        return _django_response(wsgi_api.respond(_api_request(request, rest, body)))
    finally:
        _current.reset(token)


@csrf_exempt
async def asessions_api(request: HttpRequest, rest: str = "") -> HttpResponse:
    """The REST API, answered with the store's async methods (ASGI)."""
    _, asgi_api = _apis_for(get_config())
    body = _body(request, asgi_api)
    if isinstance(body, ApiResponse):
        return _django_response(body)
    await resolve_user(request)
    token = _current.set(request)
    try:
        return _django_response(await asgi_api.arespond(_api_request(request, rest, body)))
    finally:
        _current.reset(token)
