"""Property-based requests from each service's own OpenAPI document (schemathesis), with a valid
token for the role that may call the most of it: no input may produce a server error (5xx).

Schemathesis's pytest plugin does not run under pytest 9, so operations are driven directly
through their hypothesis strategies; examples per operation are kept small.
"""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from tests.security.routes import HOST, ORIGIN
from tests.support.harness import auth

ACTING = {
    "outflow": auth("origin_operator", ORIGIN),
    "inflow": auth("host_operator", HOST),
    "sync": auth("sync_admin"),
}
FAST = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    derandomize=True,  # the same examples every run: a failure here is reproducible
)


@pytest.mark.parametrize("service", ["outflow", "inflow", "sync"])
def test_no_input_produces_a_server_error(services: dict[str, TestClient], service: str) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", services[service].app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @FAST
        @given(case=operation.as_strategy())
        def no_server_error(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call(headers=ACTING[service])
            if case.formatted_path == "/readyz" and response.status_code == 503:
                # Readiness, not a failure: "not ready yet" (or degraded) says why, in order.
                assert response.json()["ready"] is False, response.text
                return
            assert response.status_code < 500, (
                f"{service} {case.method} {case.formatted_path} query={case.query} "
                f"body={case.body!r} -> {response.status_code} {response.text[:300]}"
            )

        try:
            no_server_error()
        except AssertionError as exc:
            failures.append(str(exc).splitlines()[0])
    assert operations >= 2
    assert not failures, "\n".join(failures)
