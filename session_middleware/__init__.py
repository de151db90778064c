"""Server-side sessions for ASGI and WSGI apps, with the /sessions REST API built in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .asgi import SessionMiddleware as SessionMiddleware
from .exceptions import SessionError as SessionError
from .exceptions import StoreError as StoreError
from .records import DataChanges as DataChanges
from .records import SessionRecord as SessionRecord
from .session import Session as Session
from .stores.base import Store as Store
from .stores.memory import MemoryStore as MemoryStore
from .wsgi import WSGISessionMiddleware as WSGISessionMiddleware

if TYPE_CHECKING:
    from .stores.redis import RedisStore as RedisStore

__all__ = [
    "DataChanges",
    "MemoryStore",
    "RedisStore",
    "Session",
    "SessionError",
    "SessionMiddleware",
    "SessionRecord",
    "Store",
    "StoreError",
    "WSGISessionMiddleware",
]


def __getattr__(name: str) -> Any:
    # RedisStore needs the optional ``redis`` extra: import it only when asked for.
    if name == "RedisStore":
        from .stores.redis import RedisStore

        return RedisStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
