"""The working calendar: office hours 07:30-15:30 WIB, Monday to Friday, minus Indonesian
holidays and cuti bersama, with the admin's edits. Every expected instant is worked out by hand in
the comments (Katingan's calendar: 480 office minutes a day, from 07:30 to 15:30)."""

import datetime as dt
import random
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.workdays import add_working_days, indonesian_holiday_names, indonesian_holidays
from services.reporting.calendar import DEFAULT_CALENDAR, WorkingCalendar, minutes
from services.reporting.calendar_fast import FastCalendar

WIB = ZoneInfo("Asia/Jakarta")
CAL = DEFAULT_CALENDAR


def wib(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=WIB)


# --- days ------------------------------------------------------------------------------------


def test_default_days_off_are_the_indonesian_holidays_and_cuti_bersama() -> None:
    assert not CAL.is_working_day(dt.date(2026, 8, 17))  # Monday, Independence Day
    assert not CAL.is_working_day(dt.date(2026, 8, 25))  # Tuesday, the Prophet's Birthday
    assert not CAL.is_working_day(dt.date(2026, 2, 16))  # Monday, Lunar New Year cuti bersama
    assert not CAL.is_working_day(dt.date(2026, 12, 24))  # Thursday, Christmas cuti bersama
    assert "Joint Holiday" in indonesian_holiday_names(2026)[dt.date(2026, 12, 24)]
    assert not CAL.is_working_day(dt.date(2026, 8, 8))  # a Saturday
    assert not CAL.is_working_day(dt.date(2026, 8, 9))  # a Sunday
    assert CAL.is_working_day(dt.date(2026, 8, 18))  # an ordinary Tuesday
    assert dt.date(2026, 8, 17) in CAL.days_off(2026)
    assert indonesian_holidays(2026) == CAL.days_off(2026)


def test_working_days_after_a_day_skip_weekends_and_national_holidays() -> None:
    friday = dt.date(2026, 8, 14)
    assert add_working_days(friday, 0) == friday
    # Saturday, Sunday and Monday 17 August (Independence Day) are skipped.
    assert add_working_days(friday, 1) == dt.date(2026, 8, 18)
    assert add_working_days(friday, 3) == dt.date(2026, 8, 20)
    with pytest.raises(ValueError, match="negative"):
        add_working_days(friday, -1)


def test_admin_edits_add_and_remove_days() -> None:
    regional = dt.date(2026, 8, 10)  # an ordinary Monday made a regional day off
    cal = CAL.with_day_off(regional).with_working_day(dt.date(2026, 8, 17))
    assert not cal.is_working_day(regional)
    assert cal.is_working_day(dt.date(2026, 8, 17))
    assert regional in cal.days_off(2026) and dt.date(2026, 8, 17) not in cal.days_off(2026)
    # Undoing each edit restores the defaults (edits cancel rather than pile up).
    back = cal.with_working_day(regional).with_day_off(dt.date(2026, 8, 17))
    assert back == CAL
    # Removing a "holiday" that is a weekend does not make the office work on Saturday.
    assert not CAL.with_working_day(dt.date(2026, 8, 8)).is_working_day(dt.date(2026, 8, 8))


def test_invalid_calendars_are_refused() -> None:
    with pytest.raises(ValueError, match="both added and removed"):
        day = frozenset({dt.date(2026, 1, 2)})
        WorkingCalendar(added=day, removed=day)
    with pytest.raises(ValueError, match="midnight"):
        WorkingCalendar(opens_at=dt.time(20, 0), day_minutes=480)
    with pytest.raises(ValueError, match="working_weekdays"):
        WorkingCalendar(working_weekdays=frozenset())
    with pytest.raises(ZoneInfoNotFoundError):
        WorkingCalendar(time_zone="Nowhere/Atlantis")


# --- the hand-worked examples ----------------------------------------------------------------


def test_friday_afternoon_crosses_the_weekend() -> None:
    # Friday 7 Aug 2026, 15:00 WIB, a 3-hour step (the meeting, 180 minutes):
    # Friday 15:00-15:30 = 30 min; Sat, Sun off; Monday 10 Aug from 07:30, 150 min left
    # -> 07:30 + 2:30 = 10:00.
    start = wib(2026, 8, 7, 15, 0)
    assert CAL.add_working_minutes(start, 180) == wib(2026, 8, 10, 10, 0)
    assert CAL.working_minutes_between(start, wib(2026, 8, 10, 10, 0)) == 180
    # With an office day of 07:30-16:00 (510 minutes) Friday gives 60 minutes and Monday 120:
    # 07:30 + 2:00 = 09:30, hence "due Monday 09:30" holds only for a 16:00 closing.
    longer = WorkingCalendar(day_minutes=510)
    assert longer.add_working_minutes(start, 180) == wib(2026, 8, 10, 9, 30)


def test_a_national_holiday_is_skipped() -> None:
    # Friday 14 Aug 2026, 15:00, 180 minutes: Friday 30 min; Sat, Sun; Monday 17 Aug is
    # Independence Day; Tuesday 18 Aug 07:30 + 150 min = 10:00.
    start = wib(2026, 8, 14, 15, 0)
    assert CAL.add_working_minutes(start, 180) == wib(2026, 8, 18, 10, 0)
    # Over the whole span only 30 + 150 office minutes pass.
    assert CAL.working_minutes_between(start, wib(2026, 8, 18, 10, 0)) == 180


def test_cuti_bersama_days_are_skipped() -> None:
    # Friday 13 Feb 2026, 13:30, one working day (480 min): Friday 13:30-15:30 = 120;
    # Mon 16 Feb is Lunar New Year cuti bersama, Tue 17 Feb Lunar New Year;
    # Wednesday 18 Feb 07:30 + 360 min = 13:30.
    assert CAL.add_working_minutes(wib(2026, 2, 13, 13, 30), 480) == wib(2026, 2, 18, 13, 30)
    # Wednesday 23 Dec 2026, 14:30, 480 min: Wednesday 60; Thu 24 Dec (Christmas cuti
    # bersama), Fri 25 Dec (Christmas), Sat, Sun off; Monday 28 Dec 07:30 + 420 = 14:30.
    assert CAL.add_working_minutes(wib(2026, 12, 23, 14, 30), 480) == wib(2026, 12, 28, 14, 30)


def test_an_added_day_off_shifts_the_due_and_a_removed_holiday_brings_it_back() -> None:
    start = wib(2026, 8, 7, 15, 0)  # Friday; due Monday 10 Aug 10:00 by default (see above)
    # The admin makes Monday 10 Aug a day off: Friday 30 min, then Tuesday 11 Aug 07:30 + 150.
    off = CAL.with_day_off(dt.date(2026, 8, 10))
    assert off.add_working_minutes(start, 180) == wib(2026, 8, 11, 10, 0)
    # ... and takes it back: the due is Monday again.
    assert off.with_working_day(dt.date(2026, 8, 10)).add_working_minutes(start, 180) == wib(
        2026, 8, 10, 10, 0
    )
    # Removing Independence Day (Mon 17 Aug) brings the due of Friday 14 Aug 15:00 + 180
    # back from Tuesday 18 Aug 10:00 to Monday 17 Aug 10:00.
    worked = CAL.with_working_day(dt.date(2026, 8, 17))
    assert worked.add_working_minutes(wib(2026, 8, 14, 15, 0), 180) == wib(2026, 8, 17, 10, 0)


def test_a_start_outside_office_hours_begins_at_the_next_opening() -> None:
    # Monday 06:00 + 15 min: the office opens at 07:30 -> 07:45.
    assert CAL.add_working_minutes(wib(2026, 8, 3, 6, 0), 15) == wib(2026, 8, 3, 7, 45)
    # Tuesday 16:00 (after closing) + 5 min -> Wednesday 07:35.
    assert CAL.add_working_minutes(wib(2026, 8, 4, 16, 0), 5) == wib(2026, 8, 5, 7, 35)
    # Saturday 10:00 + 30 min -> Monday 08:00.
    assert CAL.add_working_minutes(wib(2026, 8, 8, 10, 0), 30) == wib(2026, 8, 10, 8, 0)
    # 15:30 is the closing instant, not office time: + 5 min -> next day 07:35.
    assert CAL.add_working_minutes(wib(2026, 8, 3, 15, 30), 5) == wib(2026, 8, 4, 7, 35)
    # Zero minutes: the start itself inside hours, the next opening outside them.
    assert CAL.add_working_minutes(wib(2026, 8, 3, 9, 0), 0) == wib(2026, 8, 3, 9, 0)
    assert CAL.next_office_instant(wib(2026, 8, 7, 18, 0)) == wib(2026, 8, 10, 7, 30)


def test_a_full_day_ends_at_closing_time_not_the_next_morning() -> None:
    # Monday 07:30 + 480 = Monday 15:30.
    assert CAL.add_working_minutes(wib(2026, 8, 3, 7, 30), 480) == wib(2026, 8, 3, 15, 30)


def test_working_minutes_count_only_office_time() -> None:
    # Friday 12:00 -> Friday 20:00: only 12:00-15:30 = 210 minutes.
    assert CAL.working_minutes_between(wib(2026, 8, 7, 12, 0), wib(2026, 8, 7, 20, 0)) == 210
    # Monday 3 Aug 07:30 -> Monday 10 Aug 07:30: five full days, 5 x 480 = 2400.
    assert CAL.working_minutes_between(wib(2026, 8, 3, 7, 30), wib(2026, 8, 10, 7, 30)) == 2400
    # The week of Independence Day: Mon 17 Aug off, so 4 x 480 = 1920.
    assert CAL.working_minutes_between(wib(2026, 8, 17), wib(2026, 8, 24)) == 1920
    # Backwards is negative; a weekend alone is zero.
    assert CAL.working_minutes_between(wib(2026, 8, 10, 10, 0), wib(2026, 8, 7, 15, 0)) == -180
    assert CAL.working_minutes_between(wib(2026, 8, 8), wib(2026, 8, 10)) == 0
    # Seconds are kept exactly; whole minutes are truncated.
    assert CAL.working_time_between(
        wib(2026, 8, 3, 8, 0), wib(2026, 8, 3, 8, 0) + dt.timedelta(seconds=119)
    ) == dt.timedelta(seconds=119)
    assert minutes(dt.timedelta(seconds=119)) == 1 and minutes(dt.timedelta(seconds=-119)) == -1


def test_wib_has_no_daylight_saving_and_any_aware_input_is_accepted() -> None:
    for month in range(1, 13):
        assert wib(2026, month, 15, 12).utcoffset() == dt.timedelta(hours=7)
    # The office is open 00:30-08:30 UTC all year round.
    opens, closes = CAL.office_hours(dt.date(2026, 1, 5)) or (None, None)
    assert opens == dt.datetime(2026, 1, 5, 0, 30, tzinfo=dt.UTC)
    assert closes == dt.datetime(2026, 1, 5, 8, 30, tzinfo=dt.UTC)
    assert CAL.office_hours(dt.date(2026, 7, 6)) == (
        dt.datetime(2026, 7, 6, 0, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 7, 6, 8, 30, tzinfo=dt.UTC),
    )
    # Friday 08:00 UTC is 15:00 WIB: the same due as the WIB example, returned in WIB.
    due = CAL.add_working_minutes(dt.datetime(2026, 8, 7, 8, 0, tzinfo=dt.UTC), 180)
    assert due == wib(2026, 8, 10, 10, 0) and due.tzinfo == WIB


def test_a_zone_with_daylight_saving_keeps_the_local_opening() -> None:
    # Amsterdam moves to summer time on Sunday 29 March 2026. Friday 27 Mar 15:00 CET + 180:
    # Friday 30 min; Monday 30 Mar 07:30 CEST + 150 = 10:00 CEST.
    ams = ZoneInfo("Europe/Amsterdam")
    cal = WorkingCalendar(time_zone="Europe/Amsterdam", holiday_source=lambda year: frozenset())
    start = dt.datetime(2026, 3, 27, 15, 0, tzinfo=ams)
    assert cal.add_working_minutes(start, 180) == dt.datetime(2026, 3, 30, 10, 0, tzinfo=ams)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        CAL.add_working_minutes(dt.datetime(2026, 8, 3, 8, 0), 5)
    with pytest.raises(ValueError, match="aware"):
        CAL.working_minutes_between(dt.datetime(2026, 8, 3, 8, 0), wib(2026, 8, 4))
    with pytest.raises(ValueError, match="negative"):
        CAL.add_working_minutes(wib(2026, 8, 3, 8, 0), -1)


# --- properties ------------------------------------------------------------------------------

instants = st.datetimes(
    min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2027, 12, 31), timezones=st.just(WIB)
)
amounts = st.integers(min_value=0, max_value=30 * 480)
calendars = st.sampled_from(
    [
        CAL,
        CAL.with_day_off(dt.date(2026, 8, 10), dt.date(2026, 8, 11)),
        CAL.with_working_day(dt.date(2026, 8, 17), dt.date(2026, 3, 20)),
        WorkingCalendar(opens_at=dt.time(8, 0), day_minutes=420),
    ]
)


@settings(max_examples=300, deadline=None)
@given(cal=calendars, start=instants, amount=amounts)
def test_add_and_between_are_inverse(cal: WorkingCalendar, start: dt.datetime, amount: int) -> None:
    due = cal.add_working_minutes(start, amount)
    assert due >= start
    assert cal.working_minutes_between(start, due) == amount
    assert cal.working_minutes_between(due, start) == -amount
    if amount > 0:  # a due instant lies within office hours (its closing instant included)
        hours = cal.office_hours(due.astimezone(cal.zone).date())
        assert hours is not None and hours[0] < due <= hours[1]


@settings(max_examples=300, deadline=None)
@given(cal=calendars, start=instants, a=amounts, b=amounts)
def test_add_is_monotonic_and_additive(
    cal: WorkingCalendar, start: dt.datetime, a: int, b: int
) -> None:
    low, high = sorted((a, b))
    assert cal.add_working_minutes(start, low) <= cal.add_working_minutes(start, high)
    if b > 0:
        assert cal.add_working_minutes(cal.add_working_minutes(start, a), b) == (
            cal.add_working_minutes(start, a + b)
        )


@settings(max_examples=300, deadline=None)
@given(cal=calendars, s1=instants, s2=instants, amount=amounts)
def test_later_starts_never_fall_due_earlier(
    cal: WorkingCalendar, s1: dt.datetime, s2: dt.datetime, amount: int
) -> None:
    early, late = sorted((s1, s2))
    assert cal.add_working_minutes(early, amount) <= cal.add_working_minutes(late, amount)
    # Between grows with the end and is bounded by real elapsed time.
    assert 0 <= cal.working_minutes_between(early, late) <= (late - early) / dt.timedelta(minutes=1)
    # The due of the working time between two instants is never after the later one.
    spent = cal.working_time_between(early, late)
    if spent > dt.timedelta(0):
        assert cal.add_working_time(early, spent) <= late


# --- the fast calendar of the bulk replay ----------------------------------------------------


def _no_holidays(year: int) -> frozenset[dt.date]:
    return frozenset()


@pytest.mark.parametrize(
    "base",
    [
        CAL.with_day_off(dt.date(2024, 3, 6)).with_working_day(dt.date(2024, 12, 25)),
        WorkingCalendar(opens_at=dt.time(16, 0), day_minutes=480),  # closes at midnight
        WorkingCalendar(time_zone="Europe/Amsterdam", holiday_source=_no_holidays),
        WorkingCalendar(  # summer time starts at midnight: some days have no 00:00
            time_zone="America/Santiago", opens_at=dt.time(0, 0), day_minutes=600
        ),
        WorkingCalendar(time_zone="UTC", working_weekdays=frozenset({6})),  # Sundays only
        WorkingCalendar(  # on the day summer time starts the office closes after midnight
            time_zone="Europe/Amsterdam", opens_at=dt.time(0, 30), day_minutes=1410
        ),
    ],
)
def test_the_fast_calendar_gives_the_same_answers_in_the_same_zone(base: WorkingCalendar) -> None:
    rng = random.Random(5)
    fast = FastCalendar.of(base)
    origin = dt.datetime(2023, 6, 1, tzinfo=dt.UTC)
    for _ in range(1500):
        a = origin + dt.timedelta(minutes=rng.randrange(60 * 24 * 900), seconds=rng.randrange(60))
        a = a.astimezone(rng.choice([dt.UTC, WIB, base.zone]))
        span = rng.choice([rng.randrange(600), rng.randrange(60 * 24 * 5), rng.randrange(10**6)])
        b = a + dt.timedelta(minutes=span, microseconds=rng.randrange(10**6))
        a, b = (b, a) if rng.random() < 0.1 else (a, b)
        assert fast.working_time_between(a, b) == base.working_time_between(a, b), (a, b)
        amount = dt.timedelta(
            minutes=rng.choice([0, 5, 480, 480 * 45, 480 * 300, rng.randrange(1, 48_000)]),
            microseconds=rng.choice([0, rng.randrange(10**6)]),
        )
        due = fast.add_working_time(a, amount)
        assert repr(due) == repr(base.add_working_time(a, amount)), (a, amount)


def test_the_fast_calendar_grows_its_table_backwards_and_forwards() -> None:
    fast = FastCalendar.of(CAL)
    late, early = wib(2031, 5, 6, 9, 0), wib(2019, 1, 2, 15, 0)
    for a, b in [(late, late + dt.timedelta(days=3)), (early, late), (early, early)]:
        assert fast.working_time_between(a, b) == CAL.working_time_between(a, b)
        assert fast.add_working_time(a, dt.timedelta(hours=30)) == CAL.add_working_time(
            a, dt.timedelta(hours=30)
        )


def test_the_fast_calendar_refuses_what_the_working_calendar_refuses() -> None:
    fast = FastCalendar.of(CAL)
    with pytest.raises(ValueError, match="aware"):
        fast.add_working_minutes(dt.datetime(2026, 8, 3, 8, 0), 5)
    with pytest.raises(ValueError, match="aware"):
        fast.working_minutes_between(wib(2026, 8, 4), dt.datetime(2026, 8, 3, 8, 0))
    with pytest.raises(ValueError, match="negative"):
        fast.add_working_minutes(wib(2026, 8, 3, 8, 0), -1)
    never = FastCalendar.of(WorkingCalendar(holiday_source=_every_day))
    with pytest.raises(ValueError, match="no working day"):
        never.add_working_minutes(wib(2026, 8, 3, 8, 0), 5)


def _every_day(year: int) -> frozenset[dt.date]:
    days = range(dt.date(year, 1, 1).toordinal(), dt.date(year + 1, 1, 1).toordinal())
    return frozenset(dt.date.fromordinal(n) for n in days)
