"""Carrying a session of Django's previous engine over into a server-side session.

With ``SESSION_MIDDLEWARE["migrate_from"] = "django.contrib.sessions.backends.db"`` (or
``cache``, ``cached_db``, ``file``, ``signed_cookies``), a request whose session cookie is
not ours is read through that engine, exactly as Django read it before the switch: its
expiry, signature and serializer rules apply, so a forged or expired cookie is no
session. A live one becomes a new session here with the same data and, when
``_auth_user_id`` says who is logged in, bound to that user; the old session is then
deleted from the old engine (a signed cookie cannot be revoked: it is only replaced).
"""

from __future__ import annotations

import logging
from importlib import import_module
from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ImproperlyConfigured, ObjectDoesNotExist
from django.db import DatabaseError

from .engine import AUTH_USER_KEY, SessionStore

logger = logging.getLogger("session_middleware")


def _old_session(engine: str, cookie: str) -> SessionBase:
    session_class: type[SessionBase] = import_module(engine).SessionStore
    return session_class(cookie)


def _user_model() -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model()


def _user(user_id: object, username: str | None) -> dict[str, Any]:
    user: dict[str, Any] = {"id": str(user_id)}
    if username is not None:
        user["name"] = username
    return user


def _username(user_id: object) -> str | None:
    """The user's name for the device list; the binding needs only the id."""
    try:
        found = _user_model()._default_manager.filter(pk=user_id).first()
    except (ImproperlyConfigured, LookupError, ValueError, ObjectDoesNotExist, DatabaseError):
        logger.debug("no username for a migrated session", exc_info=True)
        return None
    return None if found is None else str(found.get_username())


async def _ausername(user_id: object) -> str | None:
    try:
        found = await _user_model()._default_manager.filter(pk=user_id).afirst()
    except (ImproperlyConfigured, LookupError, ValueError, ObjectDoesNotExist, DatabaseError):
        logger.debug("no username for a migrated session", exc_info=True)
        return None
    return None if found is None else str(found.get_username())


def _adopt(session: SessionStore, data: dict[str, Any]) -> bool:
    try:
        session.adopt_data(data)
    except TypeError as exc:
        logger.warning("a session of the previous engine is not JSON and was not carried over: %s", exc)
        return False
    return True


def migrate(engine: str, cookie: str, session: SessionStore) -> bool:
    """Move the old engine's session behind ``cookie`` into ``session`` (new, unsaved).

    Returns whether there was one; ``session`` is then stored and bound to its user.
    """
    old = _old_session(engine, cookie)
    data = dict(old.load())
    if not data or not _adopt(session, data):
        return False
    user_id = data.get(AUTH_USER_KEY)
    if user_id is not None:
        session.bind_user(_user(user_id, _username(user_id)))
    session.save()
    old.delete()
    logger.info("session carried over from %s", engine)
    return True


async def amigrate(engine: str, cookie: str, session: SessionStore) -> bool:
    """The async twin of :func:`migrate`."""
    old = _old_session(engine, cookie)
    data = dict(await old.aload())
    if not data or not _adopt(session, data):
        return False
    user_id = data.get(AUTH_USER_KEY)
    if user_id is not None:
        session.bind_user(_user(user_id, await _ausername(user_id)))
    await session.asave()
    await old.adelete()
    logger.info("session carried over from %s", engine)
    return True
