"""dev_tracking's use cases: a command is decided on the request's timeline and appended in one
transaction; approval's TaskAssigned is recorded into the timeline by the consumer handler."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from events.approval import TaskAssigned
from events.envelope import Envelope
from events.intake import RequestSubmitted
from infra import access
from infra.db import Connection
from infra.eventstore.errors import StreamOrderConflict
from infra.idempotency import NO_KEY, Answer, IdempotencyKeys, Key
from infra.principal import Principal
from infra.timeline import Timeline
from services.dev_tracking.domain import (
    DEFAULT_GRACE,
    LIST_REQUESTS,
    DevActions,
    DevState,
    DevTrackingCommand,
    Grace,
    available_actions,
    decide,
    ensure_visible,
    fold,
    rule_of,
    who_must_act,
)
from services.dev_tracking.view import state_json

WIB = dt.timezone(dt.timedelta(hours=7), "WIB")
"""Katingan's time zone (UTC+7, no daylight saving): "today" for the domain's date rules."""

CONSUMED = frozenset({TaskAssigned.event_type(), RequestSubmitted.event_type()})
"""The other services' events ``evolve`` cares about; any other consumed event is ignored."""

PAGE_SIZE = 100
"""How many requests one page of the list holds unless the caller asks for fewer or more."""
MAX_PAGE_SIZE = 500
"""The most requests one page of the list may hold."""

ATTEMPTS = 3
"""How often a command is tried when the store asks for a retry in a new transaction."""


def _now() -> dt.datetime:
    return dt.datetime.now(WIB)


@dataclass
class DevTracking:
    timeline: Timeline
    keys: IdempotencyKeys
    clock: Callable[[], dt.datetime] = field(default=_now)
    grace: Grace = DEFAULT_GRACE
    """How long after the Surat Tugas's last day the team may still act."""

    @property
    def _requests(self) -> str:
        return f"{self.timeline.store.schema}.requests"

    async def execute(
        self, principal: Principal, command: DevTrackingCommand, key: Key = NO_KEY
    ) -> Answer:
        """Decide ``command`` on the request and append its events; a refusal appends nothing."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return await self.keys.execute(
                    self.timeline.store.pool, principal, key, command, self._execute
                )
            except StreamOrderConflict:
                if attempt == ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    async def _execute(
        self, conn: Connection, principal: Principal, command: DevTrackingCommand
    ) -> dict[str, Any]:
        request_id = command.request_id
        await self.timeline.lock(conn, request_id)
        seen, version = await self.timeline.load(conn, request_id)
        state = fold(seen)
        events = decide(state, command, principal, self.clock(), self.grace)
        actor = principal.acting_as(access.acting_role(principal, rule_of(command)))
        sealed = await self.timeline.append(conn, request_id, version, events, actor)
        state = fold(events, state)
        await self._project(conn, request_id, state)
        return {
            "request_id": request_id,
            "event_ids": [str(e.event_id) for e in sealed],
            "state": state_json(state),
        }

    async def _visible(self, principal: Principal, request_id: str) -> DevState:
        async with self.timeline.store.pool.acquire() as conn:
            seen, _ = await self.timeline.load(conn, request_id)
        state = fold(seen)
        ensure_visible(state, principal)
        return state

    async def get(self, principal: Principal, request_id: str) -> dict[str, Any]:
        """The request's state: 404 if unknown here, 403 for a requester of another OPD."""
        return state_json(await self._visible(principal, request_id))

    async def actions(self, principal: Principal, request_id: str) -> DevActions:
        """What ``principal`` may do on the request now, if it may see it (as ``get``)."""
        state = await self._visible(principal, request_id)
        return DevActions(
            request_id=request_id,
            actions=tuple(available_actions(state, principal, self.clock().date(), self.grace)),
        )

    async def list_requests(
        self, principal: Principal, limit: int = PAGE_SIZE, offset: int = 0
    ) -> list[dict[str, Any]]:
        """One page of the requests known here, latest change first; a requester sees its own
        OPD's."""
        columns = (
            "request_id, opd, letter_number, team_members, current_step, who_must_act, percent, "
            "updated_at"
        )
        opd = access.opd_filter(principal, LIST_REQUESTS)
        rows = await self.timeline.store.pool.fetch(
            f"SELECT {columns} FROM {self._requests} WHERE ($1::text IS NULL OR opd = $1) "
            "ORDER BY updated_at DESC, request_id LIMIT $2 OFFSET $3",
            opd,
            limit,
            offset,
        )
        return [{**dict(r), "updated_at": r["updated_at"].isoformat()} for r in rows]

    async def handle(self, envelope: Envelope, conn: Connection) -> None:
        """The consumer's handler (in its transaction): record what ``evolve`` cares about.

        A payload that does not load, or whose request is not the envelope's stream, raises and
        is dead-lettered by the consumer, so that no stream is ever folded from it.
        """
        if envelope.event_type not in CONSUMED:
            return
        event = self.timeline.registry.load(
            envelope.event_type, envelope.schema_version, envelope.payload
        )
        if getattr(event, "request_id", None) != envelope.stream_id:
            raise ValueError(f"{envelope.event_type} of another request than its stream")
        await self.timeline.record_consumed(conn, envelope)
        seen, _ = await self.timeline.load(conn, envelope.stream_id)
        await self._project(conn, envelope.stream_id, fold(seen))

    async def _project(self, conn: Connection, request_id: str, state: DevState) -> None:
        if state.step is None:
            return
        await conn.execute(
            f"INSERT INTO {self._requests} (request_id, opd, letter_number, team_members, "
            "current_step, who_must_act, percent) VALUES ($1, $2, $3, $4, $5, $6, $7) "
            "ON CONFLICT (request_id) DO UPDATE SET opd = EXCLUDED.opd, "
            "letter_number = EXCLUDED.letter_number, team_members = EXCLUDED.team_members, "
            "current_step = EXCLUDED.current_step, who_must_act = EXCLUDED.who_must_act, "
            "percent = EXCLUDED.percent, updated_at = now()",
            request_id,
            state.opd,
            state.letter_number,
            list(state.team_members),
            state.step,
            who_must_act(state),
            state.percent,
        )
