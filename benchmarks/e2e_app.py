"""The app a uvicorn process serves in the end-to-end run: ``BENCH_STACK`` names the stack."""

from __future__ import annotations

import os
from typing import Any

from .redis_server import RedisServer
from .stacks import build


def create() -> Any:
    port = os.environ.get("BENCH_REDIS_PORT")
    server = RedisServer("127.0.0.1", int(port)) if port else None
    return build(os.environ["BENCH_STACK"], server).app
