"""Kafka's access as declared (``infra.kafka_acl``), the consumer's check of a record's topic
(``infra.consumer.misplaced``) and production's refusal of a missing Kafka password."""

import uuid
from pathlib import Path

import pytest
import yaml

from deploy.kafka import setup_gen
from devstack.kafka import KafkaBroker
from events.envelope import GENESIS_HASH, Actor, NewEvent
from events.identity import RoleGranted
from events.topics import SERVICES, SUBSCRIPTIONS, topic_for
from infra.consumer import misplaced
from infra.eventstore.contract import seal_all
from infra.kafka_acl import (
    ADMIN,
    AUDITOR,
    Operation,
    every_grant,
    grants_of,
    principal_of,
    principals,
)
from infra.settings import DEVELOPMENT_KAFKA_PASSWORD, ProductionConfigError, Settings
from tests.unit.test_indonesian_refusals import english_in

ROOT = Path(__file__).resolve().parents[2]


def allowed(operation: Operation, service: str, topic: str) -> bool:
    return any(
        operation in g.operations
        and g.resource == "topic"
        and (topic == g.name if g.pattern == "literal" else topic.startswith(g.name))
        for g in grants_of(service)
    )


def writable(service: str, topic: str) -> bool:
    return allowed("Write", service, topic)


def readable(service: str, topic: str) -> bool:
    return allowed("Read", service, topic)


def test_each_service_writes_its_own_topics_and_reads_only_what_it_consumes() -> None:
    for service in SERVICES:
        for other in SERVICES:
            mine = other == service
            assert writable(service, topic_for(other)) is mine, (service, other)
            assert readable(service, topic_for(other)) is (other in SUBSCRIPTIONS[service])
        assert writable(service, f"jejak.{service}.dlq")
        assert writable(service, f"jejak.{service}.notifier.dlq")
        assert not writable(service, f"jejak.{service}x.events")


def test_no_service_may_write_a_topic_another_service_could_name() -> None:
    """No service's write prefix is another's prefix: ``jejak.intake.`` never covers a topic
    of a service whose name starts with ``intake``."""
    for service in SERVICES:
        for other in SERVICES:
            if other != service:
                assert not writable(service, f"jejak.{other}.dlq")


def test_every_principal_is_a_kubernetes_name_and_distinct() -> None:
    users = principals(SERVICES)
    assert len(set(users)) == len(users)
    assert principal_of("dev_tracking") == "jejak-dev-tracking"
    assert all(u.replace("-", "").isalnum() and u.islower() for u in users)
    assert {ADMIN, AUDITOR} <= set(users)


def test_the_auditor_reads_every_topic_and_writes_none() -> None:
    auditor = [g for g in every_grant(SERVICES) if g.principal == AUDITOR]
    assert auditor and all(g.operations == ("Read",) for g in auditor)
    assert any(g.name == "jejak." and g.pattern == "prefix" for g in auditor)


def test_a_record_of_another_services_event_type_is_misplaced_on_a_service_topic() -> None:
    new = NewEvent.of(
        RoleGranted(user_id="u-1", role="KADIS"),
        actor=Actor(user_id="u-admin", role="ADMIN"),
        correlation_id=uuid.uuid4(),
    )
    [granted] = seal_all("u-1", 0, GENESIS_HASH, [new])
    assert misplaced(granted, "jejak.identity.events") is None
    reason = misplaced(granted, "jejak.approval.events")
    assert reason == "RoleGranted is emitted on jejak.identity.events, not on jejak.approval.events"
    assert misplaced(granted, "test.t123.events") is None  # no service's: not checked
    unknown = granted.model_copy(update={"event_type": "SomethingNew"})
    assert misplaced(unknown, "jejak.approval.events") is None  # left to the handler


@pytest.mark.parametrize(
    "given", [{}, {"kafka_sasl_password": DEVELOPMENT_KAFKA_PASSWORD}], ids=["unset", "dev"]
)
def test_production_refuses_a_missing_kafka_password_in_indonesian(given: dict[str, str]) -> None:
    settings = Settings(environment="production", **given)  # type: ignore[arg-type]
    [problem] = [p for p in settings.production_problems() if "KAFKA_SASL_PASSWORD" in p]
    assert english_in(problem) == []
    with pytest.raises(ProductionConfigError, match="KAFKA_SASL_PASSWORD"):
        settings.check_production()
    assert not any("KAFKA" in p for p in settings.production_problems(uses_kafka=False))


def test_a_kafka_password_of_its_own_passes_and_names_the_login() -> None:
    settings = Settings(
        environment="production",
        kafka_sasl_password="s3cret-of-intake",  # type: ignore[arg-type]
        kafka_bootstrap_servers="k:9093",
    )
    assert not any("KAFKA" in p for p in settings.production_problems())
    login = settings.kafka_login(principal_of("intake"))
    assert (login.username, login.password) == ("jejak-intake", "s3cret-of-intake")
    assert "s3cret" not in repr(login)
    named = Settings(environment="production", kafka_sasl_username="other")  # type: ignore[arg-type]
    assert named.kafka_login("jejak-intake").username == "other"


def test_composes_kafka_setup_is_current_and_each_service_has_its_own_password() -> None:
    """deploy/kafka/setup.sh is what setup_gen.py makes from infra/kafka_acl.py, and compose
    gives each service the password of its own user, which the format step created."""
    assert setup_gen.main(["--check"]) == 0, f"stale: run {setup_gen.COMMAND}"
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    script = setup_gen.SCRIPT.read_text()
    for service in SERVICES:
        variable = setup_gen.password_variable(principal_of(service))
        env = compose["services"][service]["environment"]
        assert env["KAFKA_SASL_PASSWORD"] == f"${{{variable}:?}}"
        assert f"name={principal_of(service)},password=${{{variable}:?}}" in script
        assert "KAFKA_SASL_USERNAME" not in env  # the default: its own user
    assert "KAFKA_SASL_PASSWORD" not in compose["services"]["web"]["environment"]


def test_a_local_kafka_folder_made_before_sasl_is_refused_with_what_to_do(tmp_path: Path) -> None:
    """Its metadata holds no SCRAM user, so no service could connect: the stack says so (in
    Indonesian, to the developer) instead of starting a Kafka nobody may use."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "meta.properties").write_text("node.id=1\n")
    with pytest.raises(RuntimeError, match="SASL/SCRAM") as refused:
        KafkaBroker(tmp_path, 1, 2).start()
    assert "make stack-down" in str(refused.value)
    assert english_in(str(refused.value).replace("make stack-down", "")) == []
