"""deploy/k8s agrees with the code it runs: the places' leader election (two replicas each, a
PodDisruptionBudget), the three-node NATS cluster of deploy/nats/cluster.conf (auth, TLS), the
topology file the services re-read, and PostgreSQL by one name."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from liangdi_cli.topology import from_file
from shared.topology_file import load

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
LABEL = "app.kubernetes.io/component"


def documents() -> dict[tuple[str, str], dict]:
    found = {}
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "secret.example.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and "metadata" in doc:
                found[(doc["kind"], doc["metadata"]["name"])] = doc
    return found


def secrets() -> dict[str, dict[str, str]]:
    return {
        doc["metadata"]["name"]: doc["stringData"]
        for doc in yaml.safe_load_all((K8S / "secret.example.yaml").read_text())
    }


def test_every_place_runs_twice_with_a_disruption_budget() -> None:
    docs = documents()
    places = [s for s in from_file(K8S / "topology.toml") if s.place is not None]
    assert places, "the k8s topology names no place"
    deployments = {name for kind, name in docs if kind == "Deployment"}
    assert deployments == {"sync", *(s.name for s in places)}
    for spec in places:
        deployment = docs[("Deployment", spec.name)]["spec"]
        assert deployment["replicas"] == 2, spec.name
        rolling = deployment["strategy"]
        assert rolling["type"] == "RollingUpdate"
        assert rolling["rollingUpdate"]["maxUnavailable"] == 0, "an update never stops both"
        budget = docs[("PodDisruptionBudget", spec.name)]["spec"]
        assert budget["minAvailable"] == 1
        assert budget["selector"]["matchLabels"] == deployment["selector"]["matchLabels"]
        assert budget["selector"]["matchLabels"][LABEL] == spec.name
    # The exchange's service has no leader election: one, replaced, never two at once.
    sync = docs[("Deployment", "sync")]["spec"]
    assert sync["replicas"] == 1 and sync["strategy"]["type"] == "Recreate"


def test_nats_is_the_deploy_cluster_closed_and_encrypted() -> None:
    docs = documents()
    nats = docs[("StatefulSet", "nats")]["spec"]
    replicas = nats["replicas"]
    assert replicas == 3
    config = (K8S / "nats" / "nats.conf").read_text()
    routes = re.findall(r"nats-route://([\w.-]+):6222", config)
    service = nats["serviceName"]
    assert routes == [f"nats-{n}.{service}" for n in range(replicas)]
    headless = docs[("Service", service)]["spec"]
    assert headless["clusterIP"] == "None" and headless["publishNotReadyAddresses"] is True
    assert docs[("PodDisruptionBudget", "nats")]["spec"]["maxUnavailable"] == 1
    common = docs[("ConfigMap", "liangdi-common")]["data"]
    assert common["LIANGDI_NATS_REPLICAS"] == str(replicas), "streams on every node"
    # Every variable the configuration reads is given to the server: by the pod or its Secret.
    container = nats["template"]["spec"]["containers"][0]
    given = {e["name"] for e in container["env"]} | set(secrets()["liangdi-nats"])
    assert set(re.findall(r"\$(NATS_[A-Z0-9_]+)", config)) - given == set()
    assert "include ./authorization.conf" in config
    assert re.search(r"(?m)^tls \{", config), "clients must use TLS"
    assert re.search(r"cluster \{[^}]*tls \{[^}]*verify: true", config, re.S), "routes: mTLS"
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    for variable in ("NATS_TLS_CERT", "NATS_TLS_KEY", "NATS_TLS_CA"):
        value = next(e["value"] for e in container["env"] if e["name"] == variable)
        assert str(Path(value).parent) in mounts, variable
    # The services check the server's certificate against the same CA.
    assert common["LIANGDI_NATS_TLS_CA"].startswith("/etc/nats-ca/")


def test_services_read_the_topology_file_that_kustomize_publishes_in_place() -> None:
    docs = documents()
    assert [p.code for p in load(K8S / "topology.toml")] == [
        p.code for p in load(ROOT / "deploy" / "topology.example.toml")
    ]
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    generators = {g["name"]: g for g in kustomization["configMapGenerator"]}
    topology = generators["liangdi-topology"]
    assert topology["files"] == ["topology.toml"]
    # A hashed name would roll every pod on each edit; in place, the services re-read it.
    assert topology["options"]["disableNameSuffixHash"] is True
    path = Path(docs[("ConfigMap", "liangdi-common")]["data"]["LIANGDI_TOPOLOGY_FILE"])
    for (kind, name), doc in docs.items():
        if kind != "Deployment":
            continue
        pod = doc["spec"]["template"]["spec"]
        mounts = pod["containers"][0]["volumeMounts"]
        mount = next(m for m in mounts if m["mountPath"] == str(path.parent))
        assert "subPath" not in mount, f"{name}: a subPath mount is never updated"
        volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
        assert volume["configMap"]["name"] == "liangdi-topology"


def test_postgresql_has_one_name() -> None:
    docs = documents()
    postgres = docs[("Service", "postgres")]["spec"]
    assert postgres["type"] == "ExternalName"
    urls = [s["LIANGDI_DATABASE_URL"] for s in secrets().values() if "LIANGDI_DATABASE_URL" in s]
    assert urls
    assert {urlsplit(url).hostname for url in urls} == {"postgres"}
    assert len({urlsplit(url).query for url in urls}) == len(urls), "a schema per service"
