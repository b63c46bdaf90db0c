"""Events emitted by the approval service (topic ``jejak.approval.events``), steps 3 to 7.

Stream: one per request (stream id = ``request_id``).
"""

import datetime as dt
from typing import Literal, Self

from pydantic import AwareDatetime, Field, model_validator

from events.base import DomainEvent, ValueObject
from events.envelope import OnBehalfOf, Role
from events.fields import (
    MAX_LIST,
    Day,
    DocumentNumber,
    Line,
    Name,
    OpdCode,
    RequestId,
    Text,
    UserId,
)

DispositionInstruction = Literal[
    "Tanggapan dan saran",
    "Proses lebih lanjut",
    "Koordinasikan",
    "Untuk ditindaklanjuti",
    "Pelajari dan beri saran",
    "Siapkan bahan",
    "Untuk diketahui",
    "Arsip",
]
"""The instructions a Lembar Disposisi offers to tick ("Dengan hormat harap: ...")."""
DispositionUrgency = Literal["Biasa", "Segera", "Sangat Segera"]
"""How fast the letter must be handled (sifat)."""
DispositionClassification = Literal["Biasa", "Terbatas", "Rahasia"]
"""Who may read the letter (klasifikasi), kept apart from its urgency."""


class Disposed(DomainEvent):
    """Step 3: KADIS dispositioned the request letter to the Head of the IT Division."""

    request_id: RequestId = Field(description="The request dispositioned")
    to_role: Literal["KABID_TI"] = Field(description="The role the disposition is addressed to")
    note: Text | None = Field(
        default=None,
        description="What KADIS wrote on the sheet besides the ticked instructions; every "
        "disposition has a note or an instruction",
    )
    disposition_number: DocumentNumber | None = Field(
        default=None, description="The disposition sheet's number, if the office numbers them"
    )
    instructions: tuple[DispositionInstruction, ...] = Field(
        default=(),
        max_length=8,
        description="The instructions ticked on the sheet; empty when only the note says it "
        "(as in every disposition recorded before they were kept apart)",
    )
    urgency: DispositionUrgency = Field(default="Biasa", description="The sheet's sifat")
    classification: DispositionClassification = Field(
        default="Biasa", description="The sheet's klasifikasi"
    )
    respond_by: Day | None = Field(
        default=None, description="The deadline (batas waktu) written on the sheet, if any"
    )


class DocumentsVerified(DomainEvent):
    """Step 4: KABID_TI found the documents complete enough to proceed to the meeting."""

    request_id: RequestId = Field(description="The request checked")
    missing_sections: tuple[Line, ...] = Field(
        default=(),
        max_length=MAX_LIST,
        description="Sections still missing that KABID_TI knowingly accepted; usually empty",
    )
    note: Text | None = Field(default=None, description="KABID_TI's remark, if any")


class RequestReturned(DomainEvent):
    """Step 4: KABID_TI returned the request to the requester for revision."""

    request_id: RequestId = Field(description="The request returned")
    reasons: tuple[Line, ...] = Field(
        min_length=1, max_length=MAX_LIST, description="Why, one reason per item"
    )
    missing_sections: tuple[Line, ...] = Field(
        default=(),
        max_length=MAX_LIST,
        description="The sections found missing (paths of events.completeness.SECTION_LABELS)",
    )


class Participant(ValueObject):
    """Someone who attended the meeting."""

    name: Name = Field(description="Full name")
    position: Name = Field(description="Position (jabatan) or role, e.g. Kepala Bidang TI")
    organisation: Name = Field(description="The OPD or unit the participant represents")
    user_id: UserId | None = Field(default=None, description="The user id, if the person has one")


class Timeline(ValueObject):
    """The planned development period agreed in the meeting."""

    planned_start: Day = Field(description="Planned first day of development")
    planned_end: Day = Field(description="Planned last day, on or after planned_start")

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.planned_end < self.planned_start:
            raise ValueError("planned_end must not be before planned_start")
        return self


class MeetingHeld(DomainEvent):
    """Step 5: the meeting about the application was held; its draft minutes were recorded."""

    request_id: RequestId = Field(description="The request discussed")
    held_at: AwareDatetime = Field(description="When the meeting started")
    participants: tuple[Participant, ...] = Field(
        min_length=1, max_length=MAX_LIST, description="Who attended"
    )
    scope: Text = Field(description="The agreed scope of the application")
    timeline: Timeline = Field(description="The agreed development timeline")
    minutes_number: DocumentNumber | None = Field(
        default=None,
        description="Number of the draft minutes (Draft BA), if typed; None: the draft has no "
        "number and the signed minutes take one (typed then, or Jejak's register's)",
    )
    notes: Text | None = Field(default=None, description="Other points of the minutes, if any")


class Signatory(ValueObject):
    """One signature on the minutes."""

    user_id: UserId = Field(description="The signer's user id")
    name: Name = Field(description="The signer's name as printed under the signature")
    role: Role = Field(description="The role in which the signer signed")
    on_behalf_of: OnBehalfOf | None = Field(
        default=None, description="Set when an acting official (Plt/Plh) signs for another"
    )


class BAsigned(DomainEvent):
    """Step 6: the minutes (Berita Acara) stating scope and timeline were signed."""

    request_id: RequestId = Field(description="The request whose minutes were signed")
    minutes_number: DocumentNumber | None = Field(
        default=None,
        description="The signed minutes' number, if typed (or the draft's); None: Jejak's "
        "register numbers them",
    )
    signatories: tuple[Signatory, ...] = Field(
        min_length=1, max_length=MAX_LIST, description="Everyone who signed"
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        ids = [s.user_id for s in self.signatories]
        if len(set(ids)) != len(ids):
            raise ValueError("a signatory is listed twice")
        return self


class TaskAssigned(DomainEvent):
    """Step 7: KADIS issued the assignment letter (Surat Tugas) to the development team."""

    request_id: RequestId = Field(description="The request to develop")
    letter_number: DocumentNumber | None = Field(
        default=None,
        description="The Surat Tugas number as typed; None: the documents service numbers it "
        "from its register",
    )
    team_members: tuple[UserId, ...] = Field(
        min_length=1, max_length=MAX_LIST, description="User ids of the team, the lead included"
    )
    team_lead: UserId = Field(description="The team lead; one of team_members")
    opd: OpdCode = Field(description="The requesting OPD, whose requester accepts the UAT")
    period_start: dt.date = Field(description="First day of the assignment")
    period_end: dt.date = Field(description="Last day of the assignment")

    @model_validator(mode="after")
    def _check(self) -> Self:
        if len(set(self.team_members)) != len(self.team_members):
            raise ValueError("a team member is listed twice")
        if self.team_lead not in self.team_members:
            raise ValueError("team_lead must be one of team_members")
        if self.period_end < self.period_start:
            raise ValueError("period_end must not be before period_start")
        return self


class RequestRejected(DomainEvent):
    """KADIS rejected the request; nothing more happens to it."""

    request_id: RequestId = Field(description="The request rejected")
    reason: Text = Field(description="Why it was rejected")
