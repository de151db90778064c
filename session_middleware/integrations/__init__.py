"""Framework integrations: typed access to the session in the idiom of each framework.

Each module imports its framework, so import the one you use:
``session_middleware.integrations.starlette``, ``.fastapi`` or ``.flask``.
"""

from __future__ import annotations
