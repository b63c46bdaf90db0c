"""How reporting shows a case: the detail, the audit timeline and the SLA, as JSON-ready dicts."""

import datetime as dt
from typing import Any

from events.envelope import Actor, OnBehalfOf
from events.steps import step
from services.reporting.casefile import CaseFile, TimelineEntry
from services.reporting.sla import RequestSla, SlaRow

KIND_LABEL = {"PLT": "Plt.", "PLH": "Plh."}


def delegation_label(on_behalf_of: OnBehalfOf | None) -> str | None:
    """``"Plt. KADIS"`` for an acting official, None for one acting in its own right."""
    if on_behalf_of is None:
        return None
    return f"{KIND_LABEL[on_behalf_of.kind]} {on_behalf_of.role}"


def actor_view(actor: Actor) -> dict[str, Any]:
    """Who acted, in which role, on whose behalf, with the label of the signature block."""
    label = delegation_label(actor.on_behalf_of)
    return {
        "user_id": actor.user_id,
        "role": actor.role,
        "opd": actor.opd,
        "on_behalf_of": actor.on_behalf_of.model_dump(mode="json") if actor.on_behalf_of else None,
        "acting_label": label,
        "display": (
            f"{actor.user_id} ({label}, a.n. {actor.on_behalf_of.user_id})"
            if actor.on_behalf_of and label
            else f"{actor.user_id} ({actor.role})"
        ),
    }


def timeline_view(entry: TimelineEntry) -> dict[str, Any]:
    return {
        "at": entry.at.isoformat(),
        "who": actor_view(entry.actor),
        "event_type": entry.event_type,
        "service": entry.service,
        "step": entry.step,
        "step_number": step(entry.step).number,
        "what": entry.what,
        "document_numbers": list(entry.document_numbers),
        "event_id": str(entry.event_id),
        "stream_version": entry.stream_version,
    }


def late_now(row: SlaRow, now: dt.datetime) -> SlaRow:
    """A stored row's status brought up to ``now``: an open row past due is RUNNING_LATE."""
    if row.finished_at is None and row.due_at is not None and now > row.due_at:
        return row.model_copy(update={"status": "RUNNING_LATE"})
    return row


def sla_view(sla: RequestSla) -> dict[str, Any]:
    return {
        "outcome": sla.outcome,
        "submitted_at": sla.submitted_at.isoformat() if sla.submitted_at else None,
        "ended_at": sla.ended_at.isoformat() if sla.ended_at else None,
        "lead_minutes": sla.lead_minutes,
        "waiting_minutes": sla.waiting_minutes,
        "net_lead_minutes": sla.net_lead_minutes,
        "overdue": any(r.status == "RUNNING_LATE" for r in sla.rows),
        "rows": [r.model_dump(mode="json") for r in sla.rows],
    }


def current_step_view(case: CaseFile) -> dict[str, Any]:
    here = step(case.step)
    return {
        "code": here.code,
        "number": here.number,
        "sop_number": here.sop_number,
        "label": here.label_id,
        "label_en": here.label_en,
        "standard_time": here.standard_time_label,
        "output_document": here.output_document,
        "supervisor_role": here.supervisor_role,
    }


def case_view(case: CaseFile, sla: RequestSla | None) -> dict[str, Any]:
    """The case detail: where it stands and who must act, documents, problems, progress, SLA."""
    body = case.model_dump(mode="json", exclude={"history", "timeline"})
    return {
        **body,
        "current_step": current_step_view(case),
        "who_must_act": case.who_must_act,
        "progress": {
            "sop_percent": case.sop_percent,
            "reported_percent": case.progress_percent,
            "note": case.progress_note,
            "reported_at": (
                case.progress_reported_at.isoformat() if case.progress_reported_at else None
            ),
            "development_started_on": (
                case.development_started_on.isoformat() if case.development_started_on else None
            ),
        },
        "open_problems": len(case.open_problems),
        "events": len(case.timeline),
        "sla": sla_view(sla) if sla is not None else None,
    }
