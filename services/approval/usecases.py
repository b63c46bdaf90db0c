"""approval's use cases. A command: lock the request, load its timeline, fold, decide, append, in
one transaction (a refusal appends nothing). Queries: one request, or the list. The consumer
handler: record the intake events the domain folds into the request's timeline."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from events.catalog import default_registry
from events.envelope import Envelope, Role, utc_now
from infra import access
from infra.actions import Actions
from infra.db import Connection
from infra.errors import NotFound
from infra.idempotency import NO_KEY, Answer, IdempotencyKeys, Key
from infra.principal import Principal
from infra.timeline import Timeline
from services.approval.commands import ApprovalCommand
from services.approval.domain import (
    CONSUMED_EVENT_TYPES,
    LIST_REQUESTS,
    ApprovalState,
    acting_role,
    available_actions,
    current_step,
    decide,
    ensure_visible,
    fold,
    who_must_act,
)
from services.approval.views import present

REGISTRY = default_registry()


class UnknownRequest(NotFound):
    """No request with this id has reached approval: 404 naming the field."""

    def __init__(self, request_id: str) -> None:
        super().__init__(f"Permohonan {request_id} tidak dikenal oleh layanan persetujuan.")

    def detail(self) -> dict[str, object]:
        return {"message": self.message, "field": "request_id"}


@dataclass
class Approval:
    timeline: Timeline
    keys: IdempotencyKeys
    clock: Callable[[], dt.datetime] = field(default=utc_now)

    @property
    def _schema(self) -> str:
        return self.timeline.store.schema

    async def _state(self, conn: Connection, request_id: str) -> tuple[ApprovalState, int]:
        events, own_version = await self.timeline.load(conn, request_id)
        return fold(events), own_version

    async def execute(
        self, principal: Principal, command: ApprovalCommand, key: Key = NO_KEY
    ) -> Answer:
        """Decide ``command`` and append its events; the new event ids and state, or a
        DomainError (nothing appended)."""
        return await self.keys.execute(
            self.timeline.store.pool, principal, key, command, self._execute
        )

    async def _execute(
        self, conn: Connection, principal: Principal, command: ApprovalCommand
    ) -> dict[str, Any]:
        request_id = command.request_id
        await self.timeline.lock(conn, request_id)
        state, version = await self._state(conn, request_id)
        try:
            events = decide(state, command, principal, self.clock())
        except NotFound:
            raise UnknownRequest(request_id) from None
        actor = principal.acting_as(acting_role(command, principal))
        sealed = await self.timeline.append(conn, request_id, version, events, actor)
        state = fold(events, state)
        await self._project(conn, state)
        return {
            "request_id": request_id,
            "event_ids": [str(e.event_id) for e in sealed],
            "state": present(state),
        }

    async def _visible(self, principal: Principal, request_id: str) -> ApprovalState:
        async with self.timeline.store.pool.acquire() as conn:
            state, _ = await self._state(conn, request_id)
        try:
            ensure_visible(state, principal)
        except NotFound:
            raise UnknownRequest(request_id) from None
        return state

    async def get(self, principal: Principal, request_id: str) -> dict[str, Any]:
        """The request's state, if ``principal`` may see it."""
        return present(await self._visible(principal, request_id))

    async def actions(self, principal: Principal, request_id: str) -> Actions:
        """What ``principal`` may do on the request now, if it may see it."""
        state = await self._visible(principal, request_id)
        return Actions(request_id=request_id, actions=tuple(available_actions(state, principal)))

    async def list_requests(
        self,
        principal: Principal,
        status: str | None = None,
        waiting_on: Role | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """The requests ``principal`` may see, most recently changed first."""
        opd = access.opd_filter(principal, LIST_REQUESTS)
        rows = await self.timeline.store.pool.fetch(
            "SELECT request_id, opd, title, status, current_step, who_must_act, updated_at "
            f"FROM {self._schema}.requests "
            "WHERE ($1::text IS NULL OR opd = $1) AND ($2::text IS NULL OR status = $2) "
            "AND ($3::text IS NULL OR who_must_act = $3) "
            "ORDER BY updated_at DESC, request_id LIMIT $4",
            opd,
            status,
            waiting_on,
            limit,
        )
        return [{**dict(r), "updated_at": r["updated_at"].isoformat()} for r in rows]

    async def handle(self, envelope: Envelope, conn: Connection) -> None:
        """The consumer's handler (in its transaction): record an event the domain folds."""
        if envelope.event_type not in CONSUMED_EVENT_TYPES:
            return
        event = REGISTRY.load(envelope.event_type, envelope.schema_version, envelope.payload)
        if getattr(event, "request_id", None) != envelope.stream_id:
            raise ValueError(f"{envelope.event_type} of another request in {envelope.stream_id}")
        await self.timeline.record_consumed(conn, envelope)
        state, _ = await self._state(conn, envelope.stream_id)
        await self._project(conn, state)

    async def _project(self, conn: Connection, state: ApprovalState) -> None:
        await conn.execute(
            f"INSERT INTO {self._schema}.requests (request_id, opd, title, status, current_step, "
            "who_must_act) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (request_id) DO UPDATE "
            "SET opd = EXCLUDED.opd, title = EXCLUDED.title, status = EXCLUDED.status, "
            "current_step = EXCLUDED.current_step, who_must_act = EXCLUDED.who_must_act, "
            "updated_at = now()",
            state.request_id,
            state.opd,
            state.title,
            state.status,
            current_step(state),
            who_must_act(state),
        )
