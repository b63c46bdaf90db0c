"""The e-office's inbound letters (``POST /eoffice/letters``): a letter that asks for an
application becomes a request, submitted and received at once, exactly once per e-office letter id.

Authentication is the signed webhook of ``infra.webhook`` (no bearer token). The letter is then
decided by intake's own domain, as two principals that satisfy its rules:

- the submission (step 1) by ``EOFFICE_USER`` as PEMOHON of the sender OPD: the request belongs to
  the OPD that wrote the letter, and the actor's user id says that nobody typed it into Jejak;
- the reception (step 2) in the role KADIS: the letter arrived in the Head of Department's
  incoming register, which is the e-office. ``RequestReceived.received_by`` is the clerk the
  e-office names (``received_by``), else ``EOFFICE_USER``; the actor is ``EOFFICE_USER`` either way.

Both events are appended in one transaction with one correlation id (the reception caused by the
submission), together with the row that ties the letter id to the request. A letter id seen before
gets the first request's id again (200) and changes nothing, whatever the delivery carries; a bad
letter (422 naming ``body.<field>``) changes nothing either. Attachments are metadata only: their
bytes stay in the e-office; the URLs the e-office gives are kept beside the request in
``eoffice_letters``, not in the events. Naming a digest proves no possession of its bytes, so a
letter's attachments grant its OPD nothing: bytes Jejak holds under the same digest stay readable
only by whoever could read them before (``services.intake.attachments``).
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from events.envelope import Actor, new_event_id, utc_now
from events.fields import Day, DocumentNumber, ExternalId, Name, OpdCode, Text, UserId
from events.intake import (
    MAX_ATTACHMENTS,
    Attachment,
    BusinessProcess,
    NeedsAnalysis,
    RequestLetter,
)
from infra.db import Connection
from infra.errors import InvalidInput
from infra.idempotency import Answer
from infra.principal import Principal
from infra.webhook import SeenSignatures, Verified
from services.intake import readmodel
from services.intake.domain import (
    ReceiveRequest,
    RequestState,
    SubmitRequest,
    decide,
    evolve,
    fold,
)
from services.intake.usecases import Intake
from services.intake.views import state_view

EOFFICE_USER = "eoffice"
"""The actor user id of everything the e-office itself records in Jejak."""


class LetterAttachment(Attachment):
    """An attachment of the letter, by metadata: the bytes stay in the e-office, and the
    digest grants nobody the bytes Jejak may hold under it."""

    url: str | None = Field(
        default=None,
        max_length=2048,
        pattern=r"^https?://[\x21-\x7e]+$",
        description="Where the e-office serves the file, if it does (kept, not fetched)",
    )

    def as_attachment(self) -> Attachment:
        return Attachment.model_validate(self.model_dump(exclude={"url"}))


class InboundLetter(BaseModel):
    """The body of ``POST /eoffice/letters``: an incoming letter that asks for an application."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    letter_id: ExternalId = Field(
        description="The e-office's own id of the letter, the idempotency key (visible ASCII)",
    )
    letter_number: DocumentNumber = Field(description="Nomor surat, as written on the letter")
    letter_date: Day = Field(description="Tanggal surat (YYYY-MM-DD); not in the future")
    sender_opd: OpdCode = Field(description="The sending agency's OPD code, e.g. DINKES")
    subject: Name = Field(description="Perihal: becomes the request's title (one line, ≤200)")
    summary: Text | None = Field(
        default=None, description="Ringkasan: the request's summary; the subject if absent"
    )
    attachments: tuple[LetterAttachment, ...] = Field(
        default=(), max_length=MAX_ATTACHMENTS, description="The letter's files, metadata only"
    )
    received_by: UserId | None = Field(
        default=None, description="The Jejak user id of the clerk who registered it, if known"
    )
    agenda_number: DocumentNumber | None = Field(
        default=None, description="Nomor agenda of the incoming-letter register, if any"
    )
    needs_analysis: NeedsAnalysis | None = Field(
        default=None, description="The needs-analysis form, if the e-office carries it"
    )
    business_process: BusinessProcess | None = Field(
        default=None, description="The business-process document, if the e-office carries it"
    )

    @field_validator("attachments")
    @classmethod
    def _unique(cls, value: tuple[LetterAttachment, ...]) -> tuple[LetterAttachment, ...]:
        digests = [a.sha256 for a in value]
        if len(set(digests)) != len(digests):
            raise ValueError(
                "memuat lampiran yang sama (sha256) dua kali; sebut setiap lampiran sekali"
            )
        return value


_FIELDS = {"letter.date": "letter_date", "letter.number": "letter_number", "title": "subject"}


def _payload_field(field: str) -> str:
    """The inbound letter's name for a field the domain names after its command."""
    return "body." + _FIELDS.get(field, field)


@dataclass
class EofficeLetters:
    intake: Intake
    tenant: str
    seen: SeenSignatures
    clock: Callable[[], dt.datetime] = utc_now

    async def accept(self, letter: InboundLetter, delivery: Verified) -> Answer:
        """The request the letter became: 201 now, or 200 if it already was one."""
        async with self.intake.pool.acquire() as conn, conn.transaction():
            await self.seen.spend(conn, delivery)
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext($1))",
                f"{self.intake.schema}:eoffice-letter:{self.tenant}:{letter.letter_id}",
            )
            known = await conn.fetchval(
                f"SELECT request_id FROM {self.intake.schema}.eoffice_letters "
                "WHERE tenant = $1 AND letter_id = $2",
                self.tenant,
                letter.letter_id,
            )
            if known is not None:
                return Answer(200, await self._known(conn, letter.letter_id, known))
            try:
                body = await self._create(conn, letter, delivery.delivery_id)
            except InvalidInput as error:
                raise InvalidInput(error.message, field=_payload_field(error.field)) from None
        return Answer(201, body)

    async def _known(self, conn: Connection, letter_id: str, request_id: str) -> dict[str, Any]:
        history, _ = await self.intake.timeline.load(conn, request_id)
        state = fold(history)
        assert state is not None
        return {
            "request_id": request_id,
            "letter_id": letter_id,
            "created": False,
            "event_ids": [],
            "state": state_view(state),
        }

    async def _create(
        self, conn: Connection, letter: InboundLetter, delivery_id: str | None
    ) -> dict[str, Any]:
        request_id = str(new_event_id())
        now = self.clock()
        submit = SubmitRequest(
            request_id=request_id,
            title=letter.subject,
            summary=letter.summary or letter.subject,
            letter=RequestLetter(number=letter.letter_number, date=letter.letter_date),
            needs_analysis=letter.needs_analysis or NeedsAnalysis(),
            business_process=letter.business_process or BusinessProcess(),
            attachments=tuple(a.as_attachment() for a in letter.attachments),
            submitted_via="EOFFICE",
            eoffice_letter_id=letter.letter_id,
        )
        sender = Principal(
            user_id=EOFFICE_USER,
            name="E-office",
            roles=frozenset({"PEMOHON"}),
            opd=letter.sender_opd,
        )
        register = Principal(
            user_id=letter.received_by or EOFFICE_USER,
            name="E-office",
            roles=frozenset({"KADIS"}),
        )
        receive = ReceiveRequest(request_id=request_id, agenda_number=letter.agenda_number)

        timeline = self.intake.timeline
        await timeline.lock(conn, request_id)
        history, version = await timeline.load(conn, request_id)
        state = fold(history)
        submitted = decide(state, submit, sender, now)
        state = _after(state, submitted)
        received = decide(state, receive, register, now)
        state = _after(state, received)
        assert state is not None

        correlation = new_event_id()
        sealed = await timeline.append(
            conn,
            request_id,
            version,
            submitted,
            Actor(user_id=EOFFICE_USER, role="PEMOHON", opd=letter.sender_opd),
            correlation_id=correlation,
        )
        sealed += await timeline.append(
            conn,
            request_id,
            version + len(submitted),
            received,
            Actor(user_id=EOFFICE_USER, role="KADIS"),
            correlation_id=correlation,
            causation_id=sealed[-1].event_id,
        )
        await readmodel.save(conn, self.intake.schema, state)
        await conn.execute(
            f"INSERT INTO {self.intake.schema}.eoffice_letters "
            "(tenant, letter_id, request_id, delivery_id, letter) VALUES ($1, $2, $3, $4, $5)",
            self.tenant,
            letter.letter_id,
            request_id,
            delivery_id,
            letter.model_dump(mode="json"),
        )
        return {
            "request_id": request_id,
            "letter_id": letter.letter_id,
            "created": True,
            "event_ids": [str(e.event_id) for e in sealed],
            "state": state_view(state),
        }


def _after(state: RequestState | None, events: list[Any]) -> RequestState | None:
    for event in events:
        state = evolve(state, event)
    return state
