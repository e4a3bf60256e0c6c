"""docker-compose.yml and deploy/k8s agree with the settings contract in shared/config.py."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import yaml
from pydantic_settings import BaseSettings

from shared.config import InflowSettings, OutflowSettings, ServiceSettings, SyncSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
K8S = ROOT / "deploy" / "k8s"

SETTINGS: dict[str, type[BaseSettings]] = {
    "outflow": OutflowSettings,
    "inflow": InflowSettings,
    "sync": SyncSettings,
}
EXPECTED_PORTS = {
    "sync": 8000,
    "outflow-371326": 8001,
    "inflow-310115": 8002,
    "inflow-310112": 8003,
}
PREFIX = "LIANGDI_"


def settings_for(service: str) -> type[BaseSettings]:
    return SETTINGS[service.split("-", 1)[0]]


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the "KEY=value" list form is valid compose too
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): str(v) for k, v in env.items()}


def env_problems(service: str, env: dict[str, str]) -> list[str]:
    cls = settings_for(service)
    fields = cls.model_fields
    problems = [
        f"{service}: {name} is not a field of {cls.__name__}"
        for name in env
        if name.startswith(PREFIX) and name[len(PREFIX) :].lower() not in fields
    ]
    problems += [
        f"{service}: required {PREFIX}{field.upper()} missing"
        for field, info in fields.items()
        if info.is_required() and f"{PREFIX}{field.upper()}" not in env
    ]
    return problems


def compose_problems(compose: dict) -> list[str]:
    services = compose.get("services", {})
    problems = [f"service {name} missing" for name in EXPECTED_PORTS if name not in services]
    problems += [f"service {name} missing" for name in ("postgres", "nats") if name not in services]
    if problems:
        return problems
    if not str(services["postgres"].get("image", "")).startswith("postgres:15"):
        problems.append("postgres must use postgres:15")
    nats = services["nats"]
    if not str(nats.get("image", "")).startswith("nats:2.10"):
        problems.append("nats must use nats:2.10")
    if "-js" not in nats.get("command", []) and "--jetstream" not in nats.get("command", []):
        problems.append("nats must run with JetStream (-js)")
    for infra in ("postgres", "nats"):
        if "healthcheck" not in services[infra]:
            problems.append(f"{infra} needs a healthcheck for depends_on conditions")
    schemas: dict[str, str] = {}
    for name, port in EXPECTED_PORTS.items():
        svc = services[name]
        kind = name.split("-", 1)[0]
        build = svc.get("build") or {}
        if build.get("dockerfile") != "deploy/Dockerfile":
            problems.append(f"{name}: must build from deploy/Dockerfile")
        if svc.get("command", [None])[0] != f"services.{kind}.main:app":
            problems.append(f"{name}: command must select services.{kind}.main:app")
        if f"{port}:8000" not in [str(p) for p in svc.get("ports", [])]:
            problems.append(f"{name}: host port {port} must map to 8000")
        depends = svc.get("depends_on") or {}
        for infra in ("postgres", "nats"):
            if depends.get(infra, {}).get("condition") != "service_healthy":
                problems.append(f"{name}: depends_on {infra} must wait for service_healthy")
        env = environment(svc)
        problems += env_problems(name, env)
        db = urlparse(env.get("LIANGDI_DATABASE_URL", ""))
        if db.scheme != "postgresql" or db.hostname != "postgres":
            problems.append(f"{name}: LIANGDI_DATABASE_URL must point at the postgres service")
        schema = parse_qs(db.query).get("schema", [""])[0]
        if schema in schemas:
            problems.append(f"{name}: schema {schema!r} already used by {schemas[schema]}")
        schemas[schema] = name
        nats_url = urlparse(env.get("LIANGDI_NATS_URL", ""))
        if nats_url.scheme != "nats" or nats_url.hostname != "nats":
            problems.append(f"{name}: LIANGDI_NATS_URL must point at the nats service")
        if kind != "sync" and env.get("LIANGDI_PLACE") != name.split("-", 1)[1]:
            problems.append(f"{name}: LIANGDI_PLACE must match the service name")
    return problems


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_matches_settings_contract(compose: dict) -> None:
    assert compose_problems(compose) == []


def _rename_env(compose: dict, service: str, old: str, new: str) -> dict:
    broken = copy.deepcopy(compose)
    env = broken["services"][service]["environment"]
    env[new] = env.pop(old)
    return broken


@pytest.mark.parametrize(
    ("service", "old", "new", "expect"),
    [
        ("sync", "LIANGDI_NATS_URL", "LIANGDI_NAST_URL", "LIANGDI_NAST_URL is not a field"),
        ("inflow-310112", "LIANGDI_PLACE", "LIANGDI_PLACES", "required LIANGDI_PLACE missing"),
    ],
)
def test_checker_catches_misspelled_variable(
    compose: dict, service: str, old: str, new: str, expect: str
) -> None:
    broken = _rename_env(compose, service, old, new)
    assert any(expect in problem for problem in compose_problems(broken))


def test_checker_catches_field_of_another_settings_class(compose: dict) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["sync"]["environment"]["LIANGDI_PLACE"] = "371326"
    problems = compose_problems(broken)
    assert any("LIANGDI_PLACE is not a field of SyncSettings" in p for p in problems)


def test_checker_catches_wrong_database_host(compose: dict) -> None:
    broken = copy.deepcopy(compose)
    env = broken["services"]["outflow-371326"]["environment"]
    env["LIANGDI_DATABASE_URL"] = "postgresql://liangdi:liangdi@localhost:5432/liangdi"
    assert any("postgres service" in problem for problem in compose_problems(broken))


def test_k8s_manifests_use_only_known_settings() -> None:
    known = {f"{PREFIX}{name.upper()}" for cls in SETTINGS.values() for name in cls.model_fields}
    known |= {f"{PREFIX}{name.upper()}" for name in ServiceSettings.model_fields}
    manifests = sorted(K8S.glob("*.yaml"))
    assert manifests, "deploy/k8s has no manifests"
    used = {m for path in manifests for m in re.findall(r"LIANGDI_[A-Z0-9_]+", path.read_text())}
    assert used, "k8s manifests set no LIANGDI_* variables"
    assert sorted(used - known) == []
    for path in manifests:
        for doc in yaml.safe_load_all(path.read_text()):
            assert doc is None or "kind" in doc, f"{path.name}: document without kind"
