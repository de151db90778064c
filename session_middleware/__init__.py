"""Server-side sessions for ASGI and WSGI apps, with the /sessions REST API built in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._asgi import SessionMiddleware as SessionMiddleware
from ._client_info import default_client_name as default_client_name
from ._core import SessionCore as SessionCore
from ._core import SessionOptions as SessionOptions
from ._migration import LegacyCookie as LegacyCookie
from ._migration import StarletteCookie as StarletteCookie
from ._policy import Policy as Policy
from ._request import RequestView as RequestView
from ._session import Outcome as Outcome
from ._session import Session as Session
from ._wsgi import WSGISessionMiddleware as WSGISessionMiddleware
from .exceptions import SessionError as SessionError
from .exceptions import StoreError as StoreError
from .records import DataChanges as DataChanges
from .records import SessionRecord as SessionRecord
from .stores.base import Store as Store
from .stores.memory import MemoryStore as MemoryStore

if TYPE_CHECKING:
    from .stores.redis import RedisStore as RedisStore

__all__ = [
    "DataChanges",
    "LegacyCookie",
    "MemoryStore",
    "Outcome",
    "Policy",
    "RedisStore",
    "RequestView",
    "Session",
    "SessionCore",
    "SessionError",
    "SessionMiddleware",
    "SessionOptions",
    "SessionRecord",
    "StarletteCookie",
    "Store",
    "StoreError",
    "WSGISessionMiddleware",
    "default_client_name",
]


def __getattr__(name: str) -> Any:
    # RedisStore needs the optional ``redis`` extra: import it only when asked for.
    if name == "RedisStore":
        from .stores.redis import RedisStore

        return RedisStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
