"""Kafka clients configured the way every service needs them."""

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, KafkaTimeoutError, TopicAlreadyExistsError, for_code

from infra.kafka_login import KafkaLogin
from infra.settings import DEFAULT_REPLICATION_FACTOR, DEFAULT_TOPIC_PARTITIONS


def kafka_unavailable(error: BaseException) -> bool:
    """Whether ``error`` says Kafka cannot be reached now (down, starting, electing a leader):
    the same call may succeed later."""
    return isinstance(error, KafkaError) and (
        error.retriable or isinstance(error, KafkaTimeoutError)
    )


@contextmanager
def connection_errors_unlogged() -> Iterator[None]:
    """aiokafka's own log line for each refused connection left out (a caller that retries
    logs its tries itself)."""
    logger = logging.getLogger("aiokafka")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def reliable_producer(login: KafkaLogin, client_id: str) -> AIOKafkaProducer:
    """acks=all and idempotence: a retried send is neither lost nor duplicated nor reordered."""
    return AIOKafkaProducer(
        **login.options(),
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=512 * 1024,
        request_timeout_ms=30_000,
    )


def _raise_refusals(topic_errors: Iterable[tuple[Any, ...]]) -> None:
    """A CreateTopics answer names each topic's error instead of raising it: raise the first
    (a topic created meanwhile by another is no error)."""
    for topic, code, *_ in topic_errors:
        if code and code != TopicAlreadyExistsError.errno:
            raise for_code(code)(f"topic {topic} could not be created")


async def ensure_topics(
    login: KafkaLogin,
    topics: Iterable[str],
    partitions: int = DEFAULT_TOPIC_PARTITIONS,
    replication_factor: int = DEFAULT_REPLICATION_FACTOR,
) -> None:
    """Create ``topics`` with infinite retention (they are the replayable history) if missing;
    a service passes its settings' ``kafka_topic_partitions`` and ``kafka_replication_factor``.
    ``login`` must be allowed to create them (a service: only its own, ``infra.kafka_acl``)."""
    admin = AIOKafkaAdminClient(**login.options())
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                name=t,
                num_partitions=partitions,
                replication_factor=replication_factor,
                topic_configs={"retention.ms": "-1", "retention.bytes": "-1"},
            )
            for t in dict.fromkeys(topics)
            if t not in existing
        ]
        if missing:
            with suppress(TopicAlreadyExistsError):
                answer = await admin.create_topics(missing)
                _raise_refusals(answer.topic_errors)
    finally:
        await admin.close()
