"""Signed checkpoints of a service's event store (``events.checkpoint``), written by the relay's
leader beside the relay (``infra.relay``), off the command path.

Every ``poll_seconds`` the checkpointer reads the events the relay has published (acked on
Kafka) since the last checkpoint, in the store's ``(txid, position)`` order. Once there are
``every_events`` of them, or the last checkpoint is ``interval`` old and there is at least one,
it signs the next checkpoint over the first ``every_events`` at most (a backlog gives several
in a row): the heads they change, the root over every head, the count. It stores the
checkpoint (table ``checkpoints``) before it publishes it on the service's topic and appends it
to the checkpoint file, then marks it published; a checkpoint stored but not marked (a crash,
Kafka or the file unavailable) is published again by the next try or the next leader, so it
may appear twice, identical (the verification takes it once), and is never lost.

The checkpointer signs only what continues what it signed before: each stream's first new
event must follow the signed head (the next version, chained to the signed hash), and at start
the store's heads at the last checkpoint's position must give its root. Otherwise the store was
rewritten under it: it logs why and signs nothing more (``jejak audit verify`` names what
differs); the relay goes on.
"""

import asyncio
import os
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from events.checkpoint import (
    CHECKPOINT_HEADER,
    CHECKPOINT_HEADER_VALUE,
    CHECKPOINT_KEY,
    FIRST_PREVIOUS,
    Checkpoint,
    Head,
)
from events.envelope import GENESIS_HASH, utc_now
from events.merkle import HeadSet
from infra.checkpoint_keys import Signer
from infra.db import DATABASE_UNAVAILABLE
from infra.eventstore import Position, PostgresEventStore
from infra.eventstore.contract import START

log = structlog.get_logger()

RETRIED: tuple[type[Exception], ...] = (*DATABASE_UNAVAILABLE, KafkaError, OSError)
"""What the checkpointer tries again after a pause (the state is read afresh)."""


class Refused(Exception):
    """The store does not continue what was signed: no checkpoint is signed over it."""


@dataclass
class Signed:
    """What the last checkpoint signed, and the store position it covers."""

    sequence: int
    previous: str
    position: Position
    heads: HeadSet
    signed_at: datetime | None


@dataclass
class Checkpointer:
    store: PostgresEventStore
    service: str
    producer: AIOKafkaProducer
    topic: str
    signer: Signer
    file: Path
    every_events: int = 1000
    interval: timedelta = timedelta(seconds=60)
    poll_seconds: float = 0.5
    clock: Callable[[], datetime] = utc_now
    _signed: Signed | None = field(default=None, init=False)
    _since: datetime | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        s = self.store.schema
        self._new_sql = (
            f"SELECT txid::text::bigint AS txid_n, position, stream_id, stream_version, "
            f"prev_hash, hash FROM {s}.events "
            "WHERE (txid, position) > ($1::text::xid8, $2) "
            "AND (txid, position) <= ($3::text::xid8, $4) ORDER BY txid, position LIMIT $5"
        )
        self._heads_sql = (
            f"SELECT DISTINCT ON (stream_id) stream_id, stream_version, hash FROM {s}.events "
            "WHERE (txid, position) <= ($1::text::xid8, $2) "
            "ORDER BY stream_id, stream_version DESC"
        )

    @property
    def _schema(self) -> str:
        return self.store.schema

    async def run(self, stop: asyncio.Event) -> None:
        """Sign checkpoints until ``stop`` is set (or the task is cancelled: the relay's leader
        runs it while it leads). A failure is tried again after a pause; a refusal ends it."""
        self._signed = None  # another replica may have led (and signed) since this one did
        while not stop.is_set():
            try:
                while await self.run_once():
                    pass
            except Refused as refused:
                log.error(
                    "checkpoints stopped: the store does not continue what was signed",
                    reason=str(refused),
                    schema=self._schema,
                )
                return
            except RETRIED as error:
                log.warning("checkpoint interrupted; trying again", error=repr(error))
                self._signed = None
            except Exception:
                log.exception("checkpoint failed; trying again")
                self._signed = None
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.poll_seconds)

    async def run_once(self) -> bool:
        """Sign and publish the next checkpoint if one is due; whether one was."""
        signed = self._signed or await self._load()
        relayed = await self.store.pool.fetchrow(
            f"SELECT txid::text::bigint AS txid, position FROM {self._schema}.relay_position"
        )
        assert relayed is not None
        rows = await self.store.pool.fetch(
            self._new_sql,
            str(signed.position.txid),
            signed.position.position,
            str(relayed["txid"]),
            relayed["position"],
            self.every_events,
        )
        now = self.clock()
        since = signed.signed_at or self._since or now
        if not rows or (len(rows) < self.every_events and now - since < self.interval):
            return False
        changed = _follow(signed.heads, rows)
        checkpoint = self.signer.sign(
            Checkpoint(
                service=self.service,
                sequence=signed.sequence + 1,
                previous=signed.previous,
                signed_at=now,
                streams=len(signed.heads.heads),
                events=signed.heads.events,
                root=signed.heads.root(),
                heads=tuple(Head(stream_id=s, version=v, hash=h) for s, (v, h) in changed),
                key_id=self.signer.key_id,
            )
        )
        position = Position(rows[-1]["txid_n"], rows[-1]["position"])
        self._signed = None  # read afresh if anything below fails
        await self.store.pool.execute(
            f"INSERT INTO {self._schema}.checkpoints (sequence, txid, position, body) "
            "VALUES ($1, $2::text::xid8, $3, $4)",
            checkpoint.sequence,
            str(position.txid),
            position.position,
            checkpoint.model_dump_json(),
        )
        await self._publish(checkpoint)
        self._signed = Signed(checkpoint.sequence, checkpoint.digest(), position, signed.heads, now)
        log.info(
            "checkpoint signed",
            sequence=checkpoint.sequence,
            streams=checkpoint.streams,
            events=checkpoint.events,
            root=checkpoint.root,
        )
        return True

    async def _load(self) -> Signed:
        """The last checkpoint (publishing those not yet published), checked against the
        store's heads at its position."""
        rows = await self.store.pool.fetch(
            f"SELECT sequence, txid::text::bigint AS txid, position, body, published_at "
            f"FROM {self._schema}.checkpoints ORDER BY sequence"
        )
        self._since = self._since or self.clock()
        if not rows:
            self._signed = Signed(0, FIRST_PREVIOUS, START, HeadSet(), None)
            return self._signed
        for row in rows:
            if row["published_at"] is None:
                await self._publish(Checkpoint.model_validate_json(row["body"]))
        last = rows[-1]
        checkpoint = Checkpoint.model_validate_json(last["body"])
        position = Position(last["txid"], last["position"])
        heads = HeadSet(
            {
                r["stream_id"]: (r["stream_version"], r["hash"])
                for r in await self.store.pool.fetch(
                    self._heads_sql, str(position.txid), position.position
                )
            }
        )
        if heads.root() != checkpoint.root or heads.events != checkpoint.events:
            raise Refused(
                f"the store's heads at checkpoint {checkpoint.sequence}'s position no longer "
                "give its root"
            )
        self._signed = Signed(
            checkpoint.sequence, checkpoint.digest(), position, heads, checkpoint.signed_at
        )
        return self._signed

    async def _publish(self, checkpoint: Checkpoint) -> None:
        """On the topic (acked), then in the file, then marked published."""
        value = checkpoint.model_dump_json().encode()
        await self.producer.send_and_wait(
            self.topic,
            value,
            key=CHECKPOINT_KEY,
            headers=[(CHECKPOINT_HEADER, CHECKPOINT_HEADER_VALUE)],
        )
        await asyncio.to_thread(append_line, self.file, value)
        await self.store.pool.execute(
            f"UPDATE {self._schema}.checkpoints SET published_at = now() WHERE sequence = $1",
            checkpoint.sequence,
        )


def _follow(heads: HeadSet, rows: list[asyncpg.Record]) -> list[tuple[str, tuple[int, str]]]:
    """Apply the new events (in store order) to ``heads``; the changed heads, sorted. Raises
    ``Refused`` for an event that does not follow its stream's head."""
    changed: set[str] = set()
    for row in rows:
        stream = row["stream_id"]
        version, hash_ = heads.heads.get(stream, (0, GENESIS_HASH))
        if row["stream_version"] != version + 1 or row["prev_hash"] != hash_:
            raise Refused(
                f"stream {stream}: version {row['stream_version']} does not follow the signed "
                f"version {version}"
            )
        heads.set(stream, row["stream_version"], row["hash"])
        changed.add(stream)
    return [(s, heads.heads[s]) for s in sorted(changed)]


def append_line(path: Path, line: bytes) -> None:
    """Append ``line`` and a newline to ``path`` and make it durable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as file:
        file.write(line + b"\n")
        file.flush()
        os.fsync(file.fileno())
