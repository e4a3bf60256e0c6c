"""One OpenAPI standard for the three services: readable, unique operation ids; every tag
described; the real error body on every error response; a typed answer for every operation."""

from __future__ import annotations

import re
from typing import Any

import pytest

from shared.http.tags import DESCRIBED

METHODS = ("get", "post", "patch", "put", "delete")
# The probes: {"status": "ok"}, and readiness whose detail is each runtime's own.
UNTYPED_ALLOWED = {("get", "/healthz"), ("get", "/readyz")}


def document(kind: str) -> dict[str, Any]:
    module = __import__(f"services.{kind}.main", fromlist=["create_app"])
    return module.create_app(lambda: None).openapi()


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


@pytest.mark.parametrize("kind", ["outflow", "inflow", "sync"])
def test_operation_ids_are_readable_and_unique(kind: str) -> None:
    ids = [op["operationId"] for _, _, op in operations(document(kind))]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for operation_id in ids:
        assert re.fullmatch(r"[a-z][a-z0-9_]{2,60}", operation_id), operation_id


@pytest.mark.parametrize("kind", ["outflow", "inflow", "sync"])
def test_every_tag_is_described(kind: str) -> None:
    doc = document(kind)
    used = {tag for _, _, op in operations(doc) for tag in op.get("tags", [])}
    assert used <= DESCRIBED, used - DESCRIBED
    described = {t["name"]: t["description"] for t in doc.get("tags", [])}
    assert all(described.get(tag) for tag in used)


@pytest.mark.parametrize("kind", ["outflow", "inflow", "sync"])
def test_every_error_response_documents_the_real_error_body(kind: str) -> None:
    doc = document(kind)
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    body = doc["components"]["schemas"]["ErrorBody"]
    assert body["required"] == ["error"]
    for method, path, op in operations(doc):
        if path in ("/healthz", "/readyz", "/metrics") or path.startswith("/dashboard"):
            continue
        errors = {s: r for s, r in op["responses"].items() if s[0] in "45"}
        assert {"401", "403", "422"} <= set(errors), (method, path, sorted(errors))
        for status, response in errors.items():
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)


@pytest.mark.parametrize("kind", ["outflow", "inflow", "sync"])
def test_every_json_answer_is_typed(kind: str) -> None:
    doc = document(kind)
    for method, path, op in operations(doc):
        if (method, path) in UNTYPED_ALLOWED:
            continue
        for status, response in op["responses"].items():
            content = response.get("content", {}).get("application/json")
            if not status.startswith("2") or content is None:
                continue
            schema = resolve(doc, content["schema"])
            if schema.get("type") == "array":
                schema = resolve(doc, schema["items"])
            assert (
                schema.get("properties")
                or schema.get("anyOf")
                or schema.get("type")
                in (
                    "string",
                    "integer",
                    "boolean",
                )
            ), (method, path, status, schema)
