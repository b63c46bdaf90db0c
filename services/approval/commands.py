"""The commands approval takes, one per decision of SOP steps 3 to 7 (and rejection).

Each is frozen and refuses unknown fields; every field has limits. Rules that need the request's
state (the step it is at, the sections it lacks) are checked by ``decide``, not here.
"""

from typing import Annotated, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from events.approval import (
    DispositionClassification,
    DispositionInstruction,
    DispositionUrgency,
    Participant,
    Signatory,
    Timeline,
)
from events.completeness import SECTION_LABELS
from events.fields import MAX_LIST, Day, DocumentNumber, Instant, Line, RequestId, Text, UserId

SectionPath = Annotated[str, StringConstraints(min_length=1, max_length=64)]
"""A path of ``events.completeness.SECTION_LABELS``, e.g. ``business_process.user_roles``."""


class CommandData(BaseModel):
    """Base of what a command says besides the request it is aimed at (an HTTP body): frozen,
    unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Command(CommandData):
    """Base of approval's commands: a command's data aimed at one request."""

    request_id: RequestId = Field(description="The request the command acts on")


class DisposeData(CommandData):
    """Step 3: KADIS dispositions the request letter to the Head of the IT Division."""

    to_role: Literal["KABID_TI"] = Field(
        default="KABID_TI", description="The role the disposition is addressed to"
    )
    instructions: tuple[DispositionInstruction, ...] = Field(
        default=(), max_length=8, description="The instructions ticked on the sheet"
    )
    note: Text | None = Field(
        default=None,
        validate_default=True,
        description="What else KADIS writes on the sheet; required when no instruction is ticked",
    )
    urgency: DispositionUrgency = Field(default="Biasa", description="Sifat: how fast")
    classification: DispositionClassification = Field(
        default="Biasa", description="Klasifikasi: who may read the letter"
    )
    respond_by: Day | None = Field(default=None, description="Batas waktu (YYYY-MM-DD), if any")
    disposition_number: DocumentNumber | None = Field(
        default=None, description="The disposition sheet's number, if the office numbers them"
    )

    @field_validator("note")
    @classmethod
    def _says_something(cls, note: str | None, info: ValidationInfo) -> str | None:
        if note is None and info.data.get("instructions") == ():  # absent, not invalid
            raise ValueError("Pilih setidaknya satu instruksi atau tulis catatan disposisi.")
        return note


class VerifyDocumentsData(CommandData):
    """Step 4: KABID_TI confirms the documents are complete enough for the meeting.

    Sections still missing must be listed in ``acknowledged_missing``, exactly, so that nothing
    missing is accepted unknowingly (nor on a stale view of a since-revised request).
    """

    acknowledged_missing: tuple[SectionPath, ...] = Field(
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
            raise ValueError(f"memuat bagian yang tidak dikenal: {', '.join(unknown[:5])}")
        if len(set(value)) != len(value):
            raise ValueError("menyebut satu bagian dua kali; sebut setiap bagian sekali")
        return value


class ReturnRequestData(CommandData):
    """Step 4: KABID_TI returns the request to the requester for revision, with reasons."""

    reasons: tuple[Line, ...] = Field(
        min_length=1, max_length=MAX_LIST, description="Why, one reason per item"
    )


class RecordMeetingData(CommandData):
    """Step 5: KABID_TI records the meeting held about the application, as draft minutes."""

    held_at: Instant = Field(description="When the meeting started; not in the future")
    participants: tuple[Participant, ...] = Field(
        min_length=1, max_length=MAX_LIST, description="Who attended"
    )
    scope: Text = Field(description="The agreed scope of the application")
    timeline: Timeline = Field(description="The agreed development timeline")
    minutes_number: DocumentNumber | None = Field(
        default=None,
        description="Number of the draft minutes (Draft BA), if typed; empty: the draft has "
        "none, and the signed minutes take the register's",
    )
    notes: Text | None = Field(default=None, description="Other points of the minutes, if any")


class SignMinutesData(CommandData):
    """Step 6: the minutes (Berita Acara) were signed by the department and the requester."""

    signatories: tuple[Signatory, ...] = Field(
        min_length=1,
        max_length=MAX_LIST,
        description="Everyone who signed: KADIS and/or KABID_TI, and the requester (PEMOHON)",
    )
    minutes_number: DocumentNumber | None = Field(
        default=None,
        description="The signed minutes' number; None keeps the draft's number, if it has "
        "one, else Jejak's register numbers them",
    )


class AssignTeamData(CommandData):
    """Step 7: KADIS issues the assignment letter (Surat Tugas) to the development team."""

    letter_number: DocumentNumber | None = Field(
        default=None,
        description="The Surat Tugas number, if typed; empty: Jejak's register numbers it",
    )
    team_members: tuple[UserId, ...] = Field(
        min_length=1, max_length=MAX_LIST, description="User ids of the team, the lead included"
    )
    team_lead: UserId = Field(description="The team lead; one of team_members")
    period_start: Day = Field(description="First day of the assignment")
    period_end: Day = Field(description="Last day of the assignment, not before the first")


class RejectRequestData(CommandData):
    """KADIS rejects the request, at any step before the assignment letter."""

    reason: Text = Field(description="Why it is rejected")


C = TypeVar("C", bound="Command")

# The commands: each one's data aimed at a request. An entry point that takes the request id
# from elsewhere (a URL) validates the data alone, then calls ``aimed_at``.


class Dispose(DisposeData, Command):
    """Step 3: dispose the request (see ``DisposeData``)."""


class VerifyDocuments(VerifyDocumentsData, Command):
    """Step 4: confirm the request's documents (see ``VerifyDocumentsData``)."""


class ReturnRequest(ReturnRequestData, Command):
    """Step 4: return the request for revision (see ``ReturnRequestData``)."""


class RecordMeeting(RecordMeetingData, Command):
    """Step 5: record the request's meeting (see ``RecordMeetingData``)."""


class SignMinutes(SignMinutesData, Command):
    """Step 6: record the signing of the request's minutes (see ``SignMinutesData``)."""


class AssignTeam(AssignTeamData, Command):
    """Step 7: assign the request to a team (see ``AssignTeamData``)."""


class RejectRequest(RejectRequestData, Command):
    """Reject the request (see ``RejectRequestData``)."""


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


def aimed_at(command: type[C], request_id: str, data: CommandData) -> C:
    """``command`` for ``request_id`` with the fields of ``data`` (already validated)."""
    return command.model_validate({**dict(data), "request_id": request_id})
