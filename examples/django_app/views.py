"""Views of the example: ``request.session`` is Django's, kept by this package's store."""

from __future__ import annotations

from django.contrib import auth
from django.contrib.auth.models import User
from django.http import HttpRequest, JsonResponse
from django.middleware.csrf import get_token
from django.views.decorators.http import require_GET, require_POST

from session_middleware.integrations.django import SessionStore, close_other_sessions
from session_middleware.integrations.django.config import get_config


def _session(request: HttpRequest) -> SessionStore:
    session = request.session
    assert isinstance(session, SessionStore)
    return session


@require_GET
def home(request: HttpRequest) -> JsonResponse:
    request.session["visits"] = request.session.get("visits", 0) + 1
    get_token(request)  # sets the csrftoken cookie: POSTs send its value as X-CSRFToken
    return JsonResponse({"user": _session(request).user, "visits": request.session["visits"]})


@require_POST
def login(request: HttpRequest) -> JsonResponse:
    """Sign in as ``?name=`` (a demo: no password)."""
    user, _ = User.objects.get_or_create(username=request.GET.get("name", "guest").lower())
    auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return JsonResponse({"user": _session(request).user})


@require_POST
def logout(request: HttpRequest) -> JsonResponse:
    auth.logout(request)  # flushes the session: it is closed in the store
    return JsonResponse({"user": None})


@require_GET
def devices(request: HttpRequest) -> JsonResponse:
    """The signed-in user's sessions, the current one marked (the REST API lists the same)."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "sign in first"}, status=401)
    mine = _session(request).session_id
    records = get_config().store.list_by_user(str(request.user.pk))
    listed = [{"id": r.id, "client": r.client, "address": r.address, "current": r.id == mine} for r in records]
    return JsonResponse({"devices": listed})


@require_POST
def sign_out_others(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"closed": close_other_sessions(request)})
