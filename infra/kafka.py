"""Kafka clients configured the way every service needs them."""

from collections.abc import Iterable
from contextlib import suppress

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError


def reliable_producer(bootstrap_servers: str, client_id: str) -> AIOKafkaProducer:
    """acks=all and idempotence: a retried send is neither lost nor duplicated nor reordered."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=512 * 1024,
        request_timeout_ms=30_000,
    )


async def ensure_topics(bootstrap_servers: str, topics: Iterable[str], partitions: int = 3) -> None:
    """Create ``topics`` with infinite retention (they are the replayable history) if missing."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                name=t,
                num_partitions=partitions,
                replication_factor=1,
                topic_configs={"retention.ms": "-1", "retention.bytes": "-1"},
            )
            for t in dict.fromkeys(topics)
            if t not in existing
        ]
        if missing:
            with suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
    finally:
        await admin.close()
