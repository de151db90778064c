"""Redis clients that fail one chosen command, to test every partial failure of a store.

A store's commands are plain data, so failing "the k-th command" is cheap: wrap a real
client (sync or asyncio) in :class:`FaultySyncClient` / :class:`FaultyAsyncClient`, arm a
:class:`Fault` and run the operation. The k-th command then either fails before it is
sent (``"before"``: a connection error, nothing ran) or runs and loses its reply
(``"after"``: a timeout, everything ran). A pipeline counts as one command.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from redis.exceptions import ConnectionError, TimeoutError

MODES = ("before", "after")


class InjectedConnectionError(ConnectionError):
    """Raised instead of sending the command."""


class InjectedTimeout(TimeoutError):
    """Raised after the command ran, as if its reply never came."""


class Fault:
    """Counts commands while armed and fails the ``at``-th one (1-based) the ``mode`` way."""

    def __init__(self) -> None:
        self.at: int | None = None
        self.mode = "before"
        self.armed = False
        self.steps = 0
        self.fired = False

    def arm(self, at: int | None = None, mode: str = "before") -> None:
        assert mode in MODES
        self.at, self.mode, self.armed, self.steps, self.fired = at, mode, True, 0, False

    def disarm(self) -> int:
        """Stop counting; return how many commands were sent while armed."""
        self.armed = False
        return self.steps

    def _next(self) -> bool:
        if not self.armed:
            return False
        self.steps += 1
        fails = self.steps == self.at
        self.fired = self.fired or fails
        return fails

    def run(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        fails = self._next()
        if fails and self.mode == "before":
            raise InjectedConnectionError(f"injected: command {self.steps} not sent")
        result = call(*args, **kwargs)
        if fails:
            raise InjectedTimeout(f"injected: command {self.steps} ran, its reply is lost")
        return result

    async def arun(self, call: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        fails = self._next()
        if fails and self.mode == "before":
            raise InjectedConnectionError(f"injected: command {self.steps} not sent")
        result = await call(*args, **kwargs)
        if fails:
            raise InjectedTimeout(f"injected: command {self.steps} ran, its reply is lost")
        return result


class _Pipeline:
    def __init__(self, pipe: Any, run: Callable[..., Any]) -> None:
        self._pipe, self._run = pipe, run

    def execute_command(self, *args: Any) -> _Pipeline:
        self._pipe.execute_command(*args)
        return self

    def execute(self, **kwargs: Any) -> Any:
        return self._run(self._pipe.execute, **kwargs)


class FaultySyncClient:
    """The part of ``redis.Redis`` a RedisStore uses, failing as ``fault`` says."""

    def __init__(self, client: Any, fault: Fault) -> None:
        self.client, self.fault = client, fault

    def evalsha(self, *args: Any) -> Any:
        return self.fault.run(self.client.evalsha, *args)

    def eval(self, *args: Any) -> Any:
        return self.fault.run(self.client.eval, *args)

    def execute_command(self, *args: Any) -> Any:
        return self.fault.run(self.client.execute_command, *args)

    def pipeline(self, **kwargs: Any) -> _Pipeline:
        return _Pipeline(self.client.pipeline(**kwargs), self.fault.run)


class FaultyAsyncClient:
    """The part of ``redis.asyncio.Redis`` a RedisStore uses, failing as ``fault`` says."""

    def __init__(self, client: Any, fault: Fault) -> None:
        self.client, self.fault = client, fault

    async def evalsha(self, *args: Any) -> Any:
        return await self.fault.arun(self.client.evalsha, *args)

    async def eval(self, *args: Any) -> Any:
        return await self.fault.arun(self.client.eval, *args)

    async def execute_command(self, *args: Any) -> Any:
        return await self.fault.arun(self.client.execute_command, *args)

    def pipeline(self, **kwargs: Any) -> _Pipeline:
        return _Pipeline(self.client.pipeline(**kwargs), self.fault.arun)
