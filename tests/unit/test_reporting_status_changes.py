"""What reporting tells the e-office (``services.reporting.status_changes``): one numbered change
per move of a request's status, step or the role it waits on, chained without holes whatever
order the topics delivered the events in."""

import datetime as dt
import itertools
import random
import uuid

from bench.replay import EPOCH, sample_request
from events.envelope import Actor, Envelope, NewEvent
from events.intake import BusinessProcess, NeedsAnalysis, RequestLetter, RequestSubmitted
from events.reporting import CaseStatusChanged
from events.topics import Service
from infra.eventstore.contract import seal_all
from services.reporting.casefile import empty_case, fold
from services.reporting.casefile_model import CaseFile
from services.reporting.status_changes import (
    NOT_PROJECTED,
    changes_for,
    position_of,
    status_change,
)


def report(arrivals: list[Envelope], request_id: str) -> tuple[list[CaseStatusChanged], CaseFile]:
    """The changes the projection reports when ``arrivals`` come one by one, and the case."""
    return changes_for(arrivals, request_id), fold(arrivals, request_id)


def chained(changes: list[CaseStatusChanged], final: CaseFile) -> None:
    """1, 2, 3... each starting where the one before ended, the last where the case stands."""
    assert [c.sequence for c in changes] == list(range(1, len(changes) + 1))
    assert (changes[0].previous_status, changes[0].previous_step) == (None, None)
    for before, after in itertools.pairwise(changes):
        assert (after.previous_status, after.previous_step) == (before.status, before.step)
        assert (before.status, before.step, before.who_must_act) != (
            after.status,
            after.step,
            after.who_must_act,
        )
    last = changes[-1]
    assert (last.status, last.step.code, last.who_must_act) == position_of(final)


def flows(count: int, seed: int) -> list[tuple[str, list[tuple[Service, Envelope]]]]:
    rng = random.Random(seed)
    out = []
    for n in range(count):
        rid = str(uuid.uuid4())
        out.append((rid, sample_request(rid, rng, EPOCH + dt.timedelta(days=n), reports=2)))
    return out


def test_each_move_is_one_change_in_order_and_nothing_else_is() -> None:
    for rid, flow in flows(40, seed=5):
        arrivals = [e for _, e in flow]
        changes, case = report(arrivals, rid)
        chained(changes, case)
        moved = []
        previous = None
        for n in range(1, len(arrivals) + 1):
            now = position_of(fold(arrivals[:n], rid))
            if now != previous:
                moved.append(arrivals[n - 1].event_id)
            previous = now
        assert [c.cause_event_id for c in changes] == moved
        for change in changes:
            cause = next(e for e in arrivals if e.event_id == change.cause_event_id)
            assert (change.cause_event_type, change.cause_occurred_at) == (
                cause.event_type,
                cause.occurred_at,
            )
            assert change.cause_event_type not in ("ProgressReported", "SlaBreached")
            assert change.request_id == rid and change.opd == case.opd


def test_a_return_and_a_revision_and_the_documents_named() -> None:
    returned = next(
        (rid, flow)
        for rid, flow in flows(60, seed=9)
        if any(e.event_type == "RequestReturned" for _, e in flow)
    )
    rid, flow = returned
    changes, case = report([e for _, e in flow], rid)
    steps = [(c.cause_event_type, c.status, c.step.code, c.who_must_act) for c in changes]
    assert steps[:6] == [
        ("RequestSubmitted", "OPEN", "RECEIVE", "KADIS"),
        ("RequestReceived", "OPEN", "DISPOSE", "KADIS"),
        ("Disposed", "OPEN", "VERIFY", "KABID_TI"),
        ("RequestReturned", "RETURNED", "VERIFY", "PEMOHON"),
        ("RequestRevised", "OPEN", "VERIFY", "KABID_TI"),
        ("DocumentsVerified", "OPEN", "MEETING", "KABID_TI"),
    ]
    if case.status == "COMPLETED":
        assert steps[-1] == ("RequestCompleted", "COMPLETED", "DONE", None)
        assert changes[-1].step.number == 14 and changes[-1].step.label
    signed = next(c for c in changes if c.cause_event_type == "BAsigned")
    assert signed.document_numbers == (f"BA/{rid[:4]}",)
    assert (signed.previous_step and signed.previous_step.code, signed.step.code) == (
        "SIGN_MINUTES",
        "ASSIGN",
    )
    assert signed.step.number == 7 and signed.step.label.startswith("Menerbitkan")


def test_any_interleaving_of_the_topics_still_chains_and_ends_in_the_same_place() -> None:
    for rid, flow in flows(15, seed=13):
        in_order, final = report([e for _, e in flow], rid)
        lanes: dict[Service, list[Envelope]] = {}
        for service, envelope in flow:
            lanes.setdefault(service, []).append(envelope)
        rng = random.Random(rid)
        for _ in range(5):  # each lane keeps its order; the lanes interleave at random
            heads = {s: list(lane) for s, lane in lanes.items()}
            arrivals = []
            while heads:
                service = rng.choice(sorted(heads))
                arrivals.append(heads[service].pop(0))
                if not heads[service]:
                    del heads[service]
            changes, case = report(arrivals, rid)
            chained(changes, case)
            assert position_of(case) == position_of(final)
            assert len(changes) <= len(in_order) + len(lanes)


def test_a_redelivered_event_reports_nothing_more() -> None:
    rid, flow = flows(1, seed=2)[0]
    arrivals = [e for _, e in flow]
    once, _ = report(arrivals, rid)
    twice, _ = report([e for e in arrivals for _ in range(2)], rid)
    assert [c.model_dump() for c in twice] == [c.model_dump() for c in once]


def test_the_letter_of_a_request_from_the_e_office_is_named() -> None:
    rid = str(uuid.uuid4())
    submitted = RequestSubmitted(
        request_id=rid,
        opd="DINKES",
        title="SIMPUS",
        summary="Puskesmas.",
        letter=RequestLetter(number="440/012/DINKES/VI/2024", date=dt.date(2024, 6, 10)),
        needs_analysis=NeedsAnalysis(),
        business_process=BusinessProcess(),
        submitted_via="EOFFICE",
        eoffice_letter_id="SRK-2024-000123",
    )
    new = NewEvent.of(
        submitted,
        occurred_at=EPOCH,
        actor=Actor(user_id="eoffice", role="PEMOHON", opd="DINKES"),
        correlation_id=uuid.uuid4(),
    )
    [envelope] = seal_all(rid, 0, "0" * 64, [new])
    [change], _ = report([envelope], rid)
    assert change.eoffice_letter_id == "SRK-2024-000123"
    assert (change.sequence, change.status, change.step.code) == (1, "OPEN", "RECEIVE")
    assert change.document_numbers == ("440/012/DINKES/VI/2024",)
    assert CaseStatusChanged.model_validate(change.model_dump(mode="json")) == change
    assert status_change(None, empty_case(rid), envelope) is None  # nothing seen yet
    assert "CaseStatusChanged" in NOT_PROJECTED
