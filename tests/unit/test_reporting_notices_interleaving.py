"""Reporting's notices do not depend on the order its topics arrive in (pure).

Two requests' SOP flows are written to their services' topics; reporting reads the topics in any
interleaving that keeps each topic's order, projecting as the live service does (the notices of
the set each request holds that were not stored before). Whatever the interleaving, it stores
exactly the notices of the whole set, with the same text, which are those the audit replay makes;
along the way it never stores one the whole set would not make, and a request that waits on
someone has told them once what has arrived shows nothing missing.
"""

import datetime as dt
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.envelope import Envelope
from events.topics import Service
from services.reporting.casefile import CaseFile, apply, empty_case, fold_all
from services.reporting.notices_history import notices_of, step_notices, steps_of
from services.reporting.notifications import Notice, waiting_point
from tests.unit.test_reporting_casefile import REQ, _flow, _seal

OTHER = "0190f1c2-7a3b-7c4d-8e5f-00000000beef"
NOW = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)


def _topics() -> dict[Service, list[Envelope]]:
    """Each service's topic: both requests' events, in the order the service wrote them. The
    second request, five minutes behind the first, stops at its UAT (still open)."""
    shifted = [(s, m + 5, a, e.model_copy(update={"request_id": OTHER})) for s, m, a, e in _flow()]
    lanes = [_seal(_flow()), _seal(shifted[:-3], OTHER)]
    topics: dict[Service, list[Envelope]] = {}
    for lane in lanes:
        for service, envelopes in lane.items():
            topics.setdefault(service, []).extend(envelopes)
    return {s: sorted(t, key=lambda e: e.occurred_at) for s, t in topics.items()}


TOPICS = _topics()
EVERY = [e for topic in TOPICS.values() for e in topic]
REPLAYED = {n.notice_id: n for case in fold_all(EVERY).values() for n in notices_of(case, NOW)}
"""The notices of the whole set, as the audit replay makes them."""


def _interleave(order: list[Service]) -> list[Envelope]:
    """The k-th ``s`` in ``order`` delivers topic ``s``'s k-th record."""
    cursors = dict.fromkeys(TOPICS, 0)
    delivered = []
    for service in order:
        delivered.append(TOPICS[service][cursors[service]])
        cursors[service] += 1
    return delivered


def _settled(case: CaseFile) -> bool:
    return step_notices(case.request_id, steps_of(case), NOW).gap is None


def _text(notice: Notice) -> tuple[object, ...]:
    return notice._replace(created_at=NOW)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.permutations([s for s, topic in TOPICS.items() for _ in topic]))
def test_every_interleaving_stores_the_notices_of_the_whole_set(order: list[Service]) -> None:
    cases = {rid: empty_case(rid) for rid in (REQ, OTHER)}
    stored: dict[UUID, Notice] = {}
    for envelope in _interleave(order):
        rid = envelope.stream_id
        case = cases[rid] = apply(cases[rid], envelope)
        for notice in notices_of(case, NOW):
            stored.setdefault(notice.notice_id, notice)
        # never a notice the whole set would not make, nor one with another text
        assert all(_text(n) == _text(REPLAYED[i]) for i, n in stored.items())
        point = waiting_point(case)
        if point is not None and _settled(case):  # whoever it waits on has been told
            assert any(
                (n.request_id, n.addressee.role, n.step) == (rid, point[0], case.step)
                for n in stored.values()
                if n.kind == "ACTION"
            ), (rid, point)
    assert stored.keys() == REPLAYED.keys()
    assert [_text(stored[i]) for i in REPLAYED] == [_text(n) for n in REPLAYED.values()]


def test_the_whole_set_tells_every_step_of_both_requests() -> None:
    """What the property compares against is not empty: both requests' whole flows told."""
    by_request = {
        rid: [n for n in REPLAYED.values() if n.request_id == rid] for rid in (REQ, OTHER)
    }
    assert len(by_request[REQ]) > len(by_request[OTHER]) > 15
    assert {n.kind for n in by_request[REQ]} == {"ACTION", "SLA_BREACH"}
    assert all('"SI Puskesmas v2"' in n.message for n in by_request[REQ][5:])
