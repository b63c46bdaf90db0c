"""One event's effect on a case: ``update_for(case, service, envelope, event)``, the fields it
changes (``CaseDraft.change`` sets them).

Each event has two kinds of effect (``casefile_effect.Effect``). Its *record* (documents,
problems, team, progress) and its timeline line are kept whatever the state, because they are
facts the auditor must see. Its *move* applies only while the request is not closed: the first
ending (completion, rejection, withdrawal) stands, and an event of another service that crossed
it on the wire leaves status and step as they were. The step, the test due and whether the
request waits on the requester are moved by the SOP table (``events.sop.move``), as in every
service's fold; the effect adds only the status words of an ending.

Steps 1 to 7 (intake and approval) are here; steps 8 to 14 are in ``casefile_dev``.
"""

from events.approval import (
    BAsigned,
    Disposed,
    DocumentsVerified,
    MeetingHeld,
    RequestRejected,
    RequestReturned,
    TaskAssigned,
)
from events.base import DomainEvent
from events.envelope import Envelope
from events.intake import RequestReceived, RequestRevised, RequestSubmitted, RequestWithdrawn
from events.sop import Position, move
from events.topics import Service
from services.reporting.casefile_dev import dev_effect, sla_effect
from services.reporting.casefile_draft import CaseDraft, Update
from services.reporting.casefile_effect import (
    Effect,
    add_document,
    changes,
    numbers,
    one_line,
)
from services.reporting.casefile_model import ReturnEntry, Team, TimelineEntry


def _closing(case: CaseDraft, env: Envelope, status: str, reason: str) -> Effect:
    ending = changes(status=status, closed_at=env.occurred_at, closing_reason=reason)
    return Effect(case.step, f"Request {status.lower()}: {one_line(reason)}", (), {}, ending)


def _intake(case: CaseDraft, env: Envelope, event: DomainEvent) -> Effect | None:
    match event:
        case RequestSubmitted():
            letter = event.letter
            record = add_document(
                case,
                env,
                "REQUEST_LETTER",
                "SUBMIT",
                letter.number,
                "Surat Permohonan",
                dated=letter.date,
            )
            record |= changes(
                opd=event.opd,
                title=event.title,
                summary=event.summary,
                submitted_at=env.occurred_at,
            )
            what = f"Request submitted via {event.submitted_via}: {event.title}"
            return Effect("SUBMIT", what, (letter.number,), record)
        case RequestReceived():
            what = f"Request received for the Head of Department by {event.received_by}"
            return Effect("RECEIVE", what, numbers(event.agenda_number))
        case RequestRevised():
            revised = changes(revisions=case.revisions + 1)
            if event.letter is not None:
                revised |= add_document(
                    case,
                    env,
                    "REQUEST_LETTER",
                    "SUBMIT",
                    event.letter.number,
                    "Surat Permohonan",
                    dated=event.letter.date,
                )
            for name in ("title", "summary"):
                if getattr(event, name) is not None:
                    revised[name] = getattr(event, name)
            what = f"Request revised: {one_line(event.note)}"
            letter_number = numbers(event.letter.number if event.letter else None)
            return Effect("VERIFY", what, letter_number, revised)
        case RequestWithdrawn():
            return _closing(case, env, "WITHDRAWN", event.reason)
    return None


def _assigned(case: CaseDraft, env: Envelope, event: TaskAssigned) -> Effect:
    team = Team(
        letter_number=event.letter_number,
        members=event.team_members,
        lead=event.team_lead,
        period_start=event.period_start,
        period_end=event.period_end,
        assigned_at=env.occurred_at,
    )
    record = add_document(
        case, env, "ASSIGNMENT_LETTER", "ASSIGN", event.letter_number, dated=event.period_start
    )
    record |= changes(team=team, opd=case.opd or event.opd)
    what = f"Assignment letter (Surat Tugas) to {len(event.team_members)} members, "
    what += f"lead {event.team_lead}"
    return Effect("ASSIGN", what, numbers(event.letter_number), record)


def _approval(case: CaseDraft, env: Envelope, event: DomainEvent) -> Effect | None:
    match event:
        case Disposed():
            number = event.disposition_number
            record = add_document(case, env, "DISPOSITION", "DISPOSE", number)
            said = "; ".join((*event.instructions, *([one_line(event.note)] if event.note else [])))
            what = f"Dispositioned to {event.to_role}: {said}"
            return Effect("DISPOSE", what, numbers(number), record)
        case DocumentsVerified():
            what = "Documents verified"
            if event.missing_sections:
                what += f"; accepted as missing: {', '.join(event.missing_sections)}"
            return Effect("VERIFY", what)
        case RequestReturned():
            back = ReturnEntry(
                returned_at=env.occurred_at,
                returned_by=env.actor,
                reasons=event.reasons,
                missing_sections=event.missing_sections,
            )
            what = f"Returned to the requester: {one_line('; '.join(event.reasons))}"
            return Effect("VERIFY", what, (), changes(returns=(*case.returns, back)))
        case MeetingHeld():
            record = add_document(
                case,
                env,
                "DRAFT_MINUTES",
                "MEETING",
                event.minutes_number,
                dated=event.held_at.date(),
            )
            what = f"Meeting held with {len(event.participants)} participants; draft minutes"
            return Effect("MEETING", what, numbers(event.minutes_number), record)
        case BAsigned():
            record = add_document(
                case,
                env,
                "MINUTES",
                "SIGN_MINUTES",
                event.minutes_number,
                signatories=event.signatories,
            )
            what = (
                f"Minutes (Berita Acara) signed by {', '.join(s.name for s in event.signatories)}"
            )
            return Effect("SIGN_MINUTES", what, numbers(event.minutes_number), record)
        case TaskAssigned():
            return _assigned(case, env, event)
        case RequestRejected():
            return _closing(case, env, "REJECTED", event.reason)
    return None


def _effect(case: CaseDraft, service: Service, env: Envelope, event: DomainEvent) -> Effect | None:
    match service:
        case "intake":
            return _intake(case, env, event)
        case "approval":
            return _approval(case, env, event)
        case "dev_tracking":
            return dev_effect(case, env, event)
        case "reporting":
            return sla_effect(event)
    return None


def _moved(case: CaseDraft, event: DomainEvent) -> Update:
    """The step, the test due and the status RETURNED / OPEN after ``event`` (``events.sop``)."""
    at = Position(
        step=case.step,
        next_test=case.next_test,
        manual_published=case.manual_published,
        returned=case.status == "RETURNED",
    )
    after = move(at, event)
    if after is at or after == at:
        return {}
    moved = changes(step=after.step, next_test=after.next_test)
    if after.returned != at.returned:
        moved["status"] = "RETURNED" if after.returned else "OPEN"
    return moved


def update_for(
    case: CaseDraft, service: Service, env: Envelope, event: DomainEvent, *, timeline: bool = True
) -> Update:
    """The fields of ``case`` that ``event`` (carried by ``env``, emitted by ``service``)
    changes, with their new values; empty for an event the case does not follow. Pure.

    ``history`` and ``updated_at`` are the caller's to keep. Without ``timeline`` the event's
    timeline line is left out (for a fold whose timeline nobody reads: the stored case file
    holds none).
    """
    effect = _effect(case, service, env, event)
    if effect is None:
        return {}
    update = dict(effect.record)
    if not case.is_closed:
        if case.status == "ABSENT":
            update["status"] = "OPEN"
        update |= effect.move
        update |= _moved(case, event)
    if timeline:
        entry = TimelineEntry(
            at=env.occurred_at,
            actor=env.actor,
            event_type=env.event_type,
            service=service,
            step=effect.step,
            what=effect.what,
            document_numbers=effect.numbers,
            event_id=env.event_id,
            stream_version=env.stream_version,
        )
        update["timeline"] = (*case.timeline, entry)
    return update
