"""The Helm chart, rendered with each values set of ``make lint``: every manifest valid for the
Kubernetes versions it targets, every service in it, secrets referenced and never inlined, the
owner's password in the migrations Job alone, the same routes as ``make run``'s gateway."""

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from events.topics import SERVICES
from tests.deploy.chart import VALUE_SETS, Manifest, of_kind, render, render_with

KUBERNETES_VERSIONS = ("1.30.0", "1.34.0")
"""The oldest the chart supports (Chart.yaml's kubeVersion) and a current one."""

OPERATOR_GROUPS = ("kafka.strimzi.io/", "postgresql.cnpg.io/", "monitoring.coreos.com/")
"""Custom resources, checked by tests/deploy/test_operators.py."""

ALL = (*SERVICES, "web")


@pytest.fixture(params=list(VALUE_SETS))
def manifests(request: pytest.FixtureRequest) -> tuple[Manifest, ...]:
    return render(request.param)


def pods(manifests: tuple[Manifest, ...]) -> list[tuple[str, dict[str, Any]]]:
    """(name, pod spec) of every Deployment and Job."""
    return [
        (m["metadata"]["name"], m["spec"]["template"]["spec"])
        for m in manifests
        if m["kind"] in ("Deployment", "Job")
    ]


def env_of(pod: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for c in pod["containers"] for e in c.get("env", [])}


def test_every_manifest_is_valid_for_the_target_kubernetes(
    manifests: tuple[Manifest, ...],
) -> None:
    core = [m for m in manifests if not m["apiVersion"].startswith(OPERATOR_GROUPS)]
    assert len(core) > 20
    for version in KUBERNETES_VERSIONS:
        for m in core:
            try:
                kubernetes_validate.validate(m, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                pytest.fail(f"{m['kind']} {m['metadata']['name']} ({version}): {error.message}")


def test_every_service_runs_with_probes_limits_and_no_privilege(
    manifests: tuple[Manifest, ...],
) -> None:
    deployments = {
        m["metadata"]["labels"]["app.kubernetes.io/component"]: m
        for m in of_kind(manifests, "Deployment")
    }
    assert set(deployments) == {s.replace("_", "-") for s in ALL}
    services = {m["metadata"]["name"] for m in of_kind(manifests, "Service")}
    for name, m in deployments.items():
        assert f"jejak-{name}" in services
        pod = m["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        (container,) = pod["containers"]
        assert container["command"][-1] == f"services.{name.replace('-', '_')}"
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["httpGet"]["path"] == "/health"
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert {"cpu", "memory"} <= set(container["resources"]["limits"])


def test_secrets_are_referenced_never_inlined(manifests: tuple[Manifest, ...]) -> None:
    assert not of_kind(manifests, "Secret")
    secretive = ("KEY", "SECRET", "PASSWORD", "PEM")
    for name, pod in pods(manifests):
        for variable, entry in env_of(pod).items():
            if any(word in variable for word in secretive) and variable != "JWT_KEY_DIR":
                assert "secretKeyRef" in entry.get("valueFrom", {}), (name, variable)
            assert "PRIVATE KEY" not in str(entry.get("value", "")), (name, variable)


def test_only_the_migrations_hold_the_owner_and_each_service_its_own_role(
    manifests: tuple[Manifest, ...],
) -> None:
    for name, pod in pods(manifests):
        env = env_of(pod)
        owner = {"DB_OWNER_USER", "DB_OWNER_PASSWORD"} & set(env)
        if name == "jejak-migrations":
            assert owner
            keys = {e["valueFrom"]["secretKeyRef"]["key"] for k, e in env.items() if "APP_DB" in k}
            assert keys == set(SERVICES)
            continue
        assert not owner, name
        if "DATABASE_URL" in env:
            assert "@" not in env["DATABASE_URL"]["value"], "no credentials in a service's URL"
            assert "MIGRATE_ON_START" not in env  # no service migrates
            service = env["SERVICE_NAME"]["value"]
            assert env["APP_DB_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == service


def test_each_service_signs_its_checkpoints_with_its_own_key_into_a_volume(
    manifests: tuple[Manifest, ...],
) -> None:
    signing = 0
    for name, pod in pods(manifests):
        env = env_of(pod)
        if "DATABASE_URL" not in env or name == "jejak-migrations":
            assert "CHECKPOINT_SIGNING_KEY" not in env, name
            continue
        service = env["SERVICE_NAME"]["value"]
        key = env["CHECKPOINT_SIGNING_KEY"]["valueFrom"]["secretKeyRef"]
        assert (key["name"], key["key"]) == ("jejak-checkpoints", service)
        file = Path(env["CHECKPOINT_FILE"]["value"])
        [container] = pod["containers"]
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        assert mounts[str(file.parent)] in {v["name"] for v in pod["volumes"]}
        signing += 1
    assert signing == len(SERVICES)


def test_the_migrations_job_is_a_hook_before_upgrades(manifests: tuple[Manifest, ...]) -> None:
    (job,) = of_kind(manifests, "Job")
    hooks = job["metadata"]["annotations"]["helm.sh/hook"].split(",")
    assert set(hooks) == {"post-install", "pre-upgrade"}
    assert job["spec"]["template"]["spec"]["containers"][0]["command"][-1] == "infra.migrate_all"


def test_the_ingress_routes_as_make_run_does_and_keeps_the_metrics_inside(
    manifests: tuple[Manifest, ...],
) -> None:
    routes = {
        path["path"]: path["backend"]["service"]["name"]
        for ingress in of_kind(manifests, "Ingress")
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }

    def routed(path: str) -> str | None:
        """The Service nginx would choose (longest matching regex location first)."""
        chosen = [p for p in sorted(routes, key=len, reverse=True) if re.match(p, path)]
        return routes[chosen[0]] if chosen else None

    for s in SERVICES:
        name = f"jejak-{s.replace('_', '-')}"
        assert routed(f"/api/{s}/requests/r-1") == name
        assert routed(f"/api/{s}/docs") == name
        assert routed(f"/api/{s}") == name
        assert routed(f"/api/{s}/metrics") == "jejak-web"  # the web app's 404, not the metrics
    assert routed("/permohonan/r-1") == "jejak-web"
    assert routed("/") == "jejak-web"
    assert routed("/metrics") is None
    env = {n: env_of(p) for n, p in pods(manifests)}
    for s in SERVICES:
        assert env[f"jejak-{s.replace('_', '-')}"]["ROOT_PATH"]["value"] == f"/api/{s}"


def test_every_pod_is_fenced_by_a_network_policy(manifests: tuple[Manifest, ...]) -> None:
    fenced = [
        p["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
        for p in of_kind(manifests, "NetworkPolicy")
    ]
    assert sorted(fenced) == sorted([s.replace("_", "-") for s in ALL] + ["migrations"])
    for policy in of_kind(manifests, "NetworkPolicy"):
        assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]


def test_scaling_out_keeps_a_budget(manifests: tuple[Manifest, ...]) -> None:
    budgets = {m["metadata"]["name"] for m in of_kind(manifests, "PodDisruptionBudget")}
    for hpa in of_kind(manifests, "HorizontalPodAutoscaler"):
        assert hpa["spec"]["minReplicas"] >= 2
        assert hpa["spec"]["scaleTargetRef"]["name"] in budgets


def test_a_digest_pins_the_image() -> None:
    digest = "sha256:" + "ab" * 32
    manifests = render_with("--set", f"image.digest={digest}")
    images = {c["image"] for _, pod in pods(manifests) for c in pod["containers"]}
    assert images == {f"jejak@{digest}"}


def test_a_topic_a_service_creates_is_replicated_as_the_kafka_topics(
    manifests: tuple[Manifest, ...],
) -> None:
    for name, pod in pods(manifests):
        env = env_of(pod)
        if "KAFKA_BOOTSTRAP_SERVERS" in env:
            assert env["KAFKA_REPLICATION_FACTOR"]["value"] == "3", name
            assert env["KAFKA_TOPIC_PARTITIONS"]["value"] == "3", name


EXISTING_KAFKA = (
    "--set",
    "kafka.enabled=false,kafka.bootstrapServers=kafka.example:9093,kafka.caSecret=kafka-ca",
)


@pytest.mark.parametrize("kafka", ["strimzi", "existing"])
def test_each_service_reaches_kafka_as_its_own_user_over_tls(kafka: str) -> None:
    """Its KafkaUser's name and password (the Secret Strimzi makes of that name), and the
    brokers' CA: Strimzi's cluster CA, or the Secret named for an existing Kafka."""
    manifests = render("production") if kafka == "strimzi" else render_with(*EXISTING_KAFKA)
    clients = 0
    for name, pod in pods(manifests):
        env = env_of(pod)
        if "KAFKA_BOOTSTRAP_SERVERS" not in env:
            continue
        clients += 1
        assert env["KAFKA_SASL_USERNAME"]["value"] == name
        password = env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert (password["name"], password["key"]) == (name, "password")
        ca = env["KAFKA_SSL_CA_PEM"]["valueFrom"]["secretKeyRef"]
        expected = "jejak-cluster-ca-cert" if kafka == "strimzi" else "kafka-ca"
        assert (ca["name"], ca["key"]) == (expected, "ca.crt")
        port = env["KAFKA_BOOTSTRAP_SERVERS"]["value"].rsplit(":", 1)[1]
        assert port == "9093", "the TLS listener"
    assert clients == len(SERVICES)


def test_every_service_runs_in_production_and_names_whom_it_believes_forwarded_for(
    manifests: tuple[Manifest, ...],
) -> None:
    """No fail-open default (a process without ENVIRONMENT refuses to start), and the login
    throttle counts the client's address, not the ingress's (docs/security.md)."""
    for name, pod in pods(manifests):
        env = env_of(pod)
        assert env["ENVIRONMENT"]["value"] == "production", name
    for deployment in of_kind(manifests, "Deployment"):
        env = env_of(deployment["spec"]["template"]["spec"])
        assert env["FORWARDED_ALLOW_IPS"]["value"], deployment["metadata"]["name"]
