"""The OpenAPI document describes every operation, with examples, and every route needs a token."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.outflow.conftest import error_code

METHODS = ("get", "post", "patch", "put", "delete")
# This service's own routers (shared routers, e.g. health or audited personal data, are not ours).
TAGS = {
    "members",
    "departures",
    "verification",
    "lost contact",
    "transfers",
    "assessments",
    "assistance fund",
}


def test_every_operation_is_described_with_examples(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    operations = [
        (path, method, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS and set(op.get("tags", ())) & TAGS
    ]
    assert len(operations) >= 35
    schemas = doc["components"]["schemas"]
    for path, method, op in operations:
        assert op.get("summary"), f"{method} {path} has no summary"
        body = op.get("requestBody")
        if body:
            ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
            props = schemas[ref]["properties"]
            assert any("examples" in p for p in props.values()), f"{ref} has no examples"
        assert "401" in op["responses"] and "422" in op["responses"], f"{method} {path}"
    fund_writes = [op for p, m, op in operations if p.startswith("/api/v1/fund") and m == "post"]
    assert fund_writes and all(
        any(p["name"] == "Idempotency-Key" for p in op.get("parameters", [])) for op in fund_writes
    )


def test_every_api_route_requires_a_token(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    sample = "00000000-0000-0000-0000-000000000001"
    for path, item in doc["paths"].items():
        if not path.startswith("/api/"):
            continue
        concrete = (
            path.replace("{member_id}", sample)
            .replace("{application_id}", sample)
            .replace("{arrival_id}", sample)
            .replace("{letter_no}", "L1")
            .replace("{year}", "2026")
        )
        for method, op in item.items():
            if method in METHODS and set(op.get("tags", ())) & TAGS:
                r = client.request(method.upper(), concrete)
                assert r.status_code == 401, f"{method} {path}: {r.status_code}"
                assert error_code(r) == "auth.required"
