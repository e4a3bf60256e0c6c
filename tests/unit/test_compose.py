"""docker-compose.yml and deploy/k8s agree with the settings contract in shared/config.py."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import yaml
from pydantic_settings import BaseSettings

from liangdi_cli.natsauth import password_variable, render, service_user
from shared.config import InflowSettings, OutflowSettings, ServiceSettings, SyncSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
K8S = ROOT / "deploy" / "k8s"
AUTHORIZATION = ROOT / "deploy" / "nats" / "permissions" / "authorization.conf"

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


def _required_variable(value: str, variable: str) -> bool:
    """`${VARIABLE:?message}`: taken from the env file, and compose refuses to start without it
    (no literal, no default)."""
    return re.fullmatch(rf"\$\{{{variable}:\?[^}}]*\}}", value) is not None


def nats_problems(compose: dict) -> list[str]:
    """NATS closed: the generated authorization mounted, every password a required variable,
    each service logged in as its own user."""
    services = compose.get("services", {})
    nats = services.get("nats", {})
    problems = []
    command = [str(part) for part in nats.get("command", [])]
    mounts = {
        str(v).split(":")[1]: str(v).split(":")[0] for v in nats.get("volumes", []) if ":" in v
    }
    config = command[command.index("-c") + 1] if "-c" in command else ""
    if mounts.get(config) != "./deploy/nats/permissions/authorization.conf":
        problems.append("nats must run with -c the mounted deploy/nats/permissions config")
    nats_env = environment(nats)
    origins = [n.split("-", 1)[1] for n in EXPECTED_PORTS if n.startswith("outflow-")]
    hosts = [n.split("-", 1)[1] for n in EXPECTED_PORTS if n.startswith("inflow-")]
    for key in ["sync", *origins, *hosts]:
        variable = password_variable(key)
        if not _required_variable(nats_env.get(variable, ""), variable):
            problems.append(f"nats: {variable} must be ${{{variable}:?...}}, not a literal")
    if AUTHORIZATION.read_text() != render(origins, hosts):
        problems.append("deploy/nats/permissions/authorization.conf is not the generated one")
    for name in EXPECTED_PORTS:
        kind, _, place = name.partition("-")
        env = environment(services.get(name, {}))
        user = service_user(kind, place or None)
        if env.get("LIANGDI_NATS_USER") != user:
            problems.append(f"{name}: LIANGDI_NATS_USER must be {user}")
        variable = password_variable(place or "sync")
        if not _required_variable(env.get("LIANGDI_NATS_PASSWORD", ""), variable):
            problems.append(f"{name}: LIANGDI_NATS_PASSWORD must be ${{{variable}:?...}}")
        if urlparse(env.get("LIANGDI_NATS_URL", "")).password:
            problems.append(f"{name}: no credentials in LIANGDI_NATS_URL")
    return problems


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_matches_settings_contract(compose: dict) -> None:
    assert compose_problems(compose) == []


def test_compose_nats_is_closed(compose: dict) -> None:
    assert nats_problems(compose) == []


@pytest.mark.parametrize(
    ("service", "variable", "value", "expect"),
    [
        ("outflow-371326", "LIANGDI_NATS_PASSWORD", "hunter2", "must be ${NATS_PASSWORD_PLACE"),
        ("inflow-310115", "LIANGDI_NATS_USER", "place-310112", "must be place-310115"),
        ("inflow-310115", "LIANGDI_NATS_USER", "sync", "must be place-310115"),
        (
            "inflow-310112",
            "LIANGDI_NATS_PASSWORD",
            "${NATS_PASSWORD_PLACE_310112:-dev}",
            "must be ${NATS_PASSWORD_PLACE_310112",
        ),
        ("nats", "NATS_PASSWORD_SYNC", "sync-pw", "NATS_PASSWORD_SYNC must be"),
        ("sync", "LIANGDI_NATS_URL", "nats://sync:pw@nats:4222", "no credentials"),
    ],
)
def test_checker_catches_open_or_shared_nats_logins(
    compose: dict, service: str, variable: str, value: str, expect: str
) -> None:
    broken = copy.deepcopy(compose)
    broken["services"][service]["environment"][variable] = value
    assert any(expect in problem for problem in nats_problems(broken))


def test_checker_catches_nats_without_the_authorization(compose: dict) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["nats"]["command"] = ["-js", "-sd", "/data"]
    assert any("-c the mounted" in problem for problem in nats_problems(broken))


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


def _k8s_docs() -> dict[tuple[str, str], dict]:
    docs = {}
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and "metadata" in doc:
                docs[(doc["kind"], doc["metadata"]["name"])] = doc
    return docs


def test_k8s_nats_is_closed_and_each_service_logs_in_as_itself() -> None:
    docs = _k8s_docs()
    # The ConfigMap kustomize generates holds the generated authorization, byte for byte.
    assert (K8S / "nats" / "authorization.conf").read_text() == AUTHORIZATION.read_text()
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert "nats.yaml" in kustomization["resources"]
    generated = {g["name"]: g["files"] for g in kustomization["configMapGenerator"]}
    assert "nats/authorization.conf" in generated["liangdi-nats-config"]
    assert "include ./authorization.conf" in (K8S / "nats" / "nats.conf").read_text()
    nats = docs[("StatefulSet", "nats")]["spec"]["template"]["spec"]
    assert nats["containers"][0]["args"] == ["-c", "/etc/nats/nats.conf"]
    assert nats["volumes"][0]["configMap"]["name"] == "liangdi-nats-config"
    assert {"secretRef": {"name": "liangdi-nats"}} in nats["containers"][0]["envFrom"]
    # The example Secrets name every password the authorization references, with placeholders.
    examples = {
        doc["metadata"]["name"]: doc["stringData"]
        for doc in yaml.safe_load_all((K8S / "secret.example.yaml").read_text())
    }
    referenced = set(re.findall(r"\$(NATS_PASSWORD_[A-Z0-9_]+)", AUTHORIZATION.read_text()))
    assert set(examples["liangdi-nats"]) == referenced
    for name in EXPECTED_PORTS:
        kind, _, place = name.partition("-")
        container = docs[("Deployment", name)]["spec"]["template"]["spec"]["containers"][0]
        env = {e["name"]: e for e in container.get("env", [])}
        assert env["LIANGDI_NATS_USER"]["value"] == service_user(kind, place or None), name
        assert "LIANGDI_NATS_PASSWORD" not in env, f"{name}: the password belongs in its Secret"
        assert {"secretRef": {"name": f"liangdi-{name}"}} in container["envFrom"]
        assert examples[f"liangdi-{name}"]["LIANGDI_NATS_PASSWORD"].startswith("REPLACE_ME")
    # No manifest that is applied carries a password value.
    for path in sorted(K8S.glob("*.yaml")):
        if path.name != "secret.example.yaml":
            assert not re.search(r"(?i)password\S*:\s*\S", path.read_text()), path.name
