"""The people as the issuer needs them, kept in memory between documents: identity's events are
read from ``source_events`` and parsed once each, and each tenant's fold is carried forward
from one document's instant to the next instead of being redone from the first event.

What it gives for a tenant and an instant is what folding, afresh, the tenant's identity events
recorded up to that instant gives (in their ``(occurred_at, event_id)`` order), and how many
they are (``DocumentIssued.people_events``): before each document it counts the identity
events recorded up to the instant and reads those it has not seen if the count differs (the
events are only ever added, so equal counts mean the same events). An event that arrives late,
with an instant before those already folded, makes the tenant's fold start again."""

import asyncio
import datetime as dt
from bisect import bisect_right, insort
from dataclasses import dataclass, field
from uuid import UUID

from events.base import DomainEvent
from events.envelope import Envelope
from infra.db import Connection
from services.documents.people import People
from services.documents.store import DocumentStore

LAST_ID = UUID(int=2**128 - 1)


@dataclass
class Fold:
    """One tenant's identity events in their order, and the first ``count`` of them folded."""

    keys: list[tuple[dt.datetime, UUID]] = field(default_factory=list)
    events: dict[tuple[dt.datetime, UUID], DomainEvent] = field(default_factory=dict)
    people: People = field(default_factory=People)
    count: int = 0

    def add(self, key: tuple[dt.datetime, UUID], event: DomainEvent) -> None:
        """The event that occurred at ``key[0]``, of id ``key[1]``."""
        insort(self.keys, key)
        self.events[key] = event
        if bisect_right(self.keys, key) <= self.count:  # before the folded ones: fold again
            self.people, self.count = People(), 0

    def at(self, until: dt.datetime) -> tuple[People, int]:
        """The people folded from the events up to ``until`` (a copy), and their number."""
        n = bisect_right(self.keys, (until, LAST_ID))
        if n < self.count:  # an earlier instant than the last document's: fold afresh
            return People.of(self.events[k] for k in self.keys[:n]), n
        for key in self.keys[self.count : n]:
            self.people.apply(self.events[key])
        self.count = n
        return self.people.copy(), n


class Directory:
    def __init__(self, store: DocumentStore) -> None:
        self.store = store
        self._instants: list[dt.datetime] = []
        """When each identity event read (of every tenant) occurred, in order."""
        self._known: set[UUID] = set()
        self._folds: dict[str, Fold] = {}
        self._reading = asyncio.Lock()

    async def people(self, conn: Connection, tenant: str, until: dt.datetime) -> tuple[People, int]:
        """The tenant's people up to ``until`` and the number of its identity events folded."""
        async with self._reading:
            recorded = await self.store.identity_count(conn, until)
            if recorded != bisect_right(self._instants, until):
                for envelope, event in await self.store.identity_events(
                    conn, until, list(self._known)
                ):
                    self._add(envelope, event)
        return self._folds.get(tenant, Fold()).at(until)

    def _add(self, envelope: Envelope, event: DomainEvent) -> None:
        if envelope.event_id in self._known:
            return
        self._known.add(envelope.event_id)
        insort(self._instants, envelope.occurred_at)
        key = (envelope.occurred_at, envelope.event_id)
        self._folds.setdefault(envelope.tenant, Fold()).add(key, event)
