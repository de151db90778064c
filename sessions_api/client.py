"""A typed client for the sessions REST API (protocol v1), sync and async, on httpx.

::

    from sessions_api.client import SessionsClient

    with SessionsClient("http://127.0.0.1:8080", token="...") as api:
        session = api.open_session({"id": "42", "name": "Ada"}, address="10.0.0.7", client="app/1.0")
        api.replace_data("42", session.id, {"cart": [1, 2]})
        print([s.client for s in api.list_sessions("42")])

Errors in the standard format become :class:`SessionsApiError` subclasses chosen by
their ``code``. Calls that are idempotent (list, get, replace data, close) are retried
on connection failures, timeouts and 502/503/504 answers, a bounded number of times with
jittered exponential back-off (``Retry-After`` respected up to ``max_backoff``);
opening a session is retried only when it provably never reached the server.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Self, TypeVar
from urllib.parse import quote

try:
    import httpx
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        'the sessions API client needs httpx: pip install "session-middleware[client]"', name=exc.name
    ) from exc

T = TypeVar("T")

DEFAULT_TIMEOUT = 5.0
DEFAULT_RETRIES = 2
_RETRY_STATUSES = frozenset({502, 503, 504})
# Failures where the request never left: safe to retry whatever the method.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


# -- data --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A session as the API shows it. ``data`` is ``None`` when the caller may not read it."""

    id: str
    opened: datetime
    last_request: datetime
    address: str
    client: str
    user: dict[str, Any] | None
    data: dict[str, Any] | None = None

    @classmethod
    def from_json(cls, obj: Any) -> SessionInfo:
        """:raises ProtocolError: if ``obj`` is not a protocol v1 Session object."""
        try:
            user, data = obj["user"], obj.get("data")
            if not (user is None or isinstance(user, dict)) or not (data is None or isinstance(data, dict)):
                raise TypeError("user and data must be objects")
            return cls(
                id=_text(obj["id"]),
                opened=datetime.fromisoformat(_text(obj["opened"])),
                last_request=datetime.fromisoformat(_text(obj["last_request"])),
                address=_text(obj["address"]),
                client=_text(obj["client"]),
                user=user,
                data=data,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ProtocolError(f"not a Session object: {exc}") from None


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


# -- errors ------------------------------------------------------------------------


class SessionsApiError(Exception):
    """Anything the client raises. For answers in the standard error format, the fields
    are those of the error object; ``status`` is ``None`` when no answer came."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        details: Mapping[str, Any] | None = None,
        correlation_id: str | None = None,
    ) -> None:
        super().__init__(f"{message} ({code})" if code else message)
        self.message = message
        self.status = status
        self.code = code
        self.details = dict(details) if details else None
        self.correlation_id = correlation_id


class BadRequestError(SessionsApiError):
    """400, 405, 413, 415: the request was refused as it stands (``code`` says why)."""


class UnauthorizedError(SessionsApiError):
    """401: no valid token (or own-user session) was presented."""


class ForbiddenError(SessionsApiError):
    """403: the credentials do not allow this operation."""


class NotFoundError(SessionsApiError):
    """404: no such route (check ``base_url`` and ``api_path``)."""


class SessionNotFoundError(NotFoundError):
    """404 ``SESSION_NOT_FOUND``: no such open session for this user."""


class ServerError(SessionsApiError):
    """5xx, or an answer that does not follow the protocol."""


class StoreUnavailableError(ServerError):
    """503 ``STORE_UNAVAILABLE``: the service's store is down; retry later."""


class ProtocolError(ServerError):
    """The service answered something that is not protocol v1."""


class ConnectionFailedError(SessionsApiError):
    """No answer: connection refused, reset or timed out (after the retries)."""


_BY_CODE: Mapping[str, type[SessionsApiError]] = {
    "UNAUTHORIZED": UnauthorizedError,
    "FORBIDDEN": ForbiddenError,
    "NOT_FOUND": NotFoundError,
    "SESSION_NOT_FOUND": SessionNotFoundError,
    "STORE_UNAVAILABLE": StoreUnavailableError,
}
_BY_STATUS: Mapping[int, type[SessionsApiError]] = {401: UnauthorizedError, 403: ForbiddenError, 404: NotFoundError}


def error_from_response(response: httpx.Response) -> SessionsApiError:
    """The typed exception for an error answer, chosen by its ``code``, else its status."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("code"), str):
        kind = ServerError if status >= 500 else _BY_STATUS.get(status, BadRequestError)
        return kind(f"HTTP {status} without a standard error body", status=status)
    code = body["code"]
    kind = _BY_CODE.get(code) or (ServerError if status >= 500 else _BY_STATUS.get(status, BadRequestError))
    details = body.get("details")
    correlation = body.get("correlation_id")
    return kind(
        str(body.get("message") or code),
        status=status,
        code=code,
        details=details if isinstance(details, dict) else None,
        correlation_id=correlation if isinstance(correlation, str) else None,
    )


# -- the shared, IO-free part ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Call(Generic[T]):
    """One API operation: the request to send and how to read a successful answer."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    idempotent: bool = True
    correlation_id: str | None = None


def _sessions(response: httpx.Response) -> list[SessionInfo]:
    items = _json(response)
    if not isinstance(items, list):
        raise ProtocolError("expected an array of sessions", status=response.status_code)
    return [SessionInfo.from_json(item) for item in items]


def _session(response: httpx.Response) -> SessionInfo:
    return SessionInfo.from_json(_json(response))


def _nothing(response: httpx.Response) -> None:
    return None


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise ProtocolError("the answer is not JSON", status=response.status_code) from None


class _BaseClient:
    """Everything but the IO: building calls, reading answers, deciding on retries."""

    def __init__(self, *, token: str | None, api_path: str, retries: int, backoff: float, max_backoff: float) -> None:
        if retries < 0 or backoff < 0 or max_backoff < 0:
            raise ValueError("retries, backoff and max_backoff must not be negative")
        self._headers = {"Accept": "application/json"}
        if token is not None:
            self._headers["Authorization"] = f"Bearer {token}"
        self._prefix = "/" + api_path.strip("/") if api_path.strip("/") else ""
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff

    def _user_path(self, user_id: str) -> str:
        if not user_id:
            raise ValueError("user_id must not be empty")
        return f"{self._prefix}/{quote(user_id, safe='')}"

    def _list(self, user_id: str, correlation_id: str | None) -> _Call[list[SessionInfo]]:
        return _Call("GET", self._user_path(user_id), _sessions, correlation_id=correlation_id)

    def _get(self, user_id: str, session_id: str, correlation_id: str | None) -> _Call[SessionInfo]:
        path = self._user_path(user_id)
        return _Call("GET", path, _session, {"session_id": session_id}, correlation_id=correlation_id)

    def _open(
        self,
        user: Mapping[str, Any],
        address: str,
        client: str,
        data: Mapping[str, Any] | None,
        correlation_id: str | None,
    ) -> _Call[SessionInfo]:
        body: dict[str, Any] = {"user": dict(user), "address": address, "client": client}
        if data is not None:
            body["data"] = dict(data)
        path = self._prefix or "/"
        return _Call("POST", path, _session, body=body, idempotent=False, correlation_id=correlation_id)

    def _replace(
        self, user_id: str, session_id: str, data: Mapping[str, Any], correlation_id: str | None
    ) -> _Call[None]:
        path = self._user_path(user_id)
        params = {"session_id": session_id}
        return _Call("POST", path, _nothing, params, {"data": dict(data)}, correlation_id=correlation_id)

    def _close(self, user_id: str, session_id: str, correlation_id: str | None) -> _Call[None]:
        path = self._user_path(user_id)
        return _Call("DELETE", path, _nothing, {"session_id": session_id}, correlation_id=correlation_id)

    def _close_matching(
        self, user_id: str, address: str | None, client: str | None, correlation_id: str | None
    ) -> _Call[None]:
        params = {k: v for k, v in (("address", address), ("client", client)) if v is not None}
        if not any(v.strip() for v in params.values()):
            raise ValueError("give address and/or client: closing every session of a user is not an operation")
        return _Call("DELETE", self._user_path(user_id), _nothing, params, correlation_id=correlation_id)

    def _request(self, client: httpx.Client | httpx.AsyncClient, call: _Call[Any]) -> httpx.Request:
        headers = dict(self._headers)
        if call.correlation_id is not None:
            headers["X-Correlation-Id"] = call.correlation_id
        return client.build_request(call.method, call.path, params=call.params, json=call.body, headers=headers)

    def _outcome(self, call: _Call[T], response: httpx.Response) -> T:
        if response.is_success:
            return call.parse(response)
        raise error_from_response(response)

    def _delay(self, call: _Call[Any], attempt: int, outcome: httpx.Response | Exception) -> float | None:
        """Seconds to wait before another try, or ``None`` to give up with this outcome."""
        if attempt >= self.retries:
            return None
        if isinstance(outcome, httpx.Response):
            if not call.idempotent or outcome.status_code not in _RETRY_STATUSES:
                return None
            hint = _retry_after(outcome)
            if hint is not None:
                return min(hint, self.max_backoff)
        elif not (isinstance(outcome, _NOT_SENT) or (call.idempotent and isinstance(outcome, httpx.TransportError))):
            return None
        # Full jitter: spreads the retries of many clients hitting one recovering service.
        return random.uniform(0, min(self.max_backoff, self.backoff * 2**attempt))  # noqa: S311 - not security


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


def _failed(exc: httpx.TransportError) -> ConnectionFailedError:
    return ConnectionFailedError(f"no answer from the sessions service: {type(exc).__name__}: {exc}")


# -- the two IO drivers ------------------------------------------------------------


class SessionsClient(_BaseClient):
    """Blocking client for the standalone service (``python -m sessions_api``) or a mounted API.

    :param base_url: the service's root, e.g. ``http://127.0.0.1:8080``.
    :param token: a bearer token from the service's ``--token`` / ``api_token``.
    :param api_path: where the API is mounted under ``base_url`` (``/sessions``).
    :param timeout: seconds, or an ``httpx.Timeout``, for each attempt.
    :param retries: extra attempts allowed for a call that may be retried.
    :param backoff: base of the exponential back-off, in seconds.
    :param max_backoff: the longest single wait, also for ``Retry-After``.
    :param transport: an httpx transport (e.g. ``httpx.WSGITransport(app)`` in tests).
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        api_path: str = "/sessions",
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff: float = 0.1,
        max_backoff: float = 2.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(token=token, api_path=api_path, retries=retries, backoff=backoff, max_backoff=max_backoff)
        self._http = httpx.Client(base_url=base_url, timeout=timeout, transport=transport)

    def list_sessions(self, user_id: str, *, correlation_id: str | None = None) -> list[SessionInfo]:
        """The user's open sessions, oldest first (``[]`` if none)."""
        return self._send(self._list(user_id, correlation_id))

    def get_session(self, user_id: str, session_id: str, *, correlation_id: str | None = None) -> SessionInfo:
        """One session of the user (refreshing its ``last_request``).

        :raises SessionNotFoundError: if it is not an open session of this user."""
        return self._send(self._get(user_id, session_id, correlation_id))

    def open_session(
        self,
        user: Mapping[str, Any],
        *,
        address: str,
        client: str,
        data: Mapping[str, Any] | None = None,
        correlation_id: str | None = None,
    ) -> SessionInfo:
        """Open a session for ``user`` (``{"id", "name"}``); the user's open session from the
        same address and client is reused instead, as the protocol says."""
        return self._send(self._open(user, address, client, data, correlation_id))

    def replace_data(
        self, user_id: str, session_id: str, data: Mapping[str, Any], *, correlation_id: str | None = None
    ) -> None:
        """Replace the session's data with ``data`` (a JSON object)."""
        self._send(self._replace(user_id, session_id, data, correlation_id))

    def close_session(self, user_id: str, session_id: str, *, correlation_id: str | None = None) -> None:
        """Close one session; closing one already gone is not an error."""
        self._send(self._close(user_id, session_id, correlation_id))

    def close_sessions(
        self,
        user_id: str,
        *,
        address: str | None = None,
        client: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        """Close the user's sessions from ``address`` and/or ``client`` (at least one is required)."""
        self._send(self._close_matching(user_id, address, client, correlation_id))

    def _send(self, call: _Call[T]) -> T:
        attempt = 0
        while True:
            outcome: httpx.Response | httpx.TransportError
            try:
                outcome = self._http.send(self._request(self._http, call))
            except httpx.TransportError as exc:
                outcome = exc
            delay = self._delay(call, attempt, outcome)
            if delay is None:
                if isinstance(outcome, httpx.TransportError):
                    raise _failed(outcome) from outcome
                return self._outcome(call, outcome)
            attempt += 1
            time.sleep(delay)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncSessionsClient(_BaseClient):
    """The same client for asyncio code: every method is a coroutine (see :class:`SessionsClient`)."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        api_path: str = "/sessions",
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff: float = 0.1,
        max_backoff: float = 2.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(token=token, api_path=api_path, retries=retries, backoff=backoff, max_backoff=max_backoff)
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)

    async def list_sessions(self, user_id: str, *, correlation_id: str | None = None) -> list[SessionInfo]:
        return await self._send(self._list(user_id, correlation_id))

    async def get_session(self, user_id: str, session_id: str, *, correlation_id: str | None = None) -> SessionInfo:
        return await self._send(self._get(user_id, session_id, correlation_id))

    async def open_session(
        self,
        user: Mapping[str, Any],
        *,
        address: str,
        client: str,
        data: Mapping[str, Any] | None = None,
        correlation_id: str | None = None,
    ) -> SessionInfo:
        return await self._send(self._open(user, address, client, data, correlation_id))

    async def replace_data(
        self, user_id: str, session_id: str, data: Mapping[str, Any], *, correlation_id: str | None = None
    ) -> None:
        await self._send(self._replace(user_id, session_id, data, correlation_id))

    async def close_session(self, user_id: str, session_id: str, *, correlation_id: str | None = None) -> None:
        await self._send(self._close(user_id, session_id, correlation_id))

    async def close_sessions(
        self,
        user_id: str,
        *,
        address: str | None = None,
        client: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        await self._send(self._close_matching(user_id, address, client, correlation_id))

    async def _send(self, call: _Call[T]) -> T:
        attempt = 0
        while True:
            outcome: httpx.Response | httpx.TransportError
            try:
                outcome = await self._http.send(self._request(self._http, call))
            except httpx.TransportError as exc:
                outcome = exc
            delay = self._delay(call, attempt, outcome)
            if delay is None:
                if isinstance(outcome, httpx.TransportError):
                    raise _failed(outcome) from outcome
                return self._outcome(call, outcome)
            attempt += 1
            await asyncio.sleep(delay)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
