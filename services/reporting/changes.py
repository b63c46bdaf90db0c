"""One request's new envelopes, taken one at a time: the case before and after each. Pure.

The projection handles what one fetch brought as a batch: each request's stored envelopes are
folded once, then its new ones are applied one at a time (``casefile.apply``), so each new
envelope has its ``Change``: the case before it (None if it is the request's first) and after.
What is owed per event (notices, and anything else that follows a change of the case) is
worked out from the changes; the read models are written once, from the last ``after``, which
is ``casefile.fold`` of everything stored and new.

The new envelopes of one batch are taken in canonical order (``casefile.canonical_order``):
that never reorders one topic's events (a lane keeps its stream order), and it steps through
events that came together from two topics in the order they happened, as the audit replay does.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from events.envelope import Envelope
from services.reporting.casefile import (
    CaseFile,
    ConflictingEvent,
    apply,
    canonical_order,
    empty_case,
    fold,
)


@dataclass(frozen=True)
class Change:
    """What one new envelope did to its case."""

    envelope: Envelope
    before: CaseFile | None
    """The case before it; None if no envelope of the request was seen before."""
    after: CaseFile


def unseen(stored: Sequence[Envelope], arrived: Iterable[Envelope]) -> list[Envelope]:
    """``arrived`` without those already ``stored`` (a delivery of an envelope kept before
    changes nothing); raises ``ConflictingEvent`` for a kept event id with other content."""
    kept = {e.event_id: e for e in stored}
    new: list[Envelope] = []
    for envelope in arrived:
        known = kept.get(envelope.event_id)
        if known is None:
            new.append(envelope)
            kept[envelope.event_id] = envelope
        elif known != envelope:
            raise ConflictingEvent(f"event {envelope.event_id} delivered with other content")
    return new


def step_through(
    request_id: str, stored: Sequence[Envelope], new: Sequence[Envelope]
) -> list[Change]:
    """The change of each of ``new`` (not yet stored), taken after ``stored`` one at a time in
    canonical order; the last ``after`` equals ``fold([*stored, *new])``. Raises as ``apply``
    does (an envelope of another request, two events in one place of a stream)."""
    case = fold(stored, request_id) if stored else None
    changes: list[Change] = []
    for envelope in canonical_order(new):
        after = apply(case if case is not None else empty_case(request_id), envelope)
        changes.append(Change(envelope, case, after))
        case = after
    return changes
