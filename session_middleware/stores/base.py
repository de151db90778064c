"""The Store protocol: what the middleware and the REST API ask of a session store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from ..records import DataChanges, SessionRecord

#: A clock returns the current time in seconds since the epoch (``time.time``).
Clock = Callable[[], float]


@runtime_checkable
class Store(Protocol):
    """Keeps sessions with their expiry and a per-user index.

    Every method has an async twin prefixed with ``a`` (``load_and_touch`` /
    ``aload_and_touch``): the WSGI middleware calls the sync ones, the ASGI middleware
    the async ones. Both share one semantics:

    - A session is gone once ``clock() >= record.expires_at``; an expired session is
      never returned, listed or counted, and its memory is reclaimed without a thread.
    - Operations that write never recreate a session that is gone (no resurrection).
    - A store that cannot reach its backend raises :class:`~session_middleware.StoreError`;
      it never answers as if the session were missing.
    """

    #: The store's notion of now; the middleware and the REST API stamp records with it.
    clock: Clock

    def create(
        self,
        record: SessionRecord,
        *,
        replaces: str | None = None,
        max_per_user: int | None = None,
    ) -> bool:
        """Store a new session.

        :param replaces: the id this session takes over from (login, regenerate). It is
            deleted; if it is already gone, nothing is created and ``False`` returned.
        :param max_per_user: with a user on the record, close that user's least recently
            used sessions so that at most this many remain, the new one included.
        """
        ...

    def load_and_touch(
        self, session_id: str, *, user_id: str | None = None, touch_interval: float = 0.0
    ) -> SessionRecord | None:
        """Load a live session and record a request on it (``last_request``, idle expiry)
        in one operation (one round trip). With ``user_id``, a session of another user is
        not touched and ``None`` is returned.

        :param touch_interval: a session whose stored ``last_request`` is less than this
            many seconds old is returned as stored, and nothing is written; ``0`` touches
            on every call.
        """
        ...

    def save_changes(self, session_id: str, changes: DataChanges) -> bool:
        """Apply per-key data changes; ``False`` (and nothing written) if the session is gone."""
        ...

    def delete(self, session_id: str) -> bool:
        """Close a session; ``True`` if it was live."""
        ...

    def list_by_user(self, user_id: str) -> list[SessionRecord]:
        """The user's live sessions, oldest ``opened`` first."""
        ...

    def find_by_client(self, user_id: str, address: str, client: str) -> SessionRecord | None:
        """The user's most recently used live session opened from this address and client."""
        ...

    def close_by_user(
        self,
        user_id: str,
        *,
        address: str | None = None,
        client: str | None = None,
        keep: str | None = None,
    ) -> int:
        """Close the user's sessions (those matching ``address`` and ``client`` when
        given), except ``keep``; return how many were closed."""
        ...

    def ping(self) -> None:
        """Check that the backend answers (a readiness probe); nothing is read or written.

        :raises ~session_middleware.StoreError: if it does not.
        """
        ...

    def close(self) -> None:
        """Release connections held for the sync methods."""
        ...

    async def acreate(
        self,
        record: SessionRecord,
        *,
        replaces: str | None = None,
        max_per_user: int | None = None,
    ) -> bool: ...

    async def aload_and_touch(
        self, session_id: str, *, user_id: str | None = None, touch_interval: float = 0.0
    ) -> SessionRecord | None: ...

    async def asave_changes(self, session_id: str, changes: DataChanges) -> bool: ...

    async def adelete(self, session_id: str) -> bool: ...

    async def alist_by_user(self, user_id: str) -> list[SessionRecord]: ...

    async def afind_by_client(self, user_id: str, address: str, client: str) -> SessionRecord | None: ...

    async def aclose_by_user(
        self,
        user_id: str,
        *,
        address: str | None = None,
        client: str | None = None,
        keep: str | None = None,
    ) -> int: ...

    async def aping(self) -> None:
        """The async twin of :meth:`ping`."""
        ...

    async def aclose(self) -> None:
        """Release connections held for the async methods."""
        ...


class AsyncFromSync:
    """The async twins of a store whose sync methods never block (memory, a dict).

    Each ``a``-method calls its sync method directly: a thread pool would only add
    cost when nothing waits on I/O. A store that blocks (network, disk) must not use it.
    """

    async def acreate(
        self: Store,
        record: SessionRecord,
        *,
        replaces: str | None = None,
        max_per_user: int | None = None,
    ) -> bool:
        return self.create(record, replaces=replaces, max_per_user=max_per_user)

    async def aload_and_touch(
        self: Store, session_id: str, *, user_id: str | None = None, touch_interval: float = 0.0
    ) -> SessionRecord | None:
        return self.load_and_touch(session_id, user_id=user_id, touch_interval=touch_interval)

    async def asave_changes(self: Store, session_id: str, changes: DataChanges) -> bool:
        return self.save_changes(session_id, changes)

    async def adelete(self: Store, session_id: str) -> bool:
        return self.delete(session_id)

    async def alist_by_user(self: Store, user_id: str) -> list[SessionRecord]:
        return self.list_by_user(user_id)

    async def afind_by_client(self: Store, user_id: str, address: str, client: str) -> SessionRecord | None:
        return self.find_by_client(user_id, address, client)

    async def aclose_by_user(
        self: Store,
        user_id: str,
        *,
        address: str | None = None,
        client: str | None = None,
        keep: str | None = None,
    ) -> int:
        return self.close_by_user(user_id, address=address, client=client, keep=keep)

    async def aping(self: Store) -> None:
        self.ping()

    async def aclose(self: Store) -> None:
        self.close()


def loads_inline(store: Store) -> bool:
    """Whether ``store.aload_and_touch`` is :class:`AsyncFromSync`'s, which only calls
    the sync method: an async adapter may then call that directly and spare a request
    two coroutines. A store that overrides the async method keeps its own."""
    return type(store).aload_and_touch is AsyncFromSync.aload_and_touch
