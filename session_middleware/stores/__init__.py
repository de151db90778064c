"""Session stores: :class:`MemoryStore` in-process, :class:`RedisStore` shared."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import AsyncFromSync as AsyncFromSync
from .base import Clock as Clock
from .base import Store as Store
from .memory import MemoryStore as MemoryStore

if TYPE_CHECKING:
    from .redis import RedisStore as RedisStore

__all__ = ["AsyncFromSync", "Clock", "MemoryStore", "RedisStore", "Store"]


def __getattr__(name: str) -> Any:
    # RedisStore needs the optional ``redis`` extra: import it only when asked for.
    if name == "RedisStore":
        from .redis import RedisStore

        return RedisStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
