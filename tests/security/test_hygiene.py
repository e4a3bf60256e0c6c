"""Request hygiene of the shared service shell: size limits, strict bodies, no traces, headers,
CORS closed by default, docs behind a token in production, and start-up refusals."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict

from shared.config import DEV_SECRET
from shared.http.app import service_app
from shared.http.auth import allow
from shared.security.deployment import InsecureDeployment, check_deployment
from shared.security.tokens import Role, issue_token
from tests.security.routes import bearer, operations
from tests.support.harness import auth, running, settings_for

STRONG = "s" * 40
SECRET_DETAIL = "db password is hunter2"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str


class StubRuntime:
    place = "371326"

    def __init__(self, tmp: Path, **settings: Any):
        defaults = {"environment": "development", "cipher_key": "", "max_body_bytes": 2_000}
        self.settings = SimpleNamespace(**(defaults | settings))
        self.jwt_secret = settings.get("jwt_secret", DEV_SECRET)
        self.engine = sa.create_engine(f"sqlite:///{tmp}/stub.db")

    async def start(self) -> None: ...

    async def stop(self) -> None:
        self.engine.dispose()

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        return True, {}


def stub_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1")
    writer = Depends(allow(Role.ORIGIN_OPERATOR))

    @router.post("/echo", summary="Echo")
    def echo(body: Body, _: Any = writer) -> dict[str, int]:
        return {"length": len(body.text)}

    @router.get("/boom", summary="Fails")
    def boom(_: Any = Depends(allow(Role.ORIGIN_OPERATOR, Role.AUDITOR))) -> None:
        raise RuntimeError(SECRET_DETAIL)

    return router


@pytest.fixture
def stub(tmp_path: Path) -> Iterator[Any]:
    def make(**settings: Any) -> TestClient:
        app = service_app(
            title="liangdi outflow — stub",
            description="stub",
            routers=[stub_router()],
            build_runtime=lambda: StubRuntime(tmp_path, **settings),
        )
        return TestClient(app, raise_server_exceptions=False)

    yield make


ORIGIN_AUTH = auth("origin_operator", "371326")


def test_bodies_over_the_limit_get_413_declared_or_chunked(stub: Any) -> None:
    with stub(max_body_bytes=100) as client:
        ok = client.post("/api/v1/echo", json={"text": "x" * 10}, headers=ORIGIN_AUTH)
        assert ok.status_code == 200, ok.text
        big = client.post("/api/v1/echo", json={"text": "x" * 200}, headers=ORIGIN_AUTH)
        assert big.status_code == 413
        assert big.json()["error"]["code"] == "request.too_large"
        assert big.headers["x-content-type-options"] == "nosniff"

        def chunks() -> Iterator[bytes]:
            yield b'{"text": "'
            yield b"x" * 200
            yield b'"}'

        chunked = client.post(
            "/api/v1/echo",
            content=chunks(),
            headers=ORIGIN_AUTH | {"content-type": "application/json"},
        )
        assert chunked.status_code == 413, chunked.text


def test_unknown_fields_are_rejected(stub: Any) -> None:
    with stub() as client:
        answer = client.post(
            "/api/v1/echo", json={"text": "a", "role": "sync_admin"}, headers=ORIGIN_AUTH
        )
        assert answer.status_code == 422
        assert answer.json()["error"]["code"] == "request.invalid"


def test_no_stack_trace_or_detail_in_a_500_and_headers_still_there(stub: Any) -> None:
    with stub() as client:
        answer = client.get("/api/v1/boom", headers=ORIGIN_AUTH)
    assert answer.status_code == 500
    assert answer.json() == {
        "error": {"code": "internal", "message": "internal error; it has been logged"}
    }
    assert "Traceback" not in answer.text and SECRET_DETAIL not in answer.text
    assert answer.headers["cache-control"] == "no-store"


def test_security_headers_everywhere_and_a_challenge_on_401(stub: Any) -> None:
    with stub() as client:
        for response in (
            client.get("/healthz"),
            client.get("/api/v1/audit", headers=auth("auditor")),
            client.get("/api/v1/audit"),
            client.get("/nowhere"),
        ):
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["x-frame-options"] == "DENY"
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
            assert response.headers["referrer-policy"] == "no-referrer"
            assert response.headers["cache-control"] == "no-store"
        unauthenticated = client.get("/api/v1/audit")
        assert unauthenticated.status_code == 401
        assert unauthenticated.headers["www-authenticate"].startswith("Bearer")


def test_cors_is_closed_by_default_and_opens_only_to_listed_origins(
    stub: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    with stub() as client:
        answer = client.options("/api/v1/audit", headers=preflight)
        assert "access-control-allow-origin" not in answer.headers
    monkeypatch.setenv("LIANGDI_CORS_ORIGINS", "https://ui.liangdi.example")
    with stub() as client:
        listed = preflight | {"Origin": "https://ui.liangdi.example"}
        answer = client.options("/api/v1/audit", headers=listed)
        assert answer.headers["access-control-allow-origin"] == "https://ui.liangdi.example"
        answer = client.options("/api/v1/audit", headers=preflight)
        assert answer.headers.get("access-control-allow-origin") != "https://evil.example"
    monkeypatch.setenv("LIANGDI_CORS_ORIGINS", "*")
    with pytest.raises(InsecureDeployment):
        stub()


def test_docs_need_a_token_in_production_only(stub: Any) -> None:
    key = base64.b64encode(os.urandom(32)).decode()
    with stub(
        environment="production",
        jwt_secret=STRONG,
        cipher_key=key,
        identity_key="i" * 32,
        sealing_key="k",
        sealing_peers="310115=p",
    ) as client:
        assert client.get("/openapi.json").status_code == 401
        assert client.get("/docs").status_code == 401
        token = issue_token(STRONG, role=Role.AUDITOR, place="*")
        assert client.get("/openapi.json", headers=bearer(token)).status_code == 200
        assert client.get("/healthz").status_code == 200
    with stub() as client:
        assert client.get("/openapi.json").status_code == 200


def test_production_refuses_to_start_without_a_cipher_key_or_with_weak_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = base64.b64encode(os.urandom(32)).decode()
    prod = SimpleNamespace(
        environment="production", cipher_key="", sealing_key="k", sealing_peers="310115=p"
    )
    with pytest.raises(InsecureDeployment, match="LIANGDI_CIPHER_KEY is not set"):
        check_deployment("outflow", prod, STRONG)
    prod.cipher_key = key
    for weak in (DEV_SECRET, f"{STRONG},{DEV_SECRET}", "short"):
        with pytest.raises(InsecureDeployment, match="secret"):
            check_deployment("inflow", prod, weak)
    check_deployment("inflow", prod, STRONG)
    check_deployment("sync", SimpleNamespace(environment="production", cipher_key=""), STRONG)
    with pytest.raises(InsecureDeployment, match="16, 24 or 32"):
        check_deployment(
            "outflow", SimpleNamespace(environment="development", cipher_key="c2hvcnQ="), DEV_SECRET
        )
    check_deployment("outflow", SimpleNamespace(environment="development", cipher_key=""), "x")
    assert "LIANGDI_CIPHER_KEY is not set" in caplog.text


def test_a_real_production_service_will_not_start_without_a_cipher_key(tmp_path: Path) -> None:
    from shared.security.signing import generate_keypair

    private, public = generate_keypair()
    settings = settings_for(
        "outflow",
        f"sqlite:///{tmp_path}/o.db",
        "nats://127.0.0.1:1",
        "371326",
        environment="production",
        jwt_secret=STRONG,
        signing_key=private,
        trusted_keys=f"origin:371326={public}",
        identity_key="a-real-identity-key-0123456789",
        sync_enabled=False,
    )
    with pytest.raises(InsecureDeployment, match="CIPHER_KEY"), running("outflow", settings):
        pass


def test_every_request_body_of_every_service_is_strict(tmp_path: Path) -> None:
    """Walks the OpenAPI documents: each JSON request body forbids unknown fields."""
    lax = []
    for kind in ("outflow", "inflow", "sync"):
        module = __import__(f"services.{kind}.main", fromlist=["create_app"])
        document = module.create_app(lambda: None).openapi()
        schemas = document.get("components", {}).get("schemas", {})
        for op in operations(module.create_app(lambda: None)):
            path_item = document["paths"][op.path][op.method.lower()]
            content = path_item.get("requestBody", {}).get("content", {})
            for media in content.values():
                ref = media.get("schema", {}).get("$ref", "")
                schema = schemas.get(ref.rsplit("/", 1)[-1], media.get("schema", {}))
                if (
                    schema.get("type") == "object"
                    and schema.get("additionalProperties") is not False
                ):
                    lax.append(f"{kind} {op.method} {op.path}")
    assert not lax, "request bodies accepting unknown fields:\n" + "\n".join(lax)
