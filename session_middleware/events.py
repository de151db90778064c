"""Session lifecycle events for the host app: sign-ins, sign-outs and store failures.

The middleware and the REST API call the app's ``on_event`` hook with a
:class:`SessionEvent` when a session is created, logged in, regenerated or closed, and
when the store fails. A hook is the app's own code: whatever it raises is logged and
never reaches the request, which must not fail because an audit log did.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, get_args

from .records import id_hash

logger = logging.getLogger("session_middleware")

EventKind = Literal["created", "logged_in", "regenerated", "closed", "store_failure"]
#: Why a session closed: its user signed out, it was closed through the REST API, or it
#: was the least recently used one past ``max_sessions_per_user``.
CloseReason = Literal["logout", "revoked", "evicted"]
EVENT_KINDS: frozenset[str] = frozenset(get_args(EventKind))
CLOSE_REASONS: frozenset[str] = frozenset(get_args(CloseReason))


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class SessionEvent:
    """One thing that happened to a session.

    ``session_id`` is the public handle the REST API shows (never the signed cookie):
    enough to close the session through the API, useless as a credential. It is left out
    of ``repr()`` so that logging an event does not log the id; ``session_hash`` names it
    in logs instead. ``reason`` is set for ``"closed"`` events only.

    :raises ValueError: for an unknown ``kind`` or ``reason``, a ``reason`` on another
        kind of event, or a naive ``at``.
    """

    kind: EventKind
    session_id: str | None = field(repr=False)
    user_id: str | None = None
    user_name: str | None = None
    client: str = ""
    address: str = ""
    reason: CloseReason | None = None
    at: datetime = field(default_factory=_now)

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {self.kind!r}; expected one of {sorted(EVENT_KINDS)}")
        if self.reason is not None and (self.kind != "closed" or self.reason not in CLOSE_REASONS):
            raise ValueError(f"reason {self.reason!r} is not one of {sorted(CLOSE_REASONS)} on a 'closed' event")
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("at must be an aware datetime (UTC)")

    @property
    def session_hash(self) -> str | None:
        """The short, irreversible tag of ``session_id`` that log lines use."""
        return None if self.session_id is None else id_hash(self.session_id)


#: The app's hook: any callable taking the event. Under ASGI it may be ``async``; under
#: WSGI it must be a plain function (an awaitable it returns is refused and logged).
EventHook = Callable[[SessionEvent], object]


def emit(hook: EventHook | None, event: SessionEvent) -> None:
    """Call ``hook`` with ``event`` from synchronous code; never raises (but ``BaseException``).

    An awaitable result cannot be awaited here: it is closed unrun and logged as an error.
    """
    if hook is None:
        return
    try:
        result = hook(event)
    except Exception as exc:
        _hook_failed(event, exc)
        return
    if inspect.isawaitable(result):
        _discard(result)
        logger.error(
            "on_event hook returned an awaitable from a synchronous call; the %s event was dropped "
            "(under WSGI, use a plain function)",
            event.kind,
        )


async def aemit(hook: EventHook | None, event: SessionEvent) -> None:
    """Call ``hook`` with ``event`` and await its result if it is awaitable; never raises (but ``BaseException``)."""
    if hook is None:
        return
    try:
        result = hook(event)
        if inspect.isawaitable(result):
            await result
    except Exception as exc:
        _hook_failed(event, exc)


def _hook_failed(event: SessionEvent, exc: Exception) -> None:
    # The exception's text may quote the event (and its id): the class name only, the rest at DEBUG.
    session = event.session_hash or "none"
    logger.error("on_event hook failed on a %s event (session %s): %s", event.kind, session, type(exc).__name__)
    logger.debug("on_event hook traceback", exc_info=exc)


def _discard(result: Awaitable[object]) -> None:
    """Close a coroutine (or cancel a future) so that it is neither run nor warned about."""
    close = getattr(result, "close", None)
    if callable(close):
        close()
        return
    cancel = getattr(result, "cancel", None)
    if callable(cancel):
        cancel()
