"""``python -m sessions_api``: the standalone sessions service."""

from __future__ import annotations

from .server import main

raise SystemExit(main())
