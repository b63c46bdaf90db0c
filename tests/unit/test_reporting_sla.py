"""The working-time SLA of one request, worked out by hand.

Katingan's calendar: office 07:30-15:30 WIB (480 minutes), Monday to Friday; in August-September
2026 the days off are Mon 17 Aug (Independence Day) and Tue 25 Aug (the Prophet's Birthday).
One request goes through the whole SOP (``JOURNEY``), with every loop: returned documents, a
failed system test, a rejected UAT and a twice-failed integration re-run. Each expected figure is
derived in the comments next to it.
"""

import datetime as dt
import random
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.approval import (
    BAsigned,
    Disposed,
    DocumentsVerified,
    MeetingHeld,
    Participant,
    RequestReturned,
    Signatory,
    TaskAssigned,
    Timeline,
)
from events.catalog import default_registry
from events.dev_tracking import (
    DevelopmentStarted,
    ManualPublished,
    RequestCompleted,
    TestFailed,
    TestKind,
    TestPassed,
    UATAccepted,
    UATRejected,
)
from events.envelope import Actor, Envelope
from events.intake import (
    Attachment,
    BusinessProcess,
    NeedsAnalysis,
    RequestLetter,
    RequestReceived,
    RequestRevised,
    RequestSubmitted,
    RequestWithdrawn,
)
from services.reporting.calendar import DEFAULT_CALENDAR
from services.reporting.calendar_fast import FastCalendar
from services.reporting.sla import (
    RequestSla,
    SlaRow,
    TimedEvent,
    breach_event,
    breaches,
    next_due,
    request_sla,
    sla_rows,
    timed_events,
)
from services.reporting.sla_report import by_opd, by_step, lead_time_stats, percentile
from services.reporting.sla_steps import trail

WIB = ZoneInfo("Asia/Jakarta")
REQ = "req-1"
REQ_UUID = UUID(int=1)
OPD = "DINKES"


def at(mo: int, d: int, h: int, mi: int = 0) -> dt.datetime:
    return dt.datetime(2026, mo, d, h, mi, tzinfo=WIB)


def submitted(request_id: str = REQ, opd: str = OPD) -> RequestSubmitted:
    return RequestSubmitted(
        request_id=request_id,
        opd=opd,
        title="Sistem Informasi Puskesmas",
        summary="Pendaftaran pasien puskesmas.",
        letter=RequestLetter(number="440/12/DINKES/VIII/2026", date=dt.date(2026, 8, 3)),
        needs_analysis=NeedsAnalysis(),
        business_process=BusinessProcess(),
        submitted_via="WEB",
    )


def ran(kind: TestKind, passed: bool, n: int) -> TestPassed | TestFailed:
    number = f"BA-{kind}-{n}"
    if passed:
        return TestPassed(request_id=REQ, kind=kind, minutes_number=number, tested_on=SEP7)
    return TestFailed(
        request_id=REQ, kind=kind, minutes_number=number, findings=("gagal",), tested_on=SEP7
    )


SEP7 = dt.date(2026, 9, 7)
MANUAL_FILE = Attachment(
    sha256="a" * 64, size_bytes=10, media_type="application/pdf", filename="manual.pdf"
)

JOURNEY: list[TimedEvent] = [
    (at(8, 3, 8, 0), submitted()),  # Monday 3 Aug
    (at(8, 3, 8, 3), RequestReceived(request_id=REQ, received_by="kadis-tu")),
    (at(8, 3, 8, 20), Disposed(request_id=REQ, to_role="KABID_TI", note="Tindak lanjuti.")),
    (at(8, 3, 8, 30), RequestReturned(request_id=REQ, reasons=("Proses bisnis belum ada",))),
    (at(8, 7, 14, 55), RequestRevised(request_id=REQ, note="Sudah dilengkapi.")),  # Friday
    (at(8, 7, 15, 0), DocumentsVerified(request_id=REQ)),
    (
        at(8, 10, 9, 45),  # Monday 10 Aug
        MeetingHeld(
            request_id=REQ,
            held_at=at(8, 10, 7, 45),
            participants=(Participant(name="Ani", position="Kabid TI", organisation="DKIS"),),
            scope="Pendaftaran pasien.",
            timeline=Timeline(
                planned_start=dt.date(2026, 8, 11), planned_end=dt.date(2026, 10, 13)
            ),
            minutes_number="BA-1",
        ),
    ),
    (
        at(8, 10, 9, 48),
        BAsigned(
            request_id=REQ,
            minutes_number="BA-1",
            signatories=(Signatory(user_id="kabid", name="Ani", role="KABID_TI"),),
        ),
    ),
    (
        at(8, 10, 11, 0),
        TaskAssigned(
            request_id=REQ,
            letter_number="ST-1",
            team_members=("dev-1",),
            team_lead="dev-1",
            opd=OPD,
            period_start=dt.date(2026, 8, 11),
            period_end=dt.date(2026, 10, 13),
        ),
    ),
    (at(8, 11, 8, 0), DevelopmentStarted(request_id=REQ, started_on=dt.date(2026, 8, 11))),
    (at(9, 7, 9, 0), ran("SYSTEM", False, 1)),  # Monday 7 Sep
    (at(9, 8, 8, 0), ran("SYSTEM", True, 2)),
    (at(9, 8, 9, 0), ran("UNIT", True, 3)),
    (at(9, 8, 10, 30), ran("INTEGRATION", True, 4)),
    (
        at(9, 9, 10, 0),  # Wednesday 9 Sep
        ManualPublished(request_id=REQ, title="Manual", document=MANUAL_FILE, version="1.0"),
    ),
    (at(9, 10, 9, 0), UATRejected(request_id=REQ, minutes_number="UAT-1", findings=("x",))),
    (at(9, 11, 14, 0), ran("INTEGRATION", False, 5)),  # Friday 11 Sep
    (at(9, 14, 8, 0), ran("INTEGRATION", False, 6)),  # Monday 14 Sep
    (at(9, 14, 9, 0), ran("INTEGRATION", True, 7)),
    (at(9, 14, 13, 0), UATAccepted(request_id=REQ, minutes_number="UAT-2", accepted_by="req")),
    (at(9, 14, 13, 0), RequestCompleted(request_id=REQ, completed_on=dt.date(2026, 9, 14))),
]
LATER = at(12, 1, 9, 0)


def sla(events: list[TimedEvent] = JOURNEY, now: dt.datetime = LATER) -> RequestSla:
    return request_sla(events, now=now)


def row(rows: tuple[SlaRow, ...], code: str, attempt: int = 1) -> SlaRow:
    (found,) = [r for r in rows if r.step == code and r.attempt == attempt]
    return found


def summary(r: SlaRow) -> tuple[object, ...]:
    return (r.started_at, r.due_at, r.finished_at, r.used_minutes, r.paused_minutes, r.status)


# --- the whole journey -----------------------------------------------------------------------


def test_one_row_per_visit_in_order() -> None:
    rows = sla().rows
    assert [(r.step, r.attempt) for r in rows] == [
        ("RECEIVE", 1),
        ("DISPOSE", 1),
        ("VERIFY", 1),
        ("MEETING", 1),
        ("SIGN_MINUTES", 1),
        ("ASSIGN", 1),
        ("DEVELOP", 1),
        ("SYSTEM_TEST", 1),
        ("UNIT_TEST", 1),
        ("INTEGRATION_TEST", 1),
        ("MANUAL", 1),
        ("UAT", 1),
        ("DEVELOP", 2),
        ("INTEGRATION_TEST", 2),
        ("UAT", 2),
    ]
    assert all(r.request_id == REQ and r.opd == OPD for r in rows)


def test_intake_and_approval_steps() -> None:
    rows = sla().rows
    # RECEIVE: Mon 08:00 + 5 = 08:05; received 08:03 -> 3 minutes, on time.
    assert summary(row(rows, "RECEIVE")) == (
        at(8, 3, 8, 0),
        at(8, 3, 8, 5),
        at(8, 3, 8, 3),
        3,
        0,
        "ON_TIME",
    )
    # DISPOSE: 08:03 + 5 = 08:08; disposed 08:20 -> 17 minutes, late.
    dispose = row(rows, "DISPOSE")
    assert summary(dispose) == (at(8, 3, 8, 3), at(8, 3, 8, 8), at(8, 3, 8, 20), 17, 0, "LATE")
    assert (dispose.responsible_role, dispose.supervisor_role) == ("KADIS", None)
    assert (dispose.step_number, dispose.label_en) == (3, dispose.label_en)
    # MEETING: Friday 15:00 + 180: Friday 30, Monday 07:30 + 150 = 10:00; held Monday 09:45:
    # 30 + 135 = 165 minutes, on time.
    assert summary(row(rows, "MEETING")) == (
        at(8, 7, 15, 0),
        at(8, 10, 10, 0),
        at(8, 10, 9, 45),
        165,
        0,
        "ON_TIME",
    )
    # SIGN_MINUTES: 09:45 + 5 = 09:50, signed 09:48 (3 min). ASSIGN: 09:48 + 30 = 10:18,
    # letter at 11:00 -> 72 minutes, late.
    assert summary(row(rows, "SIGN_MINUTES"))[1:] == (
        at(8, 10, 9, 50),
        at(8, 10, 9, 48),
        3,
        0,
        "ON_TIME",
    )
    assert summary(row(rows, "ASSIGN"))[1:] == (at(8, 10, 10, 18), at(8, 10, 11, 0), 72, 0, "LATE")


def test_the_wait_on_the_requester_is_paused_and_shown() -> None:
    verify = row(sla().rows, "VERIFY")
    # Running: Monday 08:20-08:30 (returned) = 10 minutes, then Friday 14:55-15:00 = 5: 15.
    # Paused: Monday 08:30-15:30 = 420; Tue, Wed, Thu 3 x 480 = 1440; Friday 07:30-14:55 = 445:
    # 2305 minutes. Due: 10 minutes used before the pause, 5 left from Friday 14:55 -> 15:00,
    # and verified at 15:00 exactly: on time (late means after the due instant).
    assert summary(verify) == (
        at(8, 3, 8, 20),
        at(8, 7, 15, 0),
        at(8, 7, 15, 0),
        15,
        2305,
        "ON_TIME",
    )
    (pause,) = verify.pauses
    assert (pause.started_at, pause.ended_at, pause.minutes) == (
        at(8, 3, 8, 30),
        at(8, 7, 14, 55),
        2305,
    )
    assert verify.ended_by == "DocumentsVerified"


def test_the_pause_as_it_was_seen_during_the_wait() -> None:
    # As of Wednesday 5 Aug 09:00: paused since Monday 08:30: 420 + 480 + (07:30-09:00) 90 = 990.
    now = at(8, 5, 9, 0)
    state = sla(now=now)
    verify = state.rows[-1]
    assert (verify.step, verify.status, verify.due_at, verify.finished_at) == (
        "VERIFY",
        "PAUSED",
        None,
        None,
    )
    assert (verify.used_minutes, verify.paused_minutes, verify.pauses[0].ended_at) == (
        10,
        990,
        None,
    )
    assert (state.outcome, state.current_step, state.waiting_minutes) == ("OPEN", "VERIFY", 990)
    assert breaches(state.rows, now) == []  # nothing is due while the clock stands still


def test_development_crosses_two_national_holidays() -> None:
    develop = row(sla().rows, "DEVELOP")
    # Due: 45 days = 21600 minutes from Monday 10 Aug 11:00. Monday 11:00-15:30 = 270, leaving
    # 21330 = 44 x 480 + 210. The 44 working days after Monday 10 Aug: Aug 11-14 (4), 18-21 (4;
    # 17 Aug Independence Day), 24, 26-28 (4; 25 Aug the Prophet's Birthday), 31 (1), Sep 1-4 (4),
    # 7-11, 14-18, 21-25 (15), 28-30 (3), Oct 1-2 (2), 5-9 (5), 12-13 (2) = 44, ending Tuesday
    # 13 Oct; then Wednesday 14 Oct 07:30 + 210 = 11:00.
    # Used until the first system test (Monday 7 Sep 09:00): 270 + 17 days (Aug 11 - Sep 4)
    # x 480 = 8160 + Monday 07:30-09:00 = 90: 8520. On time.
    assert summary(develop) == (
        at(8, 10, 11, 0),
        at(10, 14, 11, 0),
        at(9, 7, 9, 0),
        8520,
        0,
        "ON_TIME",
    )
    assert (develop.ended_by, develop.responsible_role, develop.supervisor_role) == (
        "TestFailed",
        "TIM_PENGEMBANG",
        "KABID_TI",
    )


def test_tests_manual_and_uat_with_their_loops() -> None:
    rows = sla().rows
    # The failed system test opens SYSTEM_TEST at Monday 7 Sep 09:00, due 11:00; it passes on
    # Tuesday 08:00: Monday 09:00-15:30 = 390 + Tuesday 30 = 420 minutes, late.
    system = row(rows, "SYSTEM_TEST")
    assert summary(system) == (at(9, 7, 9, 0), at(9, 7, 11, 0), at(9, 8, 8, 0), 420, 0, "LATE")
    assert system.failed_runs == 1
    # UNIT_TEST 08:00-09:00 (due 10:00); INTEGRATION_TEST 09:00-10:30 (due 11:00).
    assert summary(row(rows, "UNIT_TEST"))[1:] == (at(9, 8, 10), at(9, 8, 9), 60, 0, "ON_TIME")
    assert summary(row(rows, "INTEGRATION_TEST"))[3:] == (90, 0, "ON_TIME")
    # MANUAL: Tuesday 10:30 + 480 = Wednesday 10:30; published Wednesday 10:00:
    # 300 (Tue 10:30-15:30) + 150 (Wed 07:30-10:00) = 450, on time.
    assert summary(row(rows, "MANUAL"))[1:] == (at(9, 9, 10, 30), at(9, 9, 10), 450, 0, "ON_TIME")
    # UAT 1: Wednesday 10:00 + 480 = Thursday 10:00; rejected Thursday 09:00: 330 + 90 = 420.
    uat1 = row(rows, "UAT")
    assert summary(uat1)[1:] == (at(9, 10, 10), at(9, 10, 9), 420, 0, "ON_TIME")
    assert (uat1.ended_by, uat1.responsible_role) == ("UATRejected", "PEMOHON")
    # The team's fixes: DEVELOP 2 from Thursday 09:00 to Friday 14:00: 390 + 390 = 780.
    assert summary(row(rows, "DEVELOP", 2))[2:] == (at(9, 11, 14), 780, 0, "ON_TIME")
    # INTEGRATION_TEST 2 from Friday 14:00 (due: Friday 90 + Monday 30 = Monday 08:00), failed
    # twice, passed Monday 09:00: 90 + 90 = 180, late.
    integration2 = row(rows, "INTEGRATION_TEST", 2)
    assert summary(integration2) == (at(9, 11, 14), at(9, 14, 8), at(9, 14, 9), 180, 0, "LATE")
    assert integration2.failed_runs == 2
    # The manual exists, so straight to UAT 2: Monday 09:00-13:00 = 240 (due Tuesday 09:00).
    uat2 = row(rows, "UAT", 2)
    assert summary(uat2) == (at(9, 14, 9), at(9, 15, 9), at(9, 14, 13), 240, 0, "ON_TIME")
    assert uat2.ended_by == "UATAccepted"


def test_the_whole_request() -> None:
    state = sla()
    # Monday 3 Aug 08:00 -> Monday 14 Sep 13:00: Monday 450 + 27 working days (Aug 4 - Sep 11,
    # without 17 and 25 Aug) x 480 = 12960 + Monday 07:30-13:00 = 330: 13740 office minutes,
    # 2305 of them waiting on the requester.
    assert (state.outcome, state.current_step, state.ended_at) == (
        "COMPLETED",
        "DONE",
        at(9, 14, 13),
    )
    assert (state.lead_minutes, state.waiting_minutes, state.net_lead_minutes) == (
        13740,
        2305,
        11435,
    )
    assert breaches(state.rows, LATER) == []


def test_arrival_order_does_not_matter() -> None:
    expected = sla()
    for seed in range(20):
        shuffled = JOURNEY.copy()
        random.Random(seed).shuffle(shuffled)
        assert sla(shuffled) == expected


@settings(max_examples=100, deadline=None)
@given(st.permutations(JOURNEY))
def test_any_interleaving_gives_the_same_sla(events: list[TimedEvent]) -> None:
    assert sla(events) == sla()


def test_envelopes_are_loaded_through_the_registry() -> None:
    envelopes = [
        Envelope(
            event_type=event.event_type(),
            schema_version=type(event).schema_version,
            occurred_at=when,
            actor=Actor(user_id="u", role="SYSTEM"),
            correlation_id=REQ_UUID,
            payload=event.model_dump(mode="json"),
            stream_id=REQ,
            stream_version=n,
            prev_hash="0" * 64,
            hash="0" * 64,
        )
        for n, (when, event) in enumerate(JOURNEY, start=1)
    ]
    assert sla_rows(timed_events(envelopes, default_registry()), now=LATER) == sla().rows


# --- breaches --------------------------------------------------------------------------------


def test_a_breach_is_listed_once_the_due_has_passed() -> None:
    events = JOURNEY[:3]  # disposed Monday 08:20: VERIFY due 08:35
    running = sla(events, now=at(8, 3, 8, 30))
    assert running.rows[-1].status == "RUNNING" and breaches(running.rows, at(8, 3, 8, 30)) == []
    assert next_due(running.rows, at(8, 3, 8, 30)) == at(8, 3, 8, 35)
    assert breaches(running.rows, at(8, 3, 8, 35)) == []  # due, not yet past due
    late = sla(events, now=at(8, 3, 9, 0))
    (verify,) = breaches(late.rows, at(8, 3, 9, 0))
    assert (verify.step, verify.status, verify.used_minutes) == ("VERIFY", "RUNNING_LATE", 40)
    event = breach_event(verify, at(8, 3, 9, 0))
    assert (event.request_id, event.step, event.due_at, event.breached_at) == (
        REQ,
        "VERIFY",
        at(8, 3, 8, 35),
        at(8, 3, 9, 0),
    )
    assert (event.responsible_role, event.supervisor_role) == ("KABID_TI", "KADIS")


def test_a_step_late_before_the_return_stays_breached_during_the_pause() -> None:
    events = [*JOURNEY[:3], (at(8, 3, 9, 0), JOURNEY[3][1])]  # returned at 09:00, due was 08:35
    state = sla(events, now=at(8, 4, 9, 0))
    verify = state.rows[-1]
    assert (verify.due_at, verify.status, verify.used_minutes) == (
        at(8, 3, 8, 35),
        "RUNNING_LATE",
        40,
    )
    assert breaches(state.rows, at(8, 4, 9, 0)) == [verify]


def test_a_withdrawal_ends_the_open_step_and_the_first_ending_stands() -> None:
    withdrawn = RequestWithdrawn(request_id=REQ, reason="Tidak jadi.")
    # Withdrawn on Tuesday 4 Aug 10:00 while returned; a crossing DocumentsVerified is ignored.
    events = [
        *JOURNEY[:4],
        (at(8, 4, 10), withdrawn),
        (at(8, 4, 11), DocumentsVerified(request_id=REQ)),
    ]
    state = sla(events)
    verify = state.rows[-1]
    # Paused Monday 08:30-15:30 = 420 + Tuesday 07:30-10:00 = 150: 570.
    assert (verify.step, verify.finished_at, verify.ended_by, verify.status) == (
        "VERIFY",
        at(8, 4, 10),
        "RequestWithdrawn",
        "ON_TIME",
    )
    assert (verify.used_minutes, verify.paused_minutes, verify.due_at) == (10, 570, None)
    assert (state.outcome, state.current_step, len(state.rows)) == ("WITHDRAWN", "VERIFY", 3)
    # Lead time: Monday 08:00-15:30 = 450 + Tuesday 150 = 600, of which 570 waiting.
    assert (state.lead_minutes, state.net_lead_minutes) == (600, 30)


def test_other_requests_and_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="request"):
        sla([*JOURNEY[:2], (at(8, 3, 9), RequestReceived(request_id="other", received_by="x"))])
    with pytest.raises(ValueError, match="aware"):
        sla([(dt.datetime(2026, 8, 3, 8), submitted())])
    with pytest.raises(ValueError, match="aware"):
        request_sla(JOURNEY, now=dt.datetime(2026, 8, 3, 8))


def test_a_custom_calendar_moves_the_dues() -> None:
    # Monday 10 Aug made a day off: the meeting started Friday 15:00 is due Tuesday 10:00 and
    # held Monday 09:45 (outside office time, no minutes counted): Friday's 30 minutes only.
    cal = DEFAULT_CALENDAR.with_day_off(dt.date(2026, 8, 10))
    meeting = row(request_sla(JOURNEY, now=LATER, calendar=cal).rows, "MEETING")
    assert (meeting.due_at, meeting.used_minutes, meeting.status) == (at(8, 11, 10), 30, "ON_TIME")


def test_the_fast_calendar_gives_the_same_sla_at_every_instant() -> None:
    fast = FastCalendar.of(DEFAULT_CALENDAR)
    for now in sorted({when for when, _ in JOURNEY} | {at(8, 5, 9, 0), LATER}):
        slow = request_sla(JOURNEY, now=now)
        assert request_sla(JOURNEY, now=now, calendar=fast) == slow
        assert request_sla(JOURNEY, now=now, calendar=fast).model_dump_json() == (
            slow.model_dump_json()
        )


def test_the_trail_stops_at_until() -> None:
    upto = at(8, 7, 14, 55)  # the revision: the documents are not verified yet
    early = [(when, event) for when, event in JOURNEY if when <= upto]
    assert trail(JOURNEY, until=upto) == trail(early)
    assert trail(JOURNEY, until=upto).at == "VERIFY"


def test_attempts_count_the_visits_of_each_step() -> None:
    visits = trail(JOURNEY).visits
    earlier = [[w.code for w in visits[:n]].count(v.code) for n, v in enumerate(visits)]
    assert [v.attempt for v in visits] == [1 + count for count in earlier]
    assert [(v.code, v.attempt) for v in visits if v.attempt > 1] == [
        ("DEVELOP", 2),
        ("INTEGRATION_TEST", 2),
        ("UAT", 2),
    ]


# --- reports ---------------------------------------------------------------------------------


def test_percentiles_interpolate_between_ranks() -> None:
    # [10, 20, 30, 40]: the median's rank is 1.5 -> 25; p90's is 0.9 x 3 = 2.7 -> 30 + 0.7 x 10.
    assert percentile([40, 10, 30, 20], 50) == 25
    assert percentile([40, 10, 30, 20], 90) == pytest.approx(37)
    assert percentile([7], 90) == 7 and percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile([1], 101)


def test_by_step() -> None:
    stats = {s.key: s for s in by_step(sla().rows)}
    assert list(stats)[:3] == ["RECEIVE", "DISPOSE", "VERIFY"]
    # INTEGRATION_TEST: 90 (on time) and 180 (late): half on time; median 135;
    # p90 = 90 + 0.9 x 90 = 171.
    integration = stats["INTEGRATION_TEST"]
    assert (integration.finished, integration.on_time, integration.share_on_time) == (2, 1, 0.5)
    assert integration.median_minutes == 135
    assert integration.p90_minutes == pytest.approx(171)
    # UAT: 420 and 240, both on time: median 330, p90 = 240 + 0.9 x 180 = 402.
    uat = stats["UAT"]
    assert (uat.share_on_time, uat.median_minutes) == (1, 330)
    assert uat.p90_minutes == pytest.approx(402)
    # An open, late step is counted apart.
    open_rows = sla(JOURNEY[:3], now=at(8, 3, 9)).rows
    verify = {s.key: s for s in by_step(open_rows)}["VERIFY"]
    assert (verify.finished, verify.open, verify.open_late, verify.share_on_time) == (0, 1, 1, None)


def test_by_opd_and_the_whole_lead_time() -> None:
    journey = sla()
    other = request_sla(
        [(at(8, 3, 8, 0), submitted("req-2", "DISDIK"))], now=at(8, 3, 9, 0)
    )  # RECEIVE open since 08:00, due 08:05: late
    # Two more DINKES requests, completed in 1000 and 3000 minutes (figures made up here).
    quick = journey.model_copy(update={"request_id": "req-3", "lead_minutes": 1000})
    slow = journey.model_copy(update={"request_id": "req-4", "lead_minutes": 3000})
    stats = {s.key: s for s in by_opd([journey, other, quick, slow])}
    assert list(stats) == ["DINKES", "DISDIK"]
    dinkes = stats["DINKES"]
    # Lead times 1000, 3000, 13740: median 3000; p90 rank 1.8 -> 3000 + 0.8 x 10740 = 11592.
    assert (dinkes.measured, dinkes.median_minutes) == (3, 3000)
    assert dinkes.p90_minutes == pytest.approx(11592)
    # Each copy has the journey's 15 finished rows, 4 of them late (DISPOSE, ASSIGN,
    # SYSTEM_TEST, INTEGRATION_TEST 2): 11 / 15 on time.
    assert (dinkes.finished, dinkes.on_time) == (45, 33)
    disdik = stats["DISDIK"]
    assert (disdik.measured, disdik.median_minutes, disdik.open_late) == (0, None, 1)
    assert lead_time_stats([journey]).median_minutes == 13740
