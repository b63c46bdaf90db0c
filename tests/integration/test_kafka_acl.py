"""Kafka's SASL/SCRAM and ACLs on the session's real broker (``devstack.kafka``): a service's
principal writes only its own topics and reads only what it consumes, a wrong password gets
nowhere, and a consumer dead-letters another service's event that came on a service's topic."""

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Sequence

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaError,
    TopicAuthorizationFailedError,
)

from events.approval import TaskAssigned
from events.envelope import GENESIS_HASH, Actor, NewEvent
from events.topics import DLQ_HEADER_ERROR, DLQ_HEADER_TOPIC, consumer_group_for
from events.topics import dead_letter_topic as dlq_of
from infra.batch_consumer import BatchConsumer
from infra.consumer import Delivered, IdempotentConsumer, Outcome, dead_letter_to
from infra.eventstore.contract import seal_all
from infra.kafka import ensure_topics
from infra.kafka_acl import AUDITOR, principal_of
from infra.kafka_login import KafkaLogin
from infra.settings import Settings
from tests.kafka_helpers import read_topic


def login_of(settings: Settings, service: str) -> KafkaLogin:
    return settings.kafka_login(principal_of(service))


@pytest.fixture
async def intake_producer(settings: Settings) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(**login_of(settings, "intake").options(), request_timeout_ms=10_000)
    await producer.start()
    yield producer
    await producer.stop()


async def test_a_service_writes_its_own_topics_and_is_refused_another_services(
    settings: Settings, intake_producer: AIOKafkaProducer, unique_name: str
) -> None:
    own = dlq_of("intake", consumer_group_for("intake", unique_name))
    await ensure_topics(login_of(settings, "intake"), [own])  # created as intake: its prefix
    await intake_producer.send_and_wait(own, b"ok")
    for forged in ("jejak.approval.events", "jejak.identity.events", "jejak.approval.dlq"):
        with pytest.raises(TopicAuthorizationFailedError):
            await intake_producer.send_and_wait(forged, b'{"event_type": "TaskAssigned"}')
    with pytest.raises(KafkaError):  # nor may it create another service's topic
        await ensure_topics(login_of(settings, "intake"), [f"jejak.approval.{unique_name}.dlq"])


async def _first_fetch(login: KafkaLogin, topic: str, group: str | None = None) -> None:
    consumer = AIOKafkaConsumer(
        topic, **login.options(), group_id=group, auto_offset_reset="earliest"
    )
    try:
        await consumer.start()
        await consumer.getmany(timeout_ms=3000)
    finally:
        await consumer.stop()


async def test_a_service_reads_only_what_it_consumes_in_its_own_groups(
    settings: Settings,
) -> None:
    intake = login_of(settings, "intake")
    await _first_fetch(intake, "jejak.approval.events")  # intake consumes approval's
    with pytest.raises(TopicAuthorizationFailedError):
        await _first_fetch(intake, "jejak.identity.events")
    with pytest.raises(GroupAuthorizationFailedError):
        await _first_fetch(intake, "jejak.approval.events", group=consumer_group_for("approval"))


async def test_the_auditor_reads_every_topic_and_may_write_none(settings: Settings) -> None:
    auditor = settings.kafka_login(AUDITOR)
    await _first_fetch(auditor, "jejak.identity.events")
    producer = AIOKafkaProducer(**auditor.options(), request_timeout_ms=10_000)
    await producer.start()
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            await producer.send_and_wait("jejak.intake.events", b"forged")
    finally:
        await producer.stop()


@pytest.mark.parametrize("user", ["jejak-intake", "jejak-admin", "nobody"])
async def test_a_wrong_password_gets_nowhere(settings: Settings, user: str) -> None:
    wrong = settings.kafka_login(user).as_user(user, "not-the-password")
    producer = AIOKafkaProducer(**wrong.options(), request_timeout_ms=5000)
    with pytest.raises(KafkaError):
        await producer.start()
    await producer.stop()


def _forged_task_assigned() -> tuple[bytes, str]:
    """approval's ``TaskAssigned`` as it would come on identity's topic (identity's principal
    may write there): granting a team a request's rights."""
    rid = f"req-{uuid.uuid4().hex[:12]}"
    assigned = TaskAssigned(
        request_id=rid,
        team_members=("u-mallory",),
        team_lead="u-mallory",
        opd="DINKES",
        period_start=dt.date(2026, 12, 8),
        period_end=dt.date(2027, 6, 8),
    )
    new = NewEvent.of(
        assigned, actor=Actor(user_id="u-kadis", role="KADIS"), correlation_id=uuid.uuid4()
    )
    [envelope] = seal_all(rid, 0, GENESIS_HASH, [new])
    return envelope.model_dump_json().encode(), str(envelope.event_id)


async def test_a_consumer_dead_letters_another_services_event_on_a_services_topic(
    settings: Settings, app_pool: asyncpg.Pool, schema: str, unique_name: str
) -> None:
    """As approval's consumer (its principal, a group of its own): the forged record reaches no
    handler, lands on the dead-letter topic with why, and its event id stays unrecorded."""
    approval = login_of(settings, "approval")
    dlq = dlq_of("approval", consumer_group_for("approval", unique_name))
    await ensure_topics(approval, [dlq])
    handled: list[Delivered] = []

    async def handler(delivered: Delivered, conn: asyncpg.Connection) -> None:
        handled.append(delivered)

    async def batch_handler(batch: Sequence[Delivered], conn: asyncpg.Connection) -> None:
        handled.extend(batch)

    broker = approval.broker()
    async with broker:
        await broker.start()
        single = IdempotentConsumer(app_pool, schema, handler, dead_letter_to(broker, dlq))
        body, event_id = _forged_task_assigned()
        assert await single.process(body, "jejak.identity.events") == Outcome.DEAD_LETTERED
        batch_body, batch_id = _forged_task_assigned()
        batches = BatchConsumer(single, batch_handler)
        assert await batches.process([(batch_body, "jejak.intake.events")]) == [
            Outcome.DEAD_LETTERED
        ]
    assert handled == []
    recorded = await app_pool.fetchval(
        f"SELECT count(*) FROM {schema}.processed_events WHERE event_id = ANY($1::uuid[])",
        [event_id, batch_id],
    )
    assert recorded == 0
    letters = await read_topic(approval.as_user(AUDITOR), dlq, expected=2, timeout=20)
    by_topic = {dict(r.headers)[DLQ_HEADER_TOPIC]: r for r in letters}
    assert set(by_topic) == {b"jejak.identity.events", b"jejak.intake.events"}
    assert by_topic[b"jejak.identity.events"].value == body
    assert dict(by_topic[b"jejak.identity.events"].headers)[DLQ_HEADER_ERROR] == (
        b"TaskAssigned is emitted on jejak.approval.events, not on jejak.identity.events"
    )
