"""Property-based testing kit: strategies, a fake clock and lifecycle state machines.

``FakeClock`` needs nothing beyond the package; everything else is built on Hypothesis
(install the ``testing`` extra) and imported on first use, so ``import
session_middleware.testing`` stays cheap and works without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .clock import FakeClock as FakeClock

if TYPE_CHECKING:
    from . import strategies as strategies
    from .app_machine import AppLifecycle as AppLifecycle
    from .app_model import AppModel as AppModel
    from .client import AppClient as AppClient
    from .client import Reply as Reply
    from .client import Request as Request
    from .probes import probe_action as probe_action
    from .probes import probe_asgi_app as probe_asgi_app
    from .probes import probe_wsgi_app as probe_wsgi_app
    from .store_machine import AsyncStoreLifecycle as AsyncStoreLifecycle
    from .store_machine import StoreLifecycle as StoreLifecycle
    from .store_model import StoreModel as StoreModel

__all__ = [
    "AppClient",
    "AppLifecycle",
    "AppModel",
    "AsyncStoreLifecycle",
    "FakeClock",
    "Reply",
    "Request",
    "StoreLifecycle",
    "StoreModel",
    "probe_action",
    "probe_asgi_app",
    "probe_wsgi_app",
    "strategies",
]

_LAZY = {
    "strategies": (".strategies", None),
    "AppLifecycle": (".app_machine", "AppLifecycle"),
    "AppModel": (".app_model", "AppModel"),
    "AppClient": (".client", "AppClient"),
    "Reply": (".client", "Reply"),
    "Request": (".client", "Request"),
    "probe_action": (".probes", "probe_action"),
    "probe_asgi_app": (".probes", "probe_asgi_app"),
    "probe_wsgi_app": (".probes", "probe_wsgi_app"),
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
    try:
        module = import_module(module_name, __name__)
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.partition(".")[0] != "hypothesis":
            raise
        raise ImportError(
            f'session_middleware.testing.{name} needs Hypothesis: pip install "session-middleware[testing]"',
            name=exc.name,
        ) from exc
    return module if attribute is None else getattr(module, attribute)
