"""Small views, sync and async, that use ``request.session`` and Django's auth."""

from __future__ import annotations

import threading

from django.contrib import auth, messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, JsonResponse

from session_middleware.integrations.django import SessionStore, aupdate_session_auth_hash, update_session_auth_hash


def set_value(request: HttpRequest, key: str, value: str) -> HttpResponse:
    request.session[key] = value
    return HttpResponse("ok")


async def aset_value(request: HttpRequest, key: str, value: str) -> HttpResponse:
    await request.session.aset(key, value)
    return HttpResponse("ok")


def get_value(request: HttpRequest, key: str) -> JsonResponse:
    return JsonResponse({"value": request.session.get(key)})


def get_value_varying(request: HttpRequest, key: str) -> JsonResponse:
    """A read whose response already varies on another header."""
    response = JsonResponse({"value": request.session.get(key)})
    response["Vary"] = "Accept-Language"
    return response


async def aget_value(request: HttpRequest, key: str) -> JsonResponse:
    return JsonResponse({"value": await request.session.aget(key)})


def dump(request: HttpRequest) -> JsonResponse:
    return JsonResponse(dict(request.session.items()))


def plain(request: HttpRequest) -> HttpResponse:
    return HttpResponse("plain")


def login_view(request: HttpRequest, username: str) -> HttpResponse:
    user, _ = User.objects.get_or_create(username=username)
    auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return HttpResponse("in")


async def alogin_view(request: HttpRequest, username: str) -> HttpResponse:
    user, _ = await User.objects.aget_or_create(username=username)
    await auth.alogin(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return HttpResponse("in")


def logout_view(request: HttpRequest) -> HttpResponse:
    auth.logout(request)
    return HttpResponse("out")


async def alogout_view(request: HttpRequest) -> HttpResponse:
    await auth.alogout(request)
    return HttpResponse("out")


def whoami(request: HttpRequest) -> JsonResponse:
    user = request.user
    return JsonResponse({"user": user.get_username() if user.is_authenticated else None})


def change_password(request: HttpRequest, password: str) -> JsonResponse:
    user = request.user
    assert isinstance(user, User)
    user.set_password(password)
    user.save()
    closed = update_session_auth_hash(request, user)
    return JsonResponse({"closed": closed})


def set_expiry(request: HttpRequest, seconds: int) -> HttpResponse:
    request.session["x"] = 1
    request.session.set_expiry(seconds)
    return HttpResponse("ok")


def fail(request: HttpRequest) -> HttpResponse:
    request.session["lost"] = True
    return HttpResponse("boom", status=500)


def append(request: HttpRequest, value: str) -> HttpResponse:
    items = request.session.setdefault("items", [])
    items.append(value)  # a nested mutation, without setting modified
    return HttpResponse("ok")


def close_then_write(request: HttpRequest) -> HttpResponse:
    """The session is closed elsewhere (another request's logout) while this one runs."""
    from session_middleware.integrations.django.config import get_config

    session = request.session
    assert isinstance(session, SessionStore) and session.session_id is not None
    get_config().store.delete(session.session_id)
    session["late"] = True
    return HttpResponse("ok")


def address(request: HttpRequest) -> JsonResponse:
    request.session["seen"] = True
    return JsonResponse({})


#: Two requests meet here after both loaded their session (see the concurrency test).
BARRIER = threading.Barrier(2, timeout=10)


def barrier_set(request: HttpRequest, key: str, value: str) -> HttpResponse:
    request.session.get(key)  # loaded: both requests now hold the same stored state
    BARRIER.wait()
    request.session[key] = value
    return HttpResponse("ok")


async def achange_password(request: HttpRequest, password: str) -> JsonResponse:
    user = await request.auser()
    assert isinstance(user, User)
    user.set_password(password)
    await user.asave()
    closed = await aupdate_session_auth_hash(request, user)
    return JsonResponse({"closed": closed})


def add_message(request: HttpRequest, text: str) -> HttpResponse:
    messages.info(request, text)
    return HttpResponse("ok")


def read_messages(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"messages": [str(m) for m in messages.get_messages(request)]})
