"""Jejak's contracts: the envelope, every domain event, topic names and the SOP step catalogue.

This package holds data shapes and pure functions only; no service code and no I/O. Services
depend on it and never on each other.

- ``events.envelope``: ``Envelope`` / ``NewEvent`` and the ``Actor`` who caused an event.
- ``events.canonical``: canonical JSON and the SHA-256 hash chain.
- ``events.identity``, ``intake``, ``approval``, ``dev_tracking``, ``reporting``, ``eoffice``: the
  payloads each service emits; ``events.catalog`` lists them all and builds the ``EventRegistry``.
- ``events.steps``: the SOP's 14 steps with actor, standard working time and output document,
  and the events that enter and leave each; ``events.sop`` moves a request along them.
- ``events.topics``: Kafka topic, consumer-group and dead-letter names.
- ``events.completeness``: which sections of a submission are missing (step 4).
"""

from events.base import DomainEvent, ValueObject
from events.canonical import canonical_json, chain_hash, expected_hash
from events.catalog import ALL_EVENTS, EVENTS_BY_SERVICE, default_registry, service_of, topic_of
from events.completeness import SECTION_LABELS, missing_sections
from events.envelope import GENESIS_HASH, Actor, Envelope, NewEvent, OnBehalfOf, Role, new_event_id
from events.registry import EventRegistry, MissingUpcaster, UnknownEventType
from events.steps import STEPS, Step, StepCode, StepRole, next_step, step, step_by_number
from events.topics import SERVICES, Service, consumer_group_for, dead_letter_topic, topic_for

__all__ = [
    "ALL_EVENTS",
    "EVENTS_BY_SERVICE",
    "GENESIS_HASH",
    "SECTION_LABELS",
    "SERVICES",
    "STEPS",
    "Actor",
    "DomainEvent",
    "Envelope",
    "EventRegistry",
    "MissingUpcaster",
    "NewEvent",
    "OnBehalfOf",
    "Role",
    "Service",
    "Step",
    "StepCode",
    "StepRole",
    "UnknownEventType",
    "ValueObject",
    "canonical_json",
    "chain_hash",
    "consumer_group_for",
    "dead_letter_topic",
    "default_registry",
    "expected_hash",
    "missing_sections",
    "new_event_id",
    "next_step",
    "service_of",
    "step",
    "step_by_number",
    "topic_for",
    "topic_of",
]
