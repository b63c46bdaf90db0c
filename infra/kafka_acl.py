"""Who may do what on Kafka: one SCRAM principal per service, an auditor and an admin, and the
ACLs (Kafka's StandardAuthorizer) of each. Pure declarations: ``devstack.kafka`` creates them
on the local stack, the Helm chart's KafkaUsers state the same (``tests/deploy`` compares).

- A service writes only under its own prefix ``jejak.<service>.``: its events topic and the
  dead-letter topics of its consumer groups (``events.topics``), which it may also create.
- It reads only the events topics it consumes (``events.topics.SUBSCRIPTIONS``), in its own
  consumer groups (``jejak.<service>`` and ``jejak.<service>.<purpose>``).
- The auditor (``jejak audit``) reads every ``jejak.`` topic and writes none.
- The admin is the brokers' own principal and a super user (topics, ACLs, credentials).

Read and Write imply Describe in Kafka, so Describe is not granted apart.
"""

from dataclasses import dataclass
from typing import Literal

from events.topics import PREFIX, Service, consumer_group_for, topics_consumed_by

ADMIN = "jejak-admin"
"""The brokers' principal and the super user."""
AUDITOR = "jejak-auditor"
"""The principal of ``jejak audit`` (verify, replay, the documents' audit)."""

Operation = Literal["Read", "Write", "Create"]


@dataclass(frozen=True)
class Grant:
    """Allow ``principal`` the ``operations`` on the topics or groups that ``name`` names:
    exactly (``literal``) or every name that starts with it (``prefix``)."""

    principal: str
    resource: Literal["topic", "group"]
    name: str
    pattern: Literal["literal", "prefix"]
    operations: tuple[Operation, ...]


def principal_of(service: str) -> str:
    """The service's SCRAM user: ``jejak-<service>`` with ``_`` as ``-`` (a Kubernetes name,
    as the chart's KafkaUser is called with the release ``jejak``)."""
    return consumer_group_for(service).replace(".", "-").replace("_", "-")


def grants_of(service: str) -> tuple[Grant, ...]:
    """Everything ``service``'s principal may do (see the module)."""
    user = principal_of(service)
    own = f"{consumer_group_for(service)}."
    grants = [Grant(user, "topic", own, "prefix", ("Write", "Create"))]
    if consumed := topics_consumed_by(service):
        grants += [Grant(user, "topic", topic, "literal", ("Read",)) for topic in consumed]
        grants += [
            Grant(user, "group", consumer_group_for(service), "literal", ("Read",)),
            Grant(user, "group", own, "prefix", ("Read",)),
        ]
    return tuple(grants)


def auditor_grants() -> tuple[Grant, ...]:
    return (Grant(AUDITOR, "topic", f"{PREFIX}.", "prefix", ("Read",)),)


def every_grant(services: tuple[Service, ...]) -> tuple[Grant, ...]:
    """The ACLs of the whole deployment: each service's and the auditor's."""
    return (*(g for s in services for g in grants_of(s)), *auditor_grants())


def principals(services: tuple[Service, ...]) -> tuple[str, ...]:
    """Every SCRAM user there is: the admin, the auditor and one per service."""
    return (ADMIN, AUDITOR, *(principal_of(s) for s in services))
