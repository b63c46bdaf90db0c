"""intake's use cases. A command runs in one transaction: lock the request, load its timeline,
fold, decide (the pure domain), check the attachments it references, append, and update the
read model; any refusal rolls all of it back."""

import datetime as dt
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from events import policy
from events.envelope import Envelope, new_event_id, utc_now
from infra import access
from infra.actions import Actions
from infra.db import Connection
from infra.idempotency import NO_KEY, Answer, IdempotencyKeys, Key
from infra.principal import Principal
from infra.timeline import Timeline
from services.intake import readmodel
from services.intake.attachments import Attachments, declared_size, describe, read_limited
from services.intake.commands import SubmitDetails
from services.intake.domain import (
    FOLLOWED_EVENT_TYPES,
    IntakeCommand,
    RequestState,
    ReviseRequest,
    SubmitRequest,
    available_actions,
    decide,
    ensure_visible,
    evolve,
    fold,
    rule_of,
)
from services.intake.quota import UploadLedger
from services.intake.upload_limits import UploadSlots
from services.intake.views import state_view

LIST_REQUESTS = policy.rule("intake", "ListRequests")
UPLOAD = policy.rule("intake", "UploadAttachment")
DOWNLOAD = policy.rule("intake", "DownloadAttachment")


@dataclass
class Intake:
    timeline: Timeline
    attachments: Attachments
    idempotency: IdempotencyKeys
    ledger: UploadLedger
    slots: UploadSlots
    clock: Callable[[], dt.datetime] = utc_now

    @property
    def pool(self) -> asyncpg.Pool:
        return self.timeline.store.pool

    @property
    def schema(self) -> str:
        return self.timeline.store.schema

    async def execute(
        self, principal: Principal, command: IntakeCommand, key: Key = NO_KEY
    ) -> Answer:
        """Decide and append ``command`` by ``principal``: the new event ids and state."""
        return await self.idempotency.execute(self.pool, principal, key, command, self._execute)

    async def submit(
        self, principal: Principal, details: SubmitDetails, key: Key = NO_KEY
    ) -> Answer:
        """Step 1 with a new request id."""

        async def submit(conn: Connection) -> dict[str, Any]:
            request_id = str(new_event_id())
            command = SubmitRequest.model_validate({**dict(details), "request_id": request_id})
            return await self._execute(conn, principal, command)

        return await self.idempotency.once(self.pool, principal.user_id, key, details, submit)

    async def _execute(
        self, conn: Connection, principal: Principal, command: IntakeCommand
    ) -> dict[str, Any]:
        request_id = command.request_id
        await self.timeline.lock(conn, request_id)
        history, version = await self.timeline.load(conn, request_id)
        state = fold(history)
        events = decide(state, command, principal, self.clock())
        proven = []
        if isinstance(command, SubmitRequest | ReviseRequest):
            current = state.attachments if state is not None else ()
            proven = await self.attachments.require_referable(
                conn, command.attachments, principal.user_id, principal.opd, kept=current
            )
        actor = principal.acting_as(access.acting_role(principal, rule_of(command)))
        sealed = await self.timeline.append(conn, request_id, version, events, actor)
        for event in events:
            state = evolve(state, event)
        assert state is not None
        await readmodel.save(conn, self.schema, state)
        await self.attachments.reference(conn, request_id, proven)
        return {
            "request_id": request_id,
            "event_ids": [str(e.event_id) for e in sealed],
            "state": state_view(state),
        }

    async def handle(self, envelope: Envelope, conn: Connection) -> None:
        """The consumer's handler: record another service's event that moves a request."""
        if envelope.event_type not in FOLLOWED_EVENT_TYPES:
            return
        await self.timeline.record_consumed(conn, envelope)
        history, _ = await self.timeline.load(conn, envelope.stream_id)
        state = fold(history)
        if state is not None:
            await readmodel.save(conn, self.schema, state)

    async def _visible(self, principal: Principal, request_id: str) -> RequestState:
        async with self.pool.acquire() as conn:
            history, _ = await self.timeline.load(conn, request_id)
        return ensure_visible(fold(history), request_id, principal)

    async def get(self, principal: Principal, request_id: str) -> dict[str, Any]:
        return state_view(await self._visible(principal, request_id))

    async def actions(self, principal: Principal, request_id: str) -> Actions:
        """What ``principal`` may do on the request now, if it may see it."""
        state = await self._visible(principal, request_id)
        return Actions(request_id=request_id, actions=tuple(available_actions(state, principal)))

    async def find(
        self, principal: Principal, status: str | None, limit: int, offset: int
    ) -> list[dict[str, Any]]:
        opd = access.opd_filter(principal, LIST_REQUESTS)
        return await readmodel.find(self.pool, self.schema, opd, status, limit, offset)

    async def upload(
        self,
        principal: Principal,
        chunks: AsyncIterator[bytes],
        declared_length: str | None,
        content_type: str,
        key: Key = NO_KEY,
    ) -> Answer:
        """Store an attachment for a later submit or revision (requesters only): 201 with the
        caller's own description, whether or not the same bytes were stored before. Refused
        with 429 above the uploads in progress at once or the caller's daily quota."""
        access.authorize(principal, UPLOAD)
        with self.slots.hold(principal.user_id):
            if key.value is None:  # a retry with its key gets its first answer, quota or not
                async with self.pool.acquire() as conn:
                    await self.ledger.refuse_early(
                        conn, principal.user_id, declared_size(declared_length)
                    )
            content = await read_limited(chunks, declared_length, self.attachments.limit_bytes)

            async def put(conn: Connection) -> Answer:
                described = describe(content, content_type)
                await self.ledger.charge(conn, principal.user_id, described["size_bytes"])
                await self.attachments.put(conn, principal.user_id, content, described)
                return Answer(201, described)

            body = (hashlib.sha256(content).hexdigest(), content_type)
            return await self.idempotency.once(self.pool, principal.user_id, key, body, put)

    async def download(self, principal: Principal, sha256: str) -> tuple[bytes, str]:
        """The bytes, if ``principal`` may read them; one it may not is not found (404)."""
        access.authorize(principal, DOWNLOAD)
        every_opd = access.reaches_every_opd(principal, DOWNLOAD)
        async with self.pool.acquire() as conn:
            return await self.attachments.read(
                conn, sha256, every_opd, principal.user_id, None if every_opd else principal.opd
            )
