"""The OpenAPI document, and Schemathesis driving the ASGI app from it."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from session_middleware import MemoryStore
from session_middleware.api._errors import CODES, ApiError, error_body
from sessions_api import openapi
from sessions_api.server import build_service, openapi_document

TOKEN = "schema-token-0123456789"
SERVICE = build_service(MemoryStore(), [TOKEN])
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", SERVICE)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def test_document_shape() -> None:
    document = openapi()
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) == {"/sessions", "/sessions/{user_id}"}
    assert set(document["paths"]["/sessions"]) == {"post"}
    assert set(document["paths"]["/sessions/{user_id}"]) == {"parameters", "get", "post", "delete"}
    error = document["components"]["schemas"]["Error"]
    assert set(error["required"]) == set(error_body(ApiError("NOT_FOUND"), None))
    assert error["properties"]["code"]["enum"] == sorted(CODES)
    assert set(openapi("/admin/sessions")["paths"]) == {"/admin/sessions", "/admin/sessions/{user_id}"}


def test_document_is_a_fresh_copy_each_time() -> None:
    first = openapi()
    first["components"]["schemas"]["Error"]["required"].clear()
    assert openapi()["components"]["schemas"]["Error"]["required"]


def test_the_service_serves_the_api_document_plus_its_probes() -> None:
    served = SCHEMA.raw_schema
    assert served == openapi_document()
    api = openapi()
    assert {k: v for k, v in served["paths"].items() if k.startswith("/sessions")} == api["paths"]
    assert set(served["paths"]) - set(api["paths"]) == {"/health", "/ready"}


@SCHEMA.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case: Any) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=CHECKS)
