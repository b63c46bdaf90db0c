"""The case read model: one request across every service's topic, as a pure fold over envelopes.

Reporting consumes intake's, approval's and dev_tracking's topics (and its own SlaBreached). Each
topic keeps its own order, but one request's events from two topics can arrive in any order
relative to each other. So the case is never built in arrival order. It is a function of the
*set* of envelopes seen:

1. **Dedupe** by ``event_id``: a redelivered envelope changes nothing. Two different events in
   the same place of one service's stream (same service, same ``stream_version``) are a
   corrupt history and raise ``ConflictingEvent``.
2. **Canonical order**: each service's events form a lane in ``stream_version`` order (the order
   the service wrote them); the lanes are merged by always taking the lane head with the
   smallest ``(occurred_at, service rank in SOP order, stream_version)``. The merge never
   reorders a lane, and depends only on the set, not on when each envelope arrived.
3. **Derive**: from ``empty_case``, a ``CaseDraft`` is changed by ``casefile_steps.update_for``
   of each envelope in the canonical order, and frozen into the ``CaseFile`` once at the end.

``apply`` keeps the envelopes in ``CaseFile.history`` (in canonical order). When a new envelope
sorts after everything seen (the usual case), the case is stepped once; when it lands earlier
(it arrived late from a slower topic) the case is derived again from its history. Either way
the result is ``derive(canonical(set))``, so every interleaving gives the same ``CaseFile``.

Public API: ``empty_case``, ``apply``, ``fold``, ``fold_all``, ``case_as_of``, ``case_row``,
``canonical_order``; the models are in ``casefile_model``.
"""

import datetime as dt
import heapq
from collections.abc import Iterable, Sequence
from operator import itemgetter
from uuid import UUID

from events.catalog import default_registry, service_of
from events.envelope import Envelope
from events.topics import Service
from services.reporting.casefile_draft import CaseDraft
from services.reporting.casefile_model import (
    CLOSED_STATUSES,
    CaseFile,
    CaseRow,
    CaseStatus,
    Document,
    DocumentKind,
    ProblemEntry,
    ReturnEntry,
    Team,
    TimelineEntry,
)
from services.reporting.casefile_steps import update_for

__all__ = [
    "CLOSED_STATUSES",
    "CaseFile",
    "CaseRow",
    "CaseStatus",
    "ConflictingEvent",
    "Document",
    "DocumentKind",
    "ProblemEntry",
    "ReturnEntry",
    "Team",
    "TimelineEntry",
    "WrongRequest",
    "apply",
    "canonical_order",
    "case_as_of",
    "case_row",
    "empty_case",
    "fold",
    "fold_all",
]

SERVICE_RANK: dict[Service, int] = {"intake": 0, "approval": 1, "dev_tracking": 2, "reporting": 3}
"""The services a case is built from, in SOP order: the tie-break between equal timestamps."""

_REGISTRY = default_registry()

SortKey = tuple[dt.datetime, int, int]


class ConflictingEvent(ValueError):
    """Two different events claim one place in a service's stream, or one event id."""


class WrongRequest(ValueError):
    """An envelope of another request was applied to a case."""


def _service(envelope: Envelope) -> Service | None:
    """The emitting service if a case follows it; None for identity's events.

    An event type no catalogue knows raises ``events.registry.UnknownEventType``.
    """
    service = service_of(envelope.event_type)
    return service if service in SERVICE_RANK else None


def _key(service: Service, envelope: Envelope) -> SortKey:
    return (envelope.occurred_at, SERVICE_RANK[service], envelope.stream_version)


def canonical_order(envelopes: Iterable[Envelope]) -> tuple[Envelope, ...]:
    """The envelopes (already deduplicated, all followed by a case) in canonical order."""
    lanes: dict[Service, list[tuple[SortKey, Envelope]]] = {}
    for envelope in envelopes:
        service = _service(envelope)
        if service is not None:
            lanes.setdefault(service, []).append((_key(service, envelope), envelope))
    ordered_lanes = []
    for service in sorted(lanes, key=SERVICE_RANK.__getitem__):
        lane = lanes[service]
        lane.sort(key=_stream_version)
        ordered_lanes.append(lane)
    return tuple(e for _, e in heapq.merge(*ordered_lanes, key=itemgetter(0)))


def _stream_version(keyed: tuple[SortKey, Envelope]) -> int:
    return keyed[0][2]


def empty_case(request_id: str) -> CaseFile:
    """The case of a request no event has been seen of."""
    return CaseFile(request_id=request_id)


def _step(draft: CaseDraft, service: Service, envelope: Envelope) -> None:
    event = _REGISTRY.load(envelope.event_type, envelope.schema_version, envelope.payload)
    draft.change(update_for(draft, service, envelope, event))


def _derive(request_id: str, history: tuple[Envelope, ...]) -> CaseFile:
    draft = CaseDraft.of(empty_case(request_id))
    for envelope in history:
        service = _service(envelope)
        assert service is not None  # canonical_order keeps only followed services
        _step(draft, service, envelope)
    updated = max((e.occurred_at for e in history), default=None)
    return draft.freeze(history=history, updated_at=updated)


def _check_request(request_id: str, envelope: Envelope) -> None:
    if envelope.stream_id != request_id:
        raise WrongRequest(
            f"{envelope.event_type} {envelope.event_id} of stream {envelope.stream_id} "
            f"applied to the case of request {request_id}"
        )


def _is_new(seen: Envelope, service: Service, envelope: Envelope) -> bool:
    """False if ``envelope`` is a redelivery of ``seen``; raise if the two conflict."""
    if seen.event_id == envelope.event_id:
        if seen != envelope:
            raise ConflictingEvent(f"event {envelope.event_id} delivered with other content")
        return False
    if seen.stream_version == envelope.stream_version and _service(seen) == service:
        raise ConflictingEvent(
            f"{service} stream {envelope.stream_id} version {envelope.stream_version} holds "
            f"both {seen.event_id} and {envelope.event_id}"
        )
    return True


def apply(case: CaseFile, envelope: Envelope) -> CaseFile:
    """The case after ``envelope``, whatever order the topics delivered it in. Idempotent.

    Events of services a case does not follow (identity) leave it unchanged; an envelope of
    another request raises ``WrongRequest``.
    """
    service = _service(envelope)
    if service is None:
        return case
    _check_request(case.request_id, envelope)
    if not all(_is_new(seen, service, envelope) for seen in case.history):
        return case
    key = _key(service, envelope)
    latest = max((_key(s, e) for e in case.history if (s := _service(e))), default=None)
    if latest is None or key > latest:
        # Sorts after everything seen: the canonical order is the old one plus this envelope.
        draft = CaseDraft.of(case)
        _step(draft, service, envelope)
        return draft.freeze(history=(*case.history, envelope), updated_at=envelope.occurred_at)
    return _derive(case.request_id, canonical_order((*case.history, envelope)))


def _request_id(envelopes: Sequence[Envelope]) -> str:
    for envelope in envelopes:
        if _service(envelope) is not None:
            return envelope.stream_id
    raise ValueError("no envelope names the request: pass request_id")


def fold(envelopes: Iterable[Envelope], request_id: str | None = None) -> CaseFile:
    """The case of one request from its envelopes, in any order, duplicates allowed.

    Equal to applying them one by one to ``empty_case``, but derives once. Without
    ``request_id`` the request is that of the first envelope a case follows.
    """
    given = list(envelopes)
    rid = _request_id(given) if request_id is None else request_id
    kept: dict[UUID, Envelope] = {}
    slots: dict[tuple[Service, int], Envelope] = {}
    for envelope in given:
        service = _service(envelope)
        if service is None:
            continue
        _check_request(rid, envelope)
        seen = kept.get(envelope.event_id) or slots.get((service, envelope.stream_version))
        if seen is not None and not _is_new(seen, service, envelope):
            continue
        kept[envelope.event_id] = envelope
        slots[(service, envelope.stream_version)] = envelope
    return _derive(rid, canonical_order(kept.values()))


def fold_all(envelopes: Iterable[Envelope]) -> dict[str, CaseFile]:
    """Every request's case from a mixed feed (e.g. a replay of all topics), by request id."""
    by_request: dict[str, list[Envelope]] = {}
    for envelope in envelopes:
        if _service(envelope) is not None:
            by_request.setdefault(envelope.stream_id, []).append(envelope)
    return {rid: fold(envs, rid) for rid, envs in by_request.items()}


def case_as_of(
    envelopes: Iterable[Envelope], instant: dt.datetime, request_id: str | None = None
) -> CaseFile:
    """The case as it stood at ``instant`` (timezone-aware): only events that occurred by then.

    ``case_as_of(case.history, instant)`` rewinds a case already built.
    """
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("instant must be timezone-aware")
    given = list(envelopes)
    rid = _request_id(given) if request_id is None else request_id
    return fold((e for e in given if e.occurred_at <= instant), rid)


def case_row(case: CaseFile) -> CaseRow:
    """The case's row in the case list."""
    return CaseRow(
        request_id=case.request_id,
        status=case.status,
        opd=case.opd,
        title=case.title,
        current_step=case.step,
        step_number=case.step_number,
        step_label=case.step_label,
        responsible_role=case.who_must_act,
        progress_percent=case.progress_percent,
        updated_at=case.updated_at,
    )
