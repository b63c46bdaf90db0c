"""The commands approval takes, one per decision of SOP steps 3 to 7 (and rejection).

Each is frozen and refuses unknown fields; every field has limits. Rules that need the request's
state (the step it is at, the sections it lacks) are checked by ``decide``, not here.
"""

import datetime as dt
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from events.approval import Participant, Signatory, Timeline
from events.completeness import SECTION_LABELS
from events.fields import MAX_LIST, DocumentNumber, Line, RequestId, Text, UserId


class Command(BaseModel):
    """Base of approval's commands: frozen, unknown fields refused, aimed at one request."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    request_id: RequestId = Field(description="The request the command acts on")


class Dispose(Command):
    """Step 3: KADIS dispositions the request letter to the Head of the IT Division."""

    to_role: Literal["KABID_TI"] = Field(
        default="KABID_TI", description="The role the disposition is addressed to"
    )
    note: Text = Field(description="The instruction written on the disposition sheet")
    disposition_number: DocumentNumber | None = Field(
        default=None, description="The disposition sheet's number, if the office numbers them"
    )


class VerifyDocuments(Command):
    """Step 4: KABID_TI confirms the documents are complete enough for the meeting.

    Sections still missing must be listed in ``acknowledged_missing``, exactly, so that nothing
    missing is accepted unknowingly (nor on a stale view of a since-revised request).
    """

    acknowledged_missing: tuple[str, ...] = Field(
        default=(),
        max_length=len(SECTION_LABELS),
        description=(
            "The missing sections KABID_TI knowingly accepts (paths of "
            "events.completeness.SECTION_LABELS); must equal the sections missing now"
        ),
    )
    note: Text | None = Field(default=None, description="KABID_TI's remark, if any")

    @field_validator("acknowledged_missing")
    @classmethod
    def _known_sections(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [path for path in value if path not in SECTION_LABELS]
        if unknown:
            raise ValueError(f"unknown section(s): {', '.join(unknown[:5])}")
        if len(set(value)) != len(value):
            raise ValueError("a section is listed twice")
        return value


class ReturnRequest(Command):
    """Step 4: KABID_TI returns the request to the requester for revision, with reasons."""

    reasons: tuple[Line, ...] = Field(
        min_length=1, max_length=MAX_LIST, description="Why, one reason per item"
    )


class RecordMeeting(Command):
    """Step 5: KABID_TI records the meeting held about the application, as draft minutes."""

    held_at: AwareDatetime = Field(description="When the meeting started; not in the future")
    participants: tuple[Participant, ...] = Field(
        min_length=1, max_length=MAX_LIST, description="Who attended"
    )
    scope: Text = Field(description="The agreed scope of the application")
    timeline: Timeline = Field(description="The agreed development timeline")
    minutes_number: DocumentNumber = Field(description="Number of the draft minutes (Draft BA)")
    notes: Text | None = Field(default=None, description="Other points of the minutes, if any")


class SignMinutes(Command):
    """Step 6: the minutes (Berita Acara) were signed by the department and the requester."""

    signatories: tuple[Signatory, ...] = Field(
        min_length=1,
        max_length=MAX_LIST,
        description="Everyone who signed: KADIS and/or KABID_TI, and the requester (PEMOHON)",
    )
    minutes_number: DocumentNumber | None = Field(
        default=None, description="The signed minutes' number; None keeps the draft's number"
    )


class AssignTeam(Command):
    """Step 7: KADIS issues the assignment letter (Surat Tugas) to the development team."""

    letter_number: DocumentNumber = Field(description="The Surat Tugas number")
    team_members: tuple[UserId, ...] = Field(
        min_length=1, max_length=MAX_LIST, description="User ids of the team, the lead included"
    )
    team_lead: UserId = Field(description="The team lead; one of team_members")
    period_start: dt.date = Field(description="First day of the assignment")
    period_end: dt.date = Field(description="Last day of the assignment, not before the first")


class RejectRequest(Command):
    """KADIS rejects the request, at any step before the assignment letter."""

    reason: Text = Field(description="Why it is rejected")


ApprovalCommand = (
    Dispose
    | VerifyDocuments
    | ReturnRequest
    | RecordMeeting
    | SignMinutes
    | AssignTeam
    | RejectRequest
)
"""Every command approval takes."""
