"""Kafka topic and consumer-group names.

- One events topic per *emitting* service: ``jejak.<service>.events``, keyed by ``stream_id``,
  infinite retention (the topics are the replayable history).
- One consumer group per *consuming* service: ``jejak.<service>``; the replicas of a service share
  it. A service that needs a second, independent cursor over the same topics (e.g. reporting's
  notifier beside its projection) names an extra group ``jejak.<service>.<purpose>``.
- One dead-letter topic per consumer group: ``<group>.dlq``, so the default group of a service
  gives ``jejak.<service>.dlq``. A dead letter is the original record's value with the headers
  ``DLQ_HEADER_*`` below (why, the topic it was read from, and the event id when the envelope
  parsed; ``infra.consumer``). It is written only for a record that can never succeed (it does
  not parse, its event type is unknown, its handler refuses it), never for a transient failure,
  which is retried instead. Replaying a dead-letter topic into its group is an operator's
  action.
"""

import re
from typing import Literal, get_args

Service = Literal[
    "identity", "intake", "approval", "dev_tracking", "reporting", "eoffice", "documents"
]
"""The services, by the name of their package under ``services/``."""

SERVICES: tuple[Service, ...] = get_args(Service)
"""Every service, each of which emits events on its own topic."""

PREFIX = "jejak"

SUBSCRIPTIONS: dict[Service, tuple[Service, ...]] = {
    "identity": (),
    "intake": ("approval",),
    "approval": ("intake", "identity", "dev_tracking"),
    "dev_tracking": ("approval",),
    "reporting": ("identity", "intake", "approval", "dev_tracking", "reporting"),
    "eoffice": ("reporting",),
    "documents": ("identity", "intake", "approval", "dev_tracking"),
}
"""Whose topics each service consumes (DESIGN.md's "consumes" column). reporting follows every
topic that makes up a case; eoffice's own (the audit of its deliveries) is not one of them.
documents renders the papers of the steps, with the names and NIPs identity holds. approval
keeps identity's role grants and delegations, to check the official an e-office disposition
names, and follows dev_tracking for its ``RequestCompleted`` only: no new Surat Tugas after
completion."""

# The headers of a dead letter.
DLQ_HEADER_ERROR = "error"
DLQ_HEADER_TOPIC = "topic"
DLQ_HEADER_EVENT_ID = "event_id"

_PURPOSE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_RESERVED_PURPOSES = frozenset({"events", "dlq"})


class UnknownService(ValueError):
    """Raised for a service name that is not one of ``SERVICES``."""


def _check(service: str) -> Service:
    for known in SERVICES:
        if service == known:
            return known
    raise UnknownService(f"unknown service {service!r}; known: {', '.join(SERVICES)}")


def topic_for(service: str) -> str:
    """The events topic the service emits on, e.g. ``jejak.intake.events``."""
    return f"{PREFIX}.{_check(service)}.events"


def consumer_group_for(service: str, purpose: str | None = None) -> str:
    """The service's consumer group, ``jejak.<service>``, or ``jejak.<service>.<purpose>``."""
    base = f"{PREFIX}.{_check(service)}"
    if purpose is None:
        return base
    if not _PURPOSE.match(purpose) or purpose in _RESERVED_PURPOSES:
        raise ValueError(f"bad consumer-group purpose {purpose!r}")
    return f"{base}.{purpose}"


def dead_letter_topic(service: str, consumer_group: str | None = None) -> str:
    """The dead-letter topic of a consumer group of ``service``: ``<group>.dlq``.

    Without a group (or with the service's default group) this is ``jejak.<service>.dlq``.
    A group that does not belong to ``service`` is refused, so that two services never share a
    dead-letter topic.
    """
    default = consumer_group_for(service)
    group = consumer_group or default
    if group != default:
        prefix = default + "."
        if not group.startswith(prefix):
            raise ValueError(f"consumer group {group!r} does not belong to service {service!r}")
        consumer_group_for(service, group.removeprefix(prefix))  # validates the purpose
    return f"{group}.dlq"


def topics_consumed_by(service: str) -> tuple[str, ...]:
    """The events topics the service subscribes to."""
    return tuple(topic_for(s) for s in SUBSCRIPTIONS[_check(service)])
