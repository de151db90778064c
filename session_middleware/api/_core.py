"""The API core: configuration and the one request pipeline both drivers run.

A request goes through: routing (404/405), access (401/403), query parameters and
path ids (400), content type and body (415/400), then the route's handler, the only
step that touches the store. The driver has already bounded the body (413) and asked
``api_authorize``, since only it can await; everything else is decided here, once.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, TypedDict

from .._failure_log import StoreFailureLog
from .._ops import Flow
from .._policy import DEFAULT_ABSOLUTE_TIMEOUT, DEFAULT_IDLE_TIMEOUT, RETRY_AFTER_SECONDS, Policy
from ..events import EventHook
from ..exceptions import StoreError
from ..stores.base import Store
from . import _access as access
from . import _routes as routes
from . import _validation as validation
from ._access import Action, Grant
from ._errors import ApiError, error_body
from ._http import BASE_HEADERS, ApiRequest, ApiResponse, json_response
from ._jsonio import parse_object

logger = logging.getLogger("sessions_api")

DEFAULT_MAX_BODY_SIZE = 1024 * 1024

_GET_PARAMS = frozenset({"session_id", "correlation_id"})
_DELETE_PARAMS = frozenset({"session_id", "address", "client", "correlation_id"})
_OPEN_FIELDS = ("user", "address", "client", "data")


class ApiOptions(TypedDict, total=False):
    """Keyword options of ``create_asgi_app`` and ``create_wsgi_app``.

    The session middleware passes its tokens, ``api_authorize`` and its whole
    :class:`~session_middleware._policy.Policy` when it mounts the API at ``api_path``.
    """

    #: Bearer token(s) with full access, compared in constant time.
    api_token: str | Sequence[str] | None
    #: Called with the :class:`~sessions_api.ApiRequest` when no token matched; full
    #: access only if it returns ``True`` (ASGI also awaits an awaitable result).
    api_authorize: Callable[[ApiRequest], Any] | None
    #: Seconds without a request after which a session opened through the API ends (24 h).
    idle_timeout: float | timedelta
    #: Seconds after opening at which a session opened through the API ends (14 days).
    absolute_timeout: float | timedelta
    #: Opening one more session closes that user's least recently used ones.
    max_sessions_per_user: int | None
    #: A GET of one session refreshes it only when its last request is older (see the middleware).
    touch_interval: float | timedelta | None
    #: All of the above at once (what the middleware passes); excludes the separate options.
    policy: Policy
    #: Bodies larger than this get 413 before they are read whole (1 MiB).
    max_body_size: int
    #: Put the cause and stack trace of server errors into error responses.
    debug: bool
    #: Called with a :class:`~session_middleware.events.SessionEvent` when the API opens or
    #: closes a session (as the middleware's ``on_event``).
    on_event: EventHook | None


class ApiCore:
    """Validated options of one API instance and its protocol-neutral request handling."""

    def __init__(
        self,
        store: Store,
        *,
        api_token: str | Sequence[str] | None = None,
        api_authorize: Callable[[ApiRequest], Any] | None = None,
        idle_timeout: float | timedelta = DEFAULT_IDLE_TIMEOUT,
        absolute_timeout: float | timedelta = DEFAULT_ABSOLUTE_TIMEOUT,
        max_sessions_per_user: int | None = None,
        touch_interval: float | timedelta | None = None,
        policy: Policy | None = None,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        debug: bool = False,
        on_event: EventHook | None = None,
    ) -> None:
        if api_authorize is not None and not callable(api_authorize):
            raise TypeError("api_authorize must be a callable taking the request")
        if policy is None:
            policy = Policy.make(
                idle_timeout=idle_timeout,
                absolute_timeout=absolute_timeout,
                touch_interval=touch_interval,
                max_sessions_per_user=max_sessions_per_user,
            )
        if max_body_size < 1:
            raise ValueError("max_body_size must be at least 1 byte")
        self.store = store
        self.tokens = access.normalize_tokens(api_token)
        self.api_authorize = api_authorize
        self.policy = policy
        self.max_body_size = max_body_size
        self.debug = debug
        if on_event is not None and not callable(on_event):
            raise TypeError("on_event must be a callable taking a SessionEvent (or None)")
        self.on_event = on_event
        self.failures = StoreFailureLog(logger)

    # -- what the drivers call ---------------------------------------------------------

    def token_grant(self, request: ApiRequest) -> Grant:
        """The grant of the request's bearer token; ``NONE`` means: ask ``api_authorize`` next."""
        return access.token_grant(request, self.tokens)

    def handle(self, request: ApiRequest, grant: Grant) -> Flow[ApiResponse]:
        """The whole request as a flow of store calls; returns the response to send."""
        correlation = validation.correlation_id(request)
        try:
            response = yield from self._dispatch(request, grant)
        except ApiError as error:
            response = self.error(error, correlation)
        return self.finish(request, response, correlation)

    def error(self, error: ApiError, correlation: str | None, exc: BaseException | None = None) -> ApiResponse:
        """A standard error response; ``cause`` and ``stack_trace`` only in debug mode."""
        cause = trace = None
        if self.debug and exc is not None:
            cause = f"{type(exc).__name__}: {exc}"
            trace = "".join(traceback.format_exception(exc))
        body = error_body(error, correlation, cause=cause, stack_trace=trace)
        return json_response(error.status, body, error.headers.items())

    def failure(self, request: ApiRequest, exc: Exception) -> ApiResponse:
        """The response when running the flow raised: 503 for the store, else 500."""
        correlation = validation.correlation_id(request)
        if isinstance(exc, StoreError):
            self.failures.report("a REST API call", exc, None)
            error = ApiError("STORE_UNAVAILABLE", headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        else:
            logger.error("sessions API: unexpected error", exc_info=exc)
            error = ApiError("INTERNAL_ERROR")
        return self.finish(request, self.error(error, correlation, exc), correlation)

    def reject(self, request: ApiRequest, error: ApiError) -> ApiResponse:
        """A refusal decided by a driver before the pipeline (a body too large, say)."""
        correlation = validation.correlation_id(request)
        return self.finish(request, self.error(error, correlation), correlation)

    def content_length(self, headers: Mapping[str, str]) -> int | None:
        """The declared body length, refused (413) when over the limit before anything is read.

        :raises ApiError: ``BAD_REQUEST`` for a malformed header, ``BODY_TOO_LARGE``.
        """
        value = headers.get("content-length")
        if value is None:
            return None
        value = value.strip()
        if not (value.isascii() and value.isdigit()):
            raise ApiError("BAD_REQUEST", "Invalid Content-Length.")
        if len(value) > 18 or int(value) > self.max_body_size:
            raise self.too_large()
        return int(value)

    def refuse_body(self, request: ApiRequest, read: int | None = None) -> ApiResponse | None:
        """The 400 or 413 for a request whose declared body length (``Content-Length``), or
        ``read`` bytes once read, the API does not accept; ``None`` when the body is fine.

        For adapters that read the body themselves (Django's views)."""
        try:
            self.content_length(request.headers)
            if read is not None and read > self.max_body_size:
                raise self.too_large()
        except ApiError as error:
            return self.reject(request, error)
        return None

    def too_large(self) -> ApiError:
        return ApiError("BODY_TOO_LARGE", details={"max_body_size": self.max_body_size})

    @staticmethod
    def finish(request: ApiRequest, response: ApiResponse, correlation: str | None) -> ApiResponse:
        """Add the headers every response carries; HEAD gets the headers without the body."""
        headers = [*BASE_HEADERS, *response.headers]
        if response.status != 204:
            headers.append(("Content-Length", str(len(response.body))))
        if correlation is not None:
            headers.append(("X-Correlation-Id", correlation))
        body = b"" if request.method == "HEAD" else response.body
        return ApiResponse(response.status, tuple(headers), body, response.events)

    # -- the pipeline ------------------------------------------------------------------

    def _dispatch(self, request: ApiRequest, grant: Grant) -> Flow[ApiResponse]:
        endpoint, raw_user_id = routes.match(request.path, request.method)
        if endpoint == "open":
            access.check(request, grant, Action.OPEN, None)
            validation.query_params(request, {"correlation_id"})
            body = self._body(request, _OPEN_FIELDS)
            user = validation.user(body.get("user"))
            address = validation.address(body.get("address"), where="address")
            client = validation.client(body.get("client"), where="client")
            data = validation.data(body["data"]) if body.get("data") is not None else None
            return (
                yield from routes.open_session(
                    self.policy, self.store.clock, user, address, client, data, report=self.on_event is not None
                )
            )

        method = "GET" if request.method == "HEAD" else request.method
        action = {"GET": Action.GET, "POST": Action.UPDATE, "DELETE": Action.CLOSE}[method]
        with_data = access.check(request, grant, action, raw_user_id)
        user_id = validation.user_id(raw_user_id or "")
        if method == "GET":
            params = validation.query_params(request, _GET_PARAMS)
            session_id = validation.session_id(params, required=False)
            if session_id is None:
                return (yield from routes.list_sessions(user_id, with_data=with_data))
            return (yield from routes.get_session(self.policy, user_id, session_id, with_data=with_data))
        if method == "POST":
            params = validation.query_params(request, _GET_PARAMS)
            session_id = validation.session_id(params, required=True)
            assert session_id is not None
            body = self._body(request, ("data",))
            if body.get("data") is None:
                raise ApiError("BAD_DATA", "The body needs a data object.")
            data = validation.data(body["data"])
            return (yield from routes.update_data(user_id, session_id, data))
        return (yield from self._close(request, user_id))

    def _close(self, request: ApiRequest, user_id: str) -> Flow[ApiResponse]:
        params = validation.query_params(request, _DELETE_PARAMS)
        by_origin = "address" in params or "client" in params
        if "session_id" in params:
            if by_origin:
                raise ApiError(
                    "BAD_PARAMETER",
                    "Give session_id, or address and/or client, not both.",
                    details={"parameter": "session_id"},
                )
            session_id = validation.session_id(params, required=True)
            assert session_id is not None
            return (yield from routes.close_session(user_id, session_id))
        if not by_origin:
            raise ApiError("NO_SESSION_ID", "Give session_id, or address and/or client: never all sessions.")
        address = client = None
        if "address" in params:
            address = validation.address(params["address"], where="address")
        if "client" in params:
            client = validation.client(params["client"], where="client")
        return (yield from routes.close_matching(user_id, address, client))

    def _body(self, request: ApiRequest, fields: Sequence[str]) -> dict[str, Any]:
        validation.require_json(request)
        body = parse_object(request.body)
        validation.body_fields(body, fields)
        return body
