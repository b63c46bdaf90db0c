"""What the local Kafka's admin sets up once a broker runs: every ACL of ``infra.kafka_acl``
and every service's events and dead-letter topics (a service may create only its own, yet must
find the topics it consumes). Both are idempotent: each start makes them current.

aiokafka's admin client has no ACL calls; confluent-kafka's (librdkafka) has."""

from collections.abc import Iterable
from dataclasses import replace

from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_fixed

from events.topics import SERVICES, dead_letter_topic, topic_for
from infra.kafka_acl import Grant, every_grant
from infra.kafka_login import KafkaLogin
from infra.settings import DEFAULT_TOPIC_PARTITIONS

TIMEOUT_SECONDS = 30.0


def bindings(grants: Iterable[Grant]) -> list[AclBinding]:
    """Kafka's ACL bindings of ``grants``: one per operation, from any host."""
    return [
        AclBinding(
            ResourceType.TOPIC if g.resource == "topic" else ResourceType.GROUP,
            g.name,
            ResourcePatternType.LITERAL if g.pattern == "literal" else ResourcePatternType.PREFIXED,
            f"User:{g.principal}",
            "*",
            AclOperation[operation.upper()],
            AclPermissionType.ALLOW,
        )
        for g in grants
        for operation in g.operations
    ]


def admin_client(login: KafkaLogin) -> AdminClient:
    """On loopback, as the local stack serves it (SASL in the clear); librdkafka's own log
    below warnings left out."""
    return AdminClient(
        {
            "bootstrap.servers": login.bootstrap_servers,
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": login.username,
            "sasl.password": login.password,
            "log_level": 4,
        }
    )


def add_user(login: KafkaLogin, user: str, password: str, grants: Iterable[Grant]) -> None:
    """A SCRAM-SHA-512 user (its password set anew if it exists) allowed ``grants``, as the
    admin ``login``: another principal with a service's rights, for a run that must not use the
    development password (a production start in the tests)."""
    admin = admin_client(login)
    upsert = UserScramCredentialUpsertion(
        user, ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), password.encode()
    )
    for future in admin.alter_user_scram_credentials([upsert]).values():
        future.result(timeout=TIMEOUT_SECONDS)
    for future in admin.create_acls(bindings(replace(g, principal=user) for g in grants)).values():
        future.result(timeout=TIMEOUT_SECONDS)


def provision(login: KafkaLogin, replicas: int) -> None:
    """Create every ACL and every service's topics (``replicas`` copies) that are missing. A
    node of a cluster that is ready before the others have joined waits for them (a topic
    needs as many brokers as replicas)."""
    admin = admin_client(login)
    for future in admin.create_acls(bindings(every_grant(SERVICES))).values():
        future.result(timeout=TIMEOUT_SECONDS)
    for attempt in Retrying(
        retry=retry_if_exception(lambda e: _error_name(e) == "INVALID_REPLICATION_FACTOR"),
        stop=stop_after_delay(TIMEOUT_SECONDS),
        wait=wait_fixed(0.5),
        reraise=True,
    ):
        with attempt:
            _create_topics(admin, replicas)


def _create_topics(admin: AdminClient, replicas: int) -> None:
    existing = admin.list_topics(timeout=TIMEOUT_SECONDS).topics
    wanted = [t for s in SERVICES for t in (topic_for(s), dead_letter_topic(s))]
    missing = [
        NewTopic(
            t,
            num_partitions=DEFAULT_TOPIC_PARTITIONS,
            replication_factor=replicas,
            config={"retention.ms": "-1", "retention.bytes": "-1"},
        )
        for t in wanted
        if t not in existing
    ]
    for future in admin.create_topics(missing).values() if missing else ():
        try:
            future.result(timeout=TIMEOUT_SECONDS)
        except KafkaException as error:
            if _error_name(error) != "TOPIC_ALREADY_EXISTS":
                raise


def _error_name(error: BaseException) -> str | None:
    """librdkafka's name of a ``KafkaException``'s error, e.g. ``TOPIC_ALREADY_EXISTS``."""
    if isinstance(error, KafkaException) and error.args:
        name: str = error.args[0].name()
        return name
    return None
