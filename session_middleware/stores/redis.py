"""The shared session store, on Redis or Redis Cluster (redis-py, sync and asyncio)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

try:
    import redis
except ImportError as exc:  # the optional extra is not installed
    raise ImportError(
        'RedisStore needs redis-py, which is not installed: pip install "session-middleware[redis]"'
    ) from exc
import redis.asyncio
import redis.asyncio.cluster
import redis.asyncio.retry
import redis.cluster
import redis.retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError, NoScriptError

from .._drive import adrive, drive
from ..exceptions import StoreError
from ..records import DataChanges, SessionRecord
from . import _redis_flows as flows
from ._redis_deadlines import Deadlines
from ._redis_memo import DEFAULT_MEMO_SIZE, TouchMemo
from ._redis_schema import Batch, Command, Eval, Keys, Op, check_prefix
from .base import Clock

T = TypeVar("T")

SyncClient = redis.Redis | redis.cluster.RedisCluster
AsyncClient = redis.asyncio.Redis | redis.asyncio.cluster.RedisCluster


class RedisStore:
    """Sessions in Redis, shared by every process and host that uses the same server.

    Give a URL (``redis://``, ``rediss://``, ``unix://``) and the store makes its own
    clients with bounded timeouts, or pass your own ``client`` (``redis.Redis`` or
    ``redis.cluster.RedisCluster``, for the sync methods: WSGI) and ``async_client``
    (``redis.asyncio.Redis`` or ``redis.asyncio.cluster.RedisCluster``: ASGI). Clients you
    pass stay yours: :meth:`close` / :meth:`aclose` close only the store's own.

    A request that reads its session costs one round trip: a plain ``HGETALL`` when this
    process saw the session's last request within ``touch_interval``, else a script that
    loads it and, if due, records the request and slides its expiry. One that changes
    data costs one more. On a cluster, a signed-in session whose id carries its user's
    tag (``new_session_id(user_id)``) shares a hash slot with the user's index, so every
    step over both is one atomic script. :meth:`ping` / :meth:`aping` check readiness.
    See ``docs/stores.md``.

    :param url: the server; with ``cluster=True``, any node of a Redis Cluster.
    :param prefix: prepended to every key, so several apps can share a server.
    :param socket_timeout: seconds to wait for a reply before failing with ``StoreError``
        (the sync client's each socket wait; an async call as a whole, within a quarter more).
    :param connect_timeout: seconds to wait for a new connection.
    :param retries: how many times a command is retried on a connection error (after a
        short backoff), which heals connections Redis dropped when it restarted. Timeouts
        are never retried, so a hung server costs one ``socket_timeout``.
    :param health_check_interval: if > 0, a connection idle this long is checked with PING
        before use (an extra round trip); 0 relies on ``retries`` instead.
    :param max_connections: the most connections each client pools (None: unbounded).
    :param clock: the current time in epoch seconds; it alone decides expiry.
    :param memo_size: how many sessions' last requests this store remembers, so that
        reads within ``touch_interval`` need no script (see ``_redis_memo``).
    :param legacy_sessions: whether signed-in sessions stored before ids carried their
        user's tag may exist under this prefix (read through the legacy indexes). Set it
        to False on a new deployment, or ``absolute_timeout`` after upgrading: listing and
        closing a user's sessions then cost one command less, and a signed-in session with
        an untagged id is refused (``ValueError``).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        client: SyncClient | None = None,
        async_client: AsyncClient | None = None,
        prefix: str = "session:",
        cluster: bool = False,
        socket_timeout: float = 1.0,
        connect_timeout: float = 1.0,
        retries: int = 1,
        health_check_interval: float = 0,
        max_connections: int | None = None,
        clock: Clock = time.time,
        memo_size: int = DEFAULT_MEMO_SIZE,
        legacy_sessions: bool = True,
    ) -> None:
        check_prefix(prefix)
        if (url is None) == (client is None and async_client is None):
            raise TypeError("pass either url= or your own client= / async_client=")
        if socket_timeout <= 0 or connect_timeout <= 0 or retries < 0:
            raise ValueError("timeouts must be positive and retries not negative")
        self.clock = clock
        self.prefix = prefix
        self._keys = Keys(prefix, legacy=legacy_sessions)
        self._memo = TouchMemo(memo_size)
        self._owns_clients = url is not None
        if url is not None:
            options: dict[str, Any] = {
                "socket_timeout": socket_timeout,
                "socket_connect_timeout": connect_timeout,
                "health_check_interval": health_check_interval,
            }
            if max_connections is not None:
                options["max_connections"] = max_connections
            backoff = ExponentialWithJitterBackoff(base=0.02, cap=0.25)
            sync_retry = redis.retry.Retry(backoff, retries, supported_errors=(ConnectionError,))
            async_retry = redis.asyncio.retry.Retry(backoff, retries, supported_errors=(ConnectionError,))
            # The async client's socket timeout would put every command's write through
            # asyncio.wait_for, a task and an event-loop turn each; the store bounds each
            # whole call instead, connection included (one coarse timer per event loop).
            async_options = {**options, "socket_timeout": None}
            if cluster:
                client = redis.cluster.RedisCluster.from_url(url, retry=sync_retry, **options)
                async_client = redis.asyncio.cluster.RedisCluster.from_url(url, retry=async_retry, **async_options)
            else:
                client = redis.Redis.from_url(url, retry=sync_retry, **options)
                async_client = redis.asyncio.Redis.from_url(url, retry=async_retry, **async_options)
        self._client = client
        self._async_client = async_client
        self._perform = None if client is None else _performer(client)
        # A client passed in keeps the timeouts it was given.
        call_timeout = socket_timeout if url is not None else None
        self._aperform = None if async_client is None else _async_performer(async_client, call_timeout)

    def __repr__(self) -> str:
        return f"RedisStore(prefix={self.prefix!r})"

    # -- drivers: the only code that exists twice ---------------------------------------

    def _run(self, flow: flows.Flow[T]) -> T:
        if self._perform is None:
            flow.close()
            raise RuntimeError("this RedisStore has no sync client: pass client= (a redis.Redis)")
        try:
            return drive(flow, self._perform, flows.BACKEND_ERRORS)
        except flows.BACKEND_ERRORS as exc:
            raise _store_error(exc) from exc

    async def _arun(self, flow: flows.Flow[T]) -> T:
        if self._aperform is None:
            flow.close()
            raise RuntimeError("this RedisStore has no async client: pass async_client= (a redis.asyncio.Redis)")
        try:
            return await adrive(flow, self._aperform, flows.BACKEND_ERRORS)
        except flows.BACKEND_ERRORS as exc:
            raise _store_error(exc) from exc

    # -- sync ---------------------------------------------------------------------------

    def create(self, record: SessionRecord, *, replaces: str | None = None, max_per_user: int | None = None) -> bool:
        return self._run(flows.create(self._keys, self._memo, record, self.clock(), replaces, max_per_user))

    def load_and_touch(
        self, session_id: str, *, user_id: str | None = None, touch_interval: float = 0.0
    ) -> SessionRecord | None:
        flow = flows.load_and_touch(self._keys, self._memo, session_id, self.clock(), user_id, touch_interval)
        return self._run(flow)

    def save_changes(self, session_id: str, changes: DataChanges) -> bool:
        return self._run(flows.save_changes(self._keys, self._memo, session_id, changes, self.clock()))

    def delete(self, session_id: str) -> bool:
        return self._run(flows.delete(self._keys, self._memo, session_id, self.clock()))

    def list_by_user(self, user_id: str) -> list[SessionRecord]:
        return self._run(flows.list_by_user(self._keys, self._memo, user_id, self.clock()))

    def find_by_client(self, user_id: str, address: str, client: str) -> SessionRecord | None:
        return self._run(flows.find_by_client(self._keys, self._memo, user_id, address, client, self.clock()))

    def close_by_user(
        self, user_id: str, *, address: str | None = None, client: str | None = None, keep: str | None = None
    ) -> int:
        return self._run(flows.close_by_user(self._keys, self._memo, user_id, address, client, keep, self.clock()))

    def ping(self) -> None:
        """One ``PING`` (every node of a cluster), for readiness checks.

        :raises StoreError: if Redis does not answer.
        """
        self._run(flows.ping())

    def close(self) -> None:
        """Close the sync client, if the store made it."""
        if self._owns_clients and self._client is not None:
            self._client.close()

    # -- async twins ----------------------------------------------------------------------

    async def acreate(
        self, record: SessionRecord, *, replaces: str | None = None, max_per_user: int | None = None
    ) -> bool:
        return await self._arun(flows.create(self._keys, self._memo, record, self.clock(), replaces, max_per_user))

    async def aload_and_touch(
        self, session_id: str, *, user_id: str | None = None, touch_interval: float = 0.0
    ) -> SessionRecord | None:
        flow = flows.load_and_touch(self._keys, self._memo, session_id, self.clock(), user_id, touch_interval)
        return await self._arun(flow)

    async def asave_changes(self, session_id: str, changes: DataChanges) -> bool:
        return await self._arun(flows.save_changes(self._keys, self._memo, session_id, changes, self.clock()))

    async def adelete(self, session_id: str) -> bool:
        return await self._arun(flows.delete(self._keys, self._memo, session_id, self.clock()))

    async def alist_by_user(self, user_id: str) -> list[SessionRecord]:
        return await self._arun(flows.list_by_user(self._keys, self._memo, user_id, self.clock()))

    async def afind_by_client(self, user_id: str, address: str, client: str) -> SessionRecord | None:
        return await self._arun(flows.find_by_client(self._keys, self._memo, user_id, address, client, self.clock()))

    async def aclose_by_user(
        self, user_id: str, *, address: str | None = None, client: str | None = None, keep: str | None = None
    ) -> int:
        return await self._arun(
            flows.close_by_user(self._keys, self._memo, user_id, address, client, keep, self.clock())
        )

    async def aping(self) -> None:
        """The async twin of :meth:`ping`."""
        await self._arun(flows.ping())

    async def aclose(self) -> None:
        """Close the async client, if the store made it."""
        if self._owns_clients and self._async_client is not None:
            await self._async_client.aclose()


def _store_error(exc: BaseException) -> StoreError:
    return StoreError(f"Redis failed: {type(exc).__name__}: {exc}")


#: A client method bound to its arguments' container: what one operation sends.
Call = tuple[Callable[..., Any], tuple[Any, ...]]


def _call(client: SyncClient | AsyncClient, op: Op) -> Call:
    """The one mapping of an operation to a client call, shared by both drivers: the sync
    client's methods return the reply, the async client's an awaitable of it."""
    if isinstance(op, Eval):
        return client.evalsha, (op.script.sha, len(op.keys), *op.keys, *op.args)
    if isinstance(op, Command):
        return client.execute_command, op.args
    if isinstance(op, Batch):
        pipe = client.pipeline(transaction=False)
        for command in op.commands:
            pipe.execute_command(*command.args)
        return partial(pipe.execute, raise_on_error=False), ()
    raise TypeError(f"not a Redis operation: {op!r}")


def _reload(client: SyncClient | AsyncClient, op: Op) -> Call:
    """The call that sends a script the server did not know (EVAL caches it)."""
    if not isinstance(op, Eval):
        raise TypeError(f"only a script can be unknown to the server, not {op!r}")
    return client.eval, (op.script.lua, len(op.keys), *op.keys, *op.args)


def _performer(client: SyncClient) -> Callable[[Op], Any]:
    def perform(op: Op) -> Any:
        method, args = _call(client, op)
        try:
            return method(*args)
        except NoScriptError:  # first use on this server, or after a restart: EVAL caches it
            method, args = _reload(client, op)
            return method(*args)

    return perform


def _async_performer(client: AsyncClient, timeout: float | None) -> Callable[[Op], Awaitable[Any]]:
    """Performs operations on the async client; with ``timeout``, each operation (its
    connection, retries and script reload included) fails with ``TimeoutError``, a
    backend error, after that many seconds (``_redis_deadlines``: up to a quarter more).
    redis-py drops a connection whose command was cancelled, so no later command can
    read the late reply."""

    async def perform(op: Op) -> Any:
        method, args = _call(client, op)
        try:
            return await method(*args)
        except NoScriptError:
            method, args = _reload(client, op)
            return await method(*args)

    if timeout is None:
        return perform
    deadlines = Deadlines(timeout)

    async def perform_within(op: Op) -> Any:
        return await deadlines.run(perform, op)

    return perform_within
