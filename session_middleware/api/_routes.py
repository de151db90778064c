"""The routes of protocol v1 and their handlers, written once as store-call flows.

Each handler is a generator: it yields :mod:`session_middleware._ops` store operations,
is sent their results, and returns an :class:`~session_middleware.api.ApiResponse`.
The ASGI driver runs it with ``arun_flow``, the WSGI driver with ``run_flow``. Inputs
reach a handler validated; a handler raises :class:`~session_middleware.api.ApiError` for
refusals that depend on the store (``SESSION_NOT_FOUND``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

from .._core import create_session, event_of
from .._ops import CloseByUser, Delete, FindByClient, Flow, ListByUser, Load, SaveChanges
from .._policy import Policy
from ..events import SessionEvent
from ..records import DataChanges, SessionRecord, id_hash, new_session_id
from ._errors import ApiError
from ._http import ApiResponse, json_response, no_content
from ._jsonio import session_json

logger = logging.getLogger("sessions_api")

# Inside the mount: "/" opens sessions, "/<user_id>" is everything about one user. A
# trailing slash is tolerated; user ids cannot contain "/" (it would be another route).
_MAP = Map(
    [
        Rule("/", endpoint="open", methods=["POST"]),
        Rule("/<user_id>", endpoint="user", methods=["GET", "POST", "DELETE"]),
    ],
    strict_slashes=False,
    merge_slashes=False,
)


def match(path: str, method: str) -> tuple[str, str | None]:
    """The endpoint (``open`` or ``user``) and the raw user id for a path inside the mount.

    :raises ApiError: ``NOT_FOUND``, or ``METHOD_NOT_ALLOWED`` with an ``Allow`` header.
    """
    path = path or "/"
    if "//" in path:
        raise ApiError("NOT_FOUND")
    try:
        endpoint, args = _MAP.bind("localhost").match(path, method)
    except MethodNotAllowed as exc:
        allow = ", ".join(sorted(exc.valid_methods or ()))
        raise ApiError("METHOD_NOT_ALLOWED", headers={"Allow": allow}) from None
    except NotFound:
        raise ApiError("NOT_FOUND") from None
    return str(endpoint), args.get("user_id")


def open_session(
    policy: Policy,
    clock: Callable[[], float],
    user: dict[str, str],
    address: str,
    client: str,
    data: dict[str, str] | None,
    *,
    report: bool = False,
) -> Flow[ApiResponse]:
    """``POST /``: reuse the user's live session from this address and client, else create one.

    A reused session is touched like a request; ``data``, when given, replaces its data.
    """
    uid = user["id"]
    existing = yield FindByClient(uid, address, client)
    if existing is not None:
        record = yield Load(existing.id, uid, policy.touch_interval)
        if record is not None and data is not None:
            saved = yield SaveChanges(record.id, DataChanges(updated=data, clear=True))
            record = replace(record, data=data) if saved else None
        if record is not None:
            logger.info("session %s reused through the API", id_hash(record.id))
            return json_response(201, session_json(record))
    record = policy.new_record(new_session_id(uid), clock(), address=address, client=client, user=user, data=data or {})
    _, evicted = yield from create_session(policy, record, report=report)
    logger.info("session %s opened through the API", id_hash(record.id))
    return replace(json_response(201, session_json(record)), events=(event_of("logged_in", record), *evicted))


def list_sessions(user_id: str, *, with_data: bool) -> Flow[ApiResponse]:
    """``GET /{user_id}``: the user's live sessions, oldest first."""
    records: list[SessionRecord] = yield ListByUser(user_id)
    return json_response(200, [session_json(r, with_data=with_data) for r in records])


def get_session(policy: Policy, user_id: str, session_id: str, *, with_data: bool) -> Flow[ApiResponse]:
    """``GET /{user_id}?session_id=S``: one session, refreshed like a request would."""
    record = yield Load(session_id, user_id, policy.touch_interval)
    if record is None:
        raise ApiError("SESSION_NOT_FOUND")
    return json_response(200, session_json(record, with_data=with_data))


def update_data(user_id: str, session_id: str, data: dict[str, str]) -> Flow[ApiResponse]:
    """``POST /{user_id}?session_id=S``: replace the session's data."""
    record = yield Load(session_id, user_id)
    if record is None:
        raise ApiError("SESSION_NOT_FOUND")
    saved = yield SaveChanges(session_id, DataChanges(updated=data, clear=True))
    if not saved:
        raise ApiError("SESSION_NOT_FOUND")  # closed in between
    logger.info("session %s data replaced through the API", id_hash(session_id))
    return no_content()


def close_session(user_id: str, session_id: str) -> Flow[ApiResponse]:
    """``DELETE /{user_id}?session_id=S``: idempotent; another user's session is left alone."""
    # The scoped load proves ownership (ids never change owner: a login makes a new id).
    record = yield Load(session_id, user_id)
    if record is not None and (yield Delete(session_id)):
        logger.info("session %s closed through the API", id_hash(session_id))
        return replace(no_content(), events=(event_of("closed", record, "revoked"),))
    return no_content()


def close_matching(user_id: str, address: str | None, client: str | None) -> Flow[ApiResponse]:
    """``DELETE /{user_id}?address=A&client=C``: close the user's sessions matching both given."""
    closed = yield CloseByUser(user_id, address, client)
    logger.info("%d session(s) closed through the API by address/client", closed)
    if not closed:
        return no_content()
    event = SessionEvent("closed", None, user_id, client=client or "", address=address or "", reason="revoked")
    return replace(no_content(), events=(event,) * closed)
