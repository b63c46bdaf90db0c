"""What one event does to a case, as data (``Effect``), and the helpers that build it."""

from collections.abc import Mapping
from typing import Any, NamedTuple

from events.envelope import Envelope
from events.steps import StepCode, step
from services.reporting.casefile_draft import CaseDraft, Update
from services.reporting.casefile_model import Document, DocumentKind

_NONE: Mapping[str, Any] = {}


class Effect(NamedTuple):
    """One event's effect: the timeline line, the facts it records and how it moves the case.

    ``record`` (documents, problems, team, progress) is always kept; ``move`` (an ending's
    status) only while the case is not closed. The step itself is the SOP table's
    (``events.sop``), moved by ``casefile_steps.update_for``.
    """

    step: StepCode
    what: str
    numbers: tuple[str, ...] = ()
    record: Mapping[str, Any] = _NONE
    move: Mapping[str, Any] = _NONE


def changes(**fields: Any) -> Update:
    """``fields`` as an ``Update`` (a plain dict typed loosely, for ``CaseDraft.change``)."""
    return fields


def one_line(text: str, limit: int = 160) -> str:
    """``text`` on one line, shortened to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def add_document(
    case: CaseDraft,
    env: Envelope,
    kind: DocumentKind,
    at_step: StepCode,
    number: str | None,
    label: str | None = None,
    **extra: Any,
) -> Update:
    """The change that appends a document produced by ``env`` at ``at_step``."""
    document = Document(
        kind=kind,
        label=label or step(at_step).output_document,
        number=number,
        step=at_step,
        produced_at=env.occurred_at,
        by=env.actor,
        event_id=env.event_id,
        **extra,
    )
    return {"documents": (*case.documents, document)}


def numbers(*given: str | None) -> tuple[str, ...]:
    """The document numbers that are set."""
    return tuple(n for n in given if n is not None)
