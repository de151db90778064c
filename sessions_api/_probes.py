"""The standalone service's health and readiness probes, and their OpenAPI description.

``GET /health`` answers while the process lives (a liveness probe: restart it when this
fails). ``GET /ready`` answers 200 only while the store does (a readiness probe: send it
no traffic meanwhile); a store that fails or takes longer than the timeout makes it 503
with ``Retry-After``, and the service recovers by itself when the store returns.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from session_middleware import Store, StoreError

#: Seconds ``/ready`` waits for the store's answer.
READY_TIMEOUT = 1.0
#: The ``Retry-After`` of a 503 from ``/ready``: a probe's usual period, no longer.
RETRY_AFTER_SECONDS = 2
HEALTH_PATH = "/health"
READY_PATH = "/ready"
OK: dict[str, str] = {"status": "ok"}
UNAVAILABLE: dict[str, str] = {"status": "unavailable"}


async def store_answers(store: Store, timeout: float) -> BaseException | None:
    """``None`` if the store answered a ping within ``timeout`` seconds, else why not.

    Only the store's own failures (``StoreError``) and the timeout mean "not ready";
    anything else is a bug and propagates.
    """
    try:
        await asyncio.wait_for(store.aping(), timeout)
    except (StoreError, TimeoutError) as exc:
        return exc
    return None


def _status(description: str, example: dict[str, str], **headers: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Status"}, "example": example}},
    }
    if headers:
        response["headers"] = {
            name: {"description": text, "required": True, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    return response


def _probe(operation_id: str, summary: str, responses: dict[str, Any]) -> dict[str, Any]:
    # No credentials: orchestrators and load balancers probe without them. HEAD is served too.
    return {"get": {"operationId": operation_id, "summary": summary, "security": [], "responses": responses}}


def with_probes(document: dict[str, Any], ready_timeout: float = READY_TIMEOUT) -> dict[str, Any]:
    """A copy of the API's OpenAPI ``document`` that also describes ``/health`` and ``/ready``."""
    served = copy.deepcopy(document)
    served["paths"][HEALTH_PATH] = _probe(
        "health", "Liveness: the service process answers.", {"200": _status("The process is up.", OK)}
    )
    served["paths"][READY_PATH] = _probe(
        "ready",
        f"Readiness: the session store answers within {ready_timeout:g} s.",
        {
            "200": _status("The store answers: send traffic.", OK),
            "503": _status("The store does not answer.", UNAVAILABLE, **{"Retry-After": "Seconds to wait."}),
        },
    )
    served.setdefault("components", {}).setdefault("schemas", {})["Status"] = {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"type": "string", "enum": ["ok", "unavailable"]}},
    }
    return served
