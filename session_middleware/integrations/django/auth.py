"""Binding sessions to Django's users: login, and closing a user's other sessions.

``django.contrib.auth.login`` already cycles the session key; the ``user_logged_in``
receiver below binds the session to the user, so its next save gives it an id tagged
with the user and a fresh lifetime, and the REST API lists it among the user's devices.
``logout`` flushes the session, which closes it in the store.
"""

from __future__ import annotations

from typing import Any

from django.contrib import auth
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from ._ops import CloseByUser, Flow, arun, run
from .engine import SessionStore


def user_of(user: Any) -> dict[str, Any]:
    """The session user of a Django user: ``{"id": str(pk), "name": username}``."""
    return {"id": str(user.pk), "name": str(user.get_username())}


@receiver(user_logged_in, dispatch_uid="session_middleware.integrations.django.bind_user")
def bind_on_login(sender: object, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    if isinstance(session, SessionStore):
        session.bind_user(user_of(user))


def _target(request: HttpRequest) -> tuple[SessionStore, str] | None:
    session = getattr(request, "session", None)
    if not isinstance(session, SessionStore):
        return None
    bound = session.user
    if bound is not None:
        return session, str(bound["id"])
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return session, str(user.pk)
    return None


def close_other_sessions(request: HttpRequest) -> int:
    """Close every session of the request's user except this one ("sign out my other
    devices", and what a password change should do); return how many were closed."""
    target = _target(request)
    if target is None:
        return 0
    session, user_id = target
    return run(_close_flow(session, user_id), session._config.store)


async def aclose_other_sessions(request: HttpRequest) -> int:
    """The async twin of :func:`close_other_sessions`."""
    await resolve_user(request)
    target = _target(request)
    if target is None:
        return 0
    session, user_id = target
    return await arun(_close_flow(session, user_id), session._config.store, server_loop=session.server_loop)


def _close_flow(session: SessionStore, user_id: str) -> Flow[int]:
    closed: int = yield CloseByUser(user_id, keep=session.session_id)
    return closed


def update_session_auth_hash(request: HttpRequest, user: Any) -> int:
    """Django's ``update_session_auth_hash`` (this session stays signed in after a
    password change, under a new id), then :func:`close_other_sessions`.

    Django alone leaves the user's other sessions in the store until each is next used
    (its auth hash no longer matches then); this closes them at once.
    """
    auth.update_session_auth_hash(request, user)
    return close_other_sessions(request)


async def aupdate_session_auth_hash(request: HttpRequest, user: Any) -> int:
    """The async twin of :func:`update_session_auth_hash`."""
    await resolve_user(request)  # Django's compares with request.user, a lazy sync lookup
    await auth.aupdate_session_auth_hash(request, user)
    return await aclose_other_sessions(request)


async def resolve_user(request: HttpRequest) -> None:
    """Resolve ``request.user`` (a lazy object whose first use queries the database)
    asynchronously, once, so later reads of it do no synchronous I/O on the event loop."""
    auser = getattr(request, "auser", None)
    if auser is not None and "user" in vars(request):
        request.user = await auser()
