"""The e-office's inbound dispositions (``POST /eoffice/dispositions``): the Head of Department
dispositioned the letter in the e-office, and Jejak records step 3 as done there, by that official.

Authentication is the signed webhook of ``infra.webhook`` (no bearer token). The named official
must have held KADIS at ``disposed_at``, or acted for a holder then as Plt/Plh, by identity's
events as approval recorded them (``officials_store``); otherwise 422 naming ``body.disposed_by``,
or 425 while ``disposed_at`` is under ``IDENTITY_SETTLE`` old (identity's latest facts may still
be on their way). The disposition is then decided by approval's own domain as that official, so
the ``Disposed`` event's actor is the official (``user_id`` = ``disposed_by``, role KADIS, and
``on_behalf_of`` the absent Head for a Plt/Plh, as when a Plt/Plh disposes in Jejak). That it
came through the e-office is written where every reader of the timeline sees it, at the head of
the note:

    [via e-office | <disposition_id> | <disposed_at, ISO 8601> | <disposed_by_name or id>] <note>

(``VIA_EOFFICE`` is the marker). The request is named by ``request_id`` or by the e-office
``letter_id`` its ``RequestSubmitted`` carried (approval consumes intake's events). If approval
has not yet consumed the request's submission and reception, the answer is 425 with
``Retry-After``: the e-office retries. Exactly one ``Disposed`` per e-office ``disposition_id``:
a repeated delivery gets 200 with the first answer's request id and changes nothing.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from events.envelope import utc_now
from events.fields import (
    FREE_TEXT,
    DocumentNumber,
    ExternalId,
    Instant,
    Name,
    RequestId,
    UserId,
)
from infra.db import Connection
from infra.errors import DomainError, InvalidInput
from infra.principal import Principal
from infra.webhook import SeenSignatures, Verified
from services.approval.commands import Dispose
from services.approval.domain import ApprovalState, decide, fold
from services.approval.officials_store import Officials
from services.approval.usecases import Approval
from services.approval.views import present

VIA_EOFFICE = "[via e-office"
"""How a disposition note recorded through the e-office begins."""

MAX_NOTE = 9_000
"""The longest note the e-office may send: the marker must still fit the event's 10 000."""

FUTURE_SKEW = dt.timedelta(minutes=5)
"""How far in the future ``disposed_at`` may lie, for clocks that disagree."""

RETRY_AFTER_SECONDS = 30
"""What a 425 asks the e-office to wait before it retries."""

IDENTITY_SETTLE = dt.timedelta(minutes=5)
"""How long after ``disposed_at`` identity's facts of that instant (a role just granted, a
Plt/Plh just appointed) may still be on their way to approval: a named official who held no KADIS
then is answered 425 (retry) until then, 422 after."""


class InboundDisposition(BaseModel):
    """The body of ``POST /eoffice/dispositions``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    disposition_id: ExternalId = Field(
        description="The e-office's own id of the disposition: the idempotency key",
    )
    letter_id: ExternalId | None = Field(
        default=None,
        description="The e-office letter id the request was created from (or give request_id)",
    )
    request_id: RequestId | None = Field(
        default=None, description="Jejak's request id, as answered to the letter (or letter_id)"
    )
    disposed_by: UserId = Field(description="The Jejak user id of the official who disposed")
    disposed_by_name: Name | None = Field(
        default=None, description="The official's name as on the disposition sheet, if given"
    )
    note: str = Field(
        min_length=1,
        max_length=MAX_NOTE,
        pattern=FREE_TEXT,
        description="The instruction written on the disposition (to KABID_TI)",
    )
    disposition_number: DocumentNumber | None = Field(
        default=None, description="The disposition sheet's number, if the office numbers them"
    )
    disposed_at: Instant = Field(
        description="When the official disposed in the e-office, with its UTC offset"
    )

    @model_validator(mode="after")
    def _names_the_request(self) -> Self:
        if self.letter_id is None and self.request_id is None:
            raise ValueError("Isi letter_id atau request_id.")
        return self


class NotYetKnown(DomainError):
    """What the disposition rests on has not reached approval yet (the request or its reception
    from intake; the official's KADIS from identity): 425, retry later."""

    status = 425

    def __init__(
        self, what: str, source: str = "intake", code: str = "request_not_yet_known"
    ) -> None:
        super().__init__(
            f"{what} belum diketahui layanan persetujuan (masih dalam perjalanan dari {source}); "
            f"ulangi dalam {RETRY_AFTER_SECONDS} detik."
        )
        self.code = code

    def detail(self) -> dict[str, object]:
        return {
            "message": self.message,
            "code": self.code,
            "retry_after_seconds": RETRY_AFTER_SECONDS,
        }


class NotKadis(InvalidInput):
    """The named official neither held KADIS nor acted for a holder at ``disposed_at``: 422."""

    def __init__(self, disposition: "InboundDisposition") -> None:
        super().__init__(
            f"{disposition.disposed_by} tidak memegang peran KADIS dan tidak menjabat Plt/Plh "
            f"KADIS pada {disposition.disposed_at.isoformat()}; disposisi dari e-office harus "
            "oleh Kepala Dinas atau Plt/Plh-nya pada saat itu.",
            field="body.disposed_by",
        )


def note_of(disposition: InboundDisposition) -> str:
    """The note the ``Disposed`` event carries: the marker, then the official's note."""
    who = disposition.disposed_by_name or disposition.disposed_by
    return (
        f"{VIA_EOFFICE} | {disposition.disposition_id} | {disposition.disposed_at.isoformat()} "
        f"| {who}] {disposition.note}"
    )


@dataclass
class EofficeDispositions:
    approval: Approval
    tenant: str
    seen: SeenSignatures
    officials: Officials
    clock: Callable[[], dt.datetime] = utc_now

    @property
    def _schema(self) -> str:
        return self.approval.timeline.store.schema

    async def accept(
        self, disposition: InboundDisposition, delivery: Verified
    ) -> tuple[int, dict[str, Any]]:
        """``(201, answer)`` when recorded now, ``(200, answer)`` when it already was."""
        now = self.clock()
        if disposition.disposed_at > now + FUTURE_SKEW:
            raise InvalidInput("disposed_at belum tiba.", field="body.disposed_at")
        timeline = self.approval.timeline
        async with timeline.store.pool.acquire() as conn, conn.transaction():
            await self.seen.spend(conn, delivery)
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext($1))",
                f"{self._schema}:eoffice-disposition:{self.tenant}:{disposition.disposition_id}",
            )
            known = await conn.fetchrow(
                f"SELECT request_id FROM {self._schema}.eoffice_dispositions "
                "WHERE tenant = $1 AND disposition_id = $2",
                self.tenant,
                disposition.disposition_id,
            )
            if known is not None:
                state, _ = await self._state(conn, known["request_id"])
                return 200, self._answer(disposition, state, [], created=False)
            request_id = await self._request_of(conn, disposition)
            await timeline.lock(conn, request_id)
            state, version = await self._state(conn, request_id)
            if state.status in ("ABSENT", "SUBMITTED"):
                raise NotYetKnown(f"Penerimaan permohonan {request_id}")
            official = await self._official(conn, disposition, now)
            command = Dispose(
                request_id=request_id,
                note=note_of(disposition),
                disposition_number=disposition.disposition_number,
            )
            events = decide(state, command, official, now)
            sealed = await timeline.append(
                conn, request_id, version, events, official.acting_as("KADIS")
            )
            state = fold(events, state)
            await self.approval._project(conn, state)  # the same read row a command writes
            await conn.execute(
                f"INSERT INTO {self._schema}.eoffice_dispositions "
                "(tenant, disposition_id, request_id, event_id, delivery_id) "
                "VALUES ($1, $2, $3, $4, $5)",
                self.tenant,
                disposition.disposition_id,
                request_id,
                sealed[0].event_id,
                delivery.delivery_id,
            )
        return 201, self._answer(disposition, state, [str(e.event_id) for e in sealed], True)

    async def _official(
        self, conn: Connection, disposition: InboundDisposition, now: dt.datetime
    ) -> Principal:
        """The named official as KADIS (or Plt/Plh of one) at ``disposed_at``; ``NotKadis``, or
        ``NotYetKnown`` while identity's facts of that instant may still be on their way."""
        official = await self.officials.acting(
            conn,
            self.tenant,
            disposition.disposed_by,
            disposition.disposed_by_name or disposition.disposed_by,
            "KADIS",
            disposition.disposed_at,
        )
        if official is not None:
            return official
        if now - disposition.disposed_at < IDENTITY_SETTLE:
            raise NotYetKnown(
                f"Peran KADIS {disposition.disposed_by} pada {disposition.disposed_at.isoformat()}",
                source="identity",
                code="official_not_yet_known",
            )
        raise NotKadis(disposition)

    async def _state(self, conn: Connection, request_id: str) -> tuple[ApprovalState, int]:
        events, own_version = await self.approval.timeline.load(conn, request_id)
        return fold(events), own_version

    async def _request_of(self, conn: Connection, disposition: InboundDisposition) -> str:
        """The request the disposition names; ``NotYetKnown`` for a letter not yet consumed."""
        if disposition.letter_id is None:
            assert disposition.request_id is not None
            return disposition.request_id
        found = await conn.fetchval(
            f"SELECT stream_id FROM {self._schema}.timeline "
            "WHERE event_type = 'RequestSubmitted' AND payload ->> 'eoffice_letter_id' = $1 "
            "ORDER BY seq LIMIT 1",
            disposition.letter_id,
        )
        if found is None:
            raise NotYetKnown(f"Surat e-office {disposition.letter_id}")
        if disposition.request_id is not None and disposition.request_id != found:
            raise InvalidInput(
                f"request_id {disposition.request_id} bukan permohonan dari surat "
                f"{disposition.letter_id} ({found}).",
                field="body.request_id",
            )
        return str(found)

    @staticmethod
    def _answer(
        disposition: InboundDisposition,
        state: ApprovalState,
        event_ids: list[str],
        created: bool,
    ) -> dict[str, Any]:
        return {
            "request_id": state.request_id,
            "disposition_id": disposition.disposition_id,
            "created": created,
            "event_ids": event_ids,
            "state": present(state),
        }
