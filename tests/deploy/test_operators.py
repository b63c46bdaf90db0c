"""Strimzi's and CloudNativePG's resources: each of the fields the chart uses has the shape the
operator accepts (``operator_shapes``), and they say what the code needs: a topic for every topic
the services use, each service writing only its own, a replicated Kafka and PostgreSQL, and a
pooler that keeps the sessions the relay's leader lock and the notices' LISTEN hold."""

import re

import jsonschema
import pytest
from prometheus_client import REGISTRY

import infra.metrics  # noqa: F401  (registers Jejak's metrics)
from events.topics import SERVICES, dead_letter_topic, topic_for
from infra.kafka_acl import AUDITOR, Grant, every_grant, principal_of
from tests.deploy.chart import VALUE_SETS, Manifest, named, of_kind, render
from tests.deploy.operator_shapes import SHAPES

OPERATOR_GROUPS = ("kafka.strimzi.io/", "postgresql.cnpg.io/", "monitoring.coreos.com/")


@pytest.fixture(params=list(VALUE_SETS))
def manifests(request: pytest.FixtureRequest) -> tuple[Manifest, ...]:
    return render(request.param)


def test_every_custom_resource_has_the_operators_shape(manifests: tuple[Manifest, ...]) -> None:
    custom = [m for m in manifests if m["apiVersion"].startswith(OPERATOR_GROUPS)]
    assert {m["kind"] for m in custom} >= {"Kafka", "KafkaNodePool", "KafkaTopic", "Cluster"}
    for m in custom:
        errors = sorted(jsonschema.Draft202012Validator(SHAPES[m["kind"]]).iter_errors(m), key=str)
        assert not errors, f"{m['kind']} {m['metadata']['name']}: {errors[0].message} at " + (
            "/".join(map(str, errors[0].absolute_path))
        )


def test_kafka_is_three_kraft_nodes_with_replication_three(
    manifests: tuple[Manifest, ...],
) -> None:
    (kafka,) = of_kind(manifests, "Kafka")
    (pool,) = of_kind(manifests, "KafkaNodePool")
    name = kafka["metadata"]["name"]
    assert kafka["metadata"]["annotations"] == {
        "strimzi.io/node-pools": "enabled",
        "strimzi.io/kraft": "enabled",
    }
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == name
    assert pool["spec"]["replicas"] == 3
    assert set(pool["spec"]["roles"]) == {"controller", "broker"}
    config = kafka["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == 3
    assert config["min.insync.replicas"] == 2
    assert config["auto.create.topics.enable"] is False


def test_a_topic_for_every_topic_the_services_use(manifests: tuple[Manifest, ...]) -> None:
    (kafka,) = of_kind(manifests, "Kafka")
    topics = {t["spec"]["topicName"]: t for t in of_kind(manifests, "KafkaTopic")}
    wanted = {topic_for(s) for s in SERVICES} | {dead_letter_topic(s) for s in SERVICES}
    assert set(topics) == wanted
    for topic in topics.values():
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
        assert topic["spec"]["replicas"] == 3
        assert topic["spec"]["config"]["retention.ms"] == -1
        assert topic["spec"]["config"]["min.insync.replicas"] == 2


def _grants(user: Manifest) -> set[Grant]:
    """A KafkaUser's ACLs as ``infra.kafka_acl`` declares them."""
    name = user["metadata"]["name"]
    return {
        Grant(
            name,
            acl["resource"]["type"],
            acl["resource"]["name"],
            acl["resource"]["patternType"],
            tuple(acl["operations"]),
        )
        for acl in user["spec"]["authorization"]["acls"]
    }


@pytest.mark.parametrize("value_set", ["default", "production"])
def test_each_kafka_user_has_the_acls_the_code_declares(value_set: str) -> None:
    """Only a SCRAM listener with simple authorization, and one KafkaUser per service (named as
    ``principal_of``, the release being ``jejak``) and the auditor, each with exactly the ACLs
    of ``infra.kafka_acl``: a service writes only its own topics, reads what it consumes."""
    manifests = render(value_set)
    (kafka,) = of_kind(manifests, "Kafka")
    assert kafka["spec"]["kafka"]["authorization"] == {"type": "simple"}
    assert [
        (listener["tls"], listener["authentication"]["type"])
        for listener in kafka["spec"]["kafka"]["listeners"]
    ] == [(True, "scram-sha-512")]
    users = named(manifests, "KafkaUser")
    assert set(users) == {principal_of(s) for s in SERVICES} | {AUDITOR}
    for name, user in users.items():
        assert user["spec"]["authentication"] == {"type": "scram-sha-512"}
        assert user["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
        assert _grants(user) == {g for g in every_grant(SERVICES) if g.principal == name}


def test_postgres_is_three_instances_replicating_synchronously(
    manifests: tuple[Manifest, ...],
) -> None:
    (cluster,) = of_kind(manifests, "Cluster")
    (pooler,) = of_kind(manifests, "Pooler")
    spec = cluster["spec"]
    assert spec["instances"] == 3
    assert 1 <= spec["postgresql"]["synchronous"]["number"] < spec["instances"]
    assert spec["enableSuperuserAccess"] is False
    (owner,) = spec["managed"]["roles"]
    assert owner["name"] == spec["bootstrap"]["initdb"]["owner"]
    assert owner["createrole"] is True
    assert pooler["spec"]["cluster"]["name"] == cluster["metadata"]["name"]
    assert pooler["spec"]["pgbouncer"]["poolMode"] == "session"


def test_production_backs_up_to_object_storage() -> None:
    manifests = render("production")
    (cluster,) = of_kind(manifests, "Cluster")
    (backup,) = of_kind(manifests, "ScheduledBackup")
    assert cluster["spec"]["backup"]["barmanObjectStore"]["destinationPath"].startswith("s3://")
    assert backup["spec"]["cluster"]["name"] == cluster["metadata"]["name"]


def test_the_alerts_watch_metrics_that_exist() -> None:
    manifests = render("production")
    (monitor,) = of_kind(manifests, "ServiceMonitor")
    assert monitor["spec"]["endpoints"] == [{"port": "http", "path": "/metrics", "interval": "30s"}]
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}
    ours = {
        family.name + suffix
        for family in REGISTRY.collect()
        if family.name.startswith("jejak_")
        for suffix in suffixes.get(family.type, [""])
    }
    (rules,) = of_kind(manifests, "PrometheusRule")
    for rule in rules["spec"]["groups"][0]["rules"]:
        for name in re.findall(r"\b(jejak_[a-z_]+)\{", rule["expr"]):
            assert name in ours, (rule["alert"], name)
