"""The SOP table (``events.steps``) and its step machine (``events.sop``), rule by rule; the
walk through every reader is ``test_sop_readers``."""

import datetime as dt
from typing import get_args

import pytest

from events.approval import Disposed, RequestReturned, TaskAssigned
from events.catalog import ALL_EVENTS
from events.dev_tracking import ManualPublished, TestFailed, TestKind, TestPassed, UATRejected
from events.intake import RequestRevised
from events.sop import START, Position, move, next_test, trigger, waits_on
from events.steps import STEPS, TEST_ORDER, TEST_STEP, step

REQ = "0190f1c2-7a3b-7c4d-8e5f-0123456789ab"
EVENT_TYPES = {e.event_type() for e in ALL_EVENTS}


def result(kind: TestKind, passed: bool = True) -> TestPassed | TestFailed:
    cls = TestPassed if passed else TestFailed
    findings = () if passed else ("Tombol simpan gagal.",)
    return cls(request_id=REQ, kind=kind, findings=findings, tested_on=dt.date(2024, 3, 20))


def test_every_trigger_the_table_names_is_an_event_and_a_test_kind() -> None:
    for s in STEPS:
        for name in (*s.entered_by, *s.left_by, *s.paused_by, *s.resumed_by):
            event_type, _, kind = name.partition(":")
            assert event_type in EVENT_TYPES, (s.code, name)
            assert not kind or kind in get_args(TestKind), (s.code, name)


def test_the_test_order_is_the_order_of_the_test_steps() -> None:
    assert TEST_ORDER == ("SYSTEM", "UNIT", "INTEGRATION")
    assert TEST_STEP == {
        "SYSTEM": "SYSTEM_TEST",
        "UNIT": "UNIT_TEST",
        "INTEGRATION": "INTEGRATION_TEST",
    }
    assert [next_test(k) for k in TEST_ORDER] == ["UNIT", "INTEGRATION", None]


def test_an_event_of_another_service_never_moves_a_request_back() -> None:
    disposed = Disposed(request_id=REQ, to_role="KABID_TI")
    at_meeting = Position(step="MEETING")
    assert move(at_meeting, disposed) is at_meeting
    assert move(START, disposed).step == "VERIFY"


def test_the_assignment_opens_development_with_the_system_test_due_and_a_later_one_keeps_it() -> (
    None
):
    letter = TaskAssigned(
        request_id=REQ,
        letter_number="800/05",
        team_members=("dev-1",),
        team_lead="dev-1",
        opd="DINKES",
        period_start=dt.date(2024, 3, 1),
        period_end=dt.date(2024, 4, 30),
    )
    assert move(Position(step="ASSIGN"), letter) == Position(step="DEVELOP", next_test="SYSTEM")
    at_unit = Position(step="UNIT_TEST", next_test="UNIT")
    assert move(at_unit, letter) is at_unit


@pytest.mark.parametrize(
    ("manual", "after"), [(False, "MANUAL"), (True, "UAT")], ids=["no manual", "manual"]
)
def test_after_the_last_test_the_manual_unless_one_was_published(manual: bool, after: str) -> None:
    at = Position(step="INTEGRATION_TEST", next_test="INTEGRATION", manual_published=manual)
    assert move(at, result("INTEGRATION")) == Position(
        step=after, next_test=None, manual_published=manual
    )
    assert move(at, result("INTEGRATION", passed=False)) == at


def test_a_manual_moves_on_only_from_its_own_step() -> None:
    manual = ManualPublished(
        request_id=REQ,
        title="Manual",
        version="1.0",
        document={
            "sha256": "ab" * 32,
            "size_bytes": 10,
            "media_type": "application/pdf",
            "filename": "m.pdf",
        },
    )
    assert move(Position(step="MANUAL"), manual) == Position(step="UAT", manual_published=True)
    assert move(Position(step="UAT"), manual) == Position(step="UAT", manual_published=True)


def test_a_rejected_uat_goes_back_to_development_with_the_integration_test_due() -> None:
    rejected = UATRejected(request_id=REQ, findings=("Laporan salah.",))
    at = Position(step="UAT", manual_published=True)
    assert move(at, rejected) == Position(
        step="DEVELOP", next_test="INTEGRATION", manual_published=True
    )
    assert trigger(rejected) in step("UAT").left_by
    assert trigger(result("UNIT", passed=False)) == "TestFailed:UNIT"


def test_a_return_waits_on_the_requester_until_the_revision() -> None:
    returned = move(Position(step="VERIFY"), RequestReturned(request_id=REQ, reasons=("x",)))
    assert returned == Position(step="VERIFY", returned=True)
    assert waits_on(returned.step, returned=returned.returned) == "PEMOHON"
    revised = move(returned, RequestRevised(request_id=REQ, note="Sudah dilengkapi."))
    assert revised == Position(step="VERIFY")
    assert waits_on(revised.step) == "KABID_TI"


def test_at_uat_open_problems_keep_the_team_acting() -> None:
    assert waits_on("UAT") == "PEMOHON"
    assert waits_on("UAT", open_problems=True) == "TIM_PENGEMBANG"
    assert waits_on("DONE") is None
