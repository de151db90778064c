"""Property-based testing kit: strategies, a fake clock and lifecycle state machines.

``FakeClock`` needs nothing beyond the package; everything else is built on Hypothesis
(install the ``testing`` extra) and imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .clock import FakeClock as FakeClock

if TYPE_CHECKING:
    from . import strategies as strategies
    from .store_machine import AsyncStoreLifecycle as AsyncStoreLifecycle
    from .store_machine import StoreLifecycle as StoreLifecycle
    from .store_model import StoreModel as StoreModel

__all__ = ["AsyncStoreLifecycle", "FakeClock", "StoreLifecycle", "StoreModel", "strategies"]

_LAZY = {
    "strategies": (".strategies", None),
    "StoreLifecycle": (".store_machine", "StoreLifecycle"),
    "AsyncStoreLifecycle": (".store_machine", "AsyncStoreLifecycle"),
    "StoreModel": (".store_model", "StoreModel"),
}


def __getattr__(name: str) -> Any:
    # Hypothesis is imported only when a strategy or a machine is asked for.
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    module_name, attribute = _LAZY[name]
    module = import_module(module_name, __name__)
    return module if attribute is None else getattr(module, attribute)
