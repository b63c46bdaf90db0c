"""Every step form of the request page: which service's command it gives, and the command's
body built from what the form sent. Pure: the page gathers the context, the services decide."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, get_args

from starlette.datastructures import FormData

from events.approval import DispositionClassification, DispositionInstruction, DispositionUrgency
from services.web.formatting import from_local_input
from services.web.forms import chosen, lines, text
from services.web.vocabulary import ROLES

SIGNING_ROLES = ("KABID_TI", "KADIS", "PEMOHON")
"""The roles in which the minutes are signed, in the order a user's roles are tried."""

DISPOSITION_INSTRUCTIONS = get_args(DispositionInstruction)
DISPOSITION_URGENCY = get_args(DispositionUrgency)
DISPOSITION_CLASSIFICATION = get_args(DispositionClassification)


@dataclass(frozen=True)
class FormContext:
    """What a form's body may draw on besides the form: the users it names, the action as the
    service offered it, and an uploaded file's description."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    action: dict[str, Any] = field(default_factory=dict)
    uploaded: dict[str, Any] | None = None
    zone: str = "Asia/Jakarta"


Body = Callable[[FormData, FormContext], dict[str, Any]]


@dataclass(frozen=True)
class StepCommand:
    name: str
    """The command's name in ``events.policy`` (and in the service's actions)."""
    service: str
    route: str
    """The path under ``/requests/{request_id}/``; ``{problem_id}`` is filled from the form."""
    title: str
    body: Body
    upload: str | None = None
    """The form's file field, uploaded to intake before the command is given."""
    danger: bool = False

    @property
    def template(self) -> str:
        return f"forms/{self.name}.html"


def _participant(user: dict[str, Any]) -> dict[str, Any]:
    role = next((r for r in (*SIGNING_ROLES, "TIM_PENGEMBANG") if r in user["roles"]), None)
    return {
        "name": user["full_name"],
        "position": ROLES.get(role or "", "Peserta"),
        "organisation": user.get("opd") or "-",
        "user_id": user["user_id"],
    }


def _guest(line: str) -> dict[str, Any]:
    parts = [p.strip() for p in line.split(";")]
    name, position, organisation = [*parts, "", "", ""][:3]
    return {"name": name, "position": position or "Peserta", "organisation": organisation or "-"}


def _held_at(form: FormData, ctx: FormContext) -> str | None:
    value = text(form, "held_at")
    try:
        return from_local_input(value, ctx.zone).isoformat() if value else None
    except ValueError:
        return value


def _signatory(user: dict[str, Any]) -> dict[str, Any]:
    role = next((r for r in SIGNING_ROLES if r in user["roles"]), None)
    return {"user_id": user["user_id"], "name": user["full_name"], "role": role}


def _sections(form: FormData, prefix: str, lists: tuple[str, ...], texts: tuple[str, ...]) -> Any:
    values: dict[str, Any] = {name: text(form, f"{prefix}.{name}") for name in texts}
    values.update({name: lines(form, f"{prefix}.{name}") or None for name in lists})
    return values


NEEDS_TEXTS = ("background", "objectives", "platform")
NEEDS_LISTS = ("intended_users", "features")
PROCESS_TEXTS = (
    "system_flow",
    "validation_mechanism",
    "forms_and_reporting",
    "access_rights_management",
    "user_management",
    "database_management",
)
PROCESS_LISTS = ("input_data", "output_data", "user_roles")


def needs_analysis(form: FormData) -> Any:
    return _sections(form, "needs_analysis", NEEDS_LISTS, NEEDS_TEXTS)


def business_process(form: FormData) -> Any:
    return _sections(form, "business_process", PROCESS_LISTS, PROCESS_TEXTS)


COMMANDS: tuple[StepCommand, ...] = (
    StepCommand(
        "ReceiveRequest",
        "intake",
        "receive",
        "Terima permohonan",
        lambda f, c: {"agenda_number": text(f, "agenda_number")},
    ),
    StepCommand(
        "Dispose",
        "approval",
        "dispose",
        "Disposisi kepada Kabid TI",
        lambda f, c: {
            "to_role": "KABID_TI",
            "instructions": chosen(f, "instructions"),
            "urgency": text(f, "urgency"),
            "classification": text(f, "classification"),
            "respond_by": text(f, "respond_by"),
            "note": text(f, "note"),
            "disposition_number": text(f, "disposition_number"),
        },
    ),
    StepCommand(
        "VerifyDocuments",
        "approval",
        "verify",
        "Nyatakan lengkap (Pemeriksaan Kelengkapan)",
        lambda f, c: {
            "acknowledged_missing": chosen(f, "acknowledged_missing"),
            "note": text(f, "note"),
        },
    ),
    StepCommand(
        "ReturnRequest",
        "approval",
        "return",
        "Kembalikan untuk Perbaikan",
        lambda f, c: {"reasons": lines(f, "reasons")},
    ),
    StepCommand(
        "ReviseRequest",
        "intake",
        "revise",
        "Perbaiki permohonan",
        lambda f, c: {
            "needs_analysis": needs_analysis(f),
            "business_process": business_process(f),
            "note": text(f, "note"),
        },
    ),
    StepCommand(
        "RecordMeeting",
        "approval",
        "meeting",
        "Catat rapat (draft Berita Acara)",
        lambda f, c: {
            "held_at": _held_at(f, c),
            "participants": [
                _participant(c.users[u]) for u in chosen(f, "participants") if u in c.users
            ]
            + [_guest(line) for line in lines(f, "guests")],
            "scope": text(f, "scope"),
            "timeline": {
                "planned_start": text(f, "timeline.planned_start"),
                "planned_end": text(f, "timeline.planned_end"),
            },
            "minutes_number": text(f, "minutes_number"),
            "notes": text(f, "notes"),
        },
    ),
    StepCommand(
        "SignMinutes",
        "approval",
        "sign-minutes",
        "Tanda tangani Berita Acara Rapat",
        lambda f, c: {
            "signatories": [
                _signatory(c.users[u]) for u in chosen(f, "signatories") if u in c.users
            ],
        },
    ),
    StepCommand(
        "AssignTeam",
        "approval",
        "assign",
        "Terbitkan Surat Tugas",
        lambda f, c: {
            "letter_number": text(f, "letter_number"),
            "team_members": chosen(f, "team_members"),
            "team_lead": text(f, "team_lead"),
            "period_start": text(f, "period_start"),
            "period_end": text(f, "period_end"),
        },
    ),
    StepCommand(
        "RejectRequest",
        "approval",
        "reject",
        "Tolak permohonan",
        lambda f, c: {"reason": text(f, "reason")},
        danger=True,
    ),
    StepCommand(
        "WithdrawRequest",
        "intake",
        "withdraw",
        "Tarik permohonan",
        lambda f, c: {"reason": text(f, "reason")},
        danger=True,
    ),
    StepCommand(
        "StartDevelopment",
        "dev_tracking",
        "start",
        "Mulai pengembangan",
        lambda f, c: {"started_on": text(f, "started_on")},
    ),
    StepCommand(
        "ReportProgress",
        "dev_tracking",
        "progress",
        "Laporkan kemajuan",
        lambda f, c: {"percent": text(f, "percent"), "note": text(f, "note")},
    ),
    StepCommand(
        "RecordProblem",
        "dev_tracking",
        "problems",
        "Catat masalah",
        lambda f, c: {"description": text(f, "description"), "severity": text(f, "severity")},
    ),
    StepCommand(
        "SolveProblem",
        "dev_tracking",
        "problems/{problem_id}/solve",
        "Catat solusi",
        lambda f, c: {"solution": text(f, "solution")},
    ),
    StepCommand(
        "RecordTestResult",
        "dev_tracking",
        "tests",
        "Catat hasil pengujian",
        lambda f, c: {
            "kind": c.action.get("test_kind"),
            "result": text(f, "result"),
            "minutes_number": text(f, "minutes_number"),
            "findings": lines(f, "findings"),
            "tested_on": text(f, "tested_on"),
        },
    ),
    StepCommand(
        "PublishManual",
        "dev_tracking",
        "manual",
        "Terbitkan Buku Manual",
        lambda f, c: {
            "title": text(f, "title"),
            "version": text(f, "version"),
            "document": c.uploaded,
        },
        upload="document",
    ),
    StepCommand(
        "RecordUat",
        "dev_tracking",
        "uat",
        "Catat hasil UAT",
        lambda f, c: {
            "result": text(f, "result"),
            "minutes_number": text(f, "minutes_number"),
            "findings": lines(f, "findings"),
            "notes": text(f, "notes"),
        },
    ),
)

BY_NAME = {command.name: command for command in COMMANDS}
