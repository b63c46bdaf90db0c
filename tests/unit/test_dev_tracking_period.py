"""The Surat Tugas's period in dev_tracking's decider (issue 17, item 11): the team acts only from
the letter's first day to its last plus a grace of working days; a new letter extends it."""

import datetime as dt

import pytest

from infra.errors import WrongStep
from services.dev_tracking.domain import (
    Grace,
    OutsidePeriod,
    available_actions,
    decide,
    fold,
)
from tests.unit import test_dev_tracking_domain as d

LAST_DAY = dt.date(2024, 4, 15)  # the letter's last day (d.ASSIGNED), a Monday
GRACE_END = dt.date(2024, 4, 18)  # three working days later: Tuesday to Thursday


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10), d.WIB)


def extended(state: d.DevState, until: dt.date) -> d.DevState:
    letter = d.ASSIGNED.model_copy(
        update={"letter_number": "800/77/DISKOMINFOSTANDI/IV/2024", "period_end": until}
    )
    return fold([letter], state)


def test_within_the_grace_the_team_is_heard() -> None:
    state = d.started()
    for day in (d.START, LAST_DAY, GRACE_END):
        assert decide(state, d.PROGRESS, d.DEV, at(day))


def test_after_the_grace_every_team_command_is_refused_naming_the_period() -> None:
    day = GRACE_END + dt.timedelta(days=1)
    for state, command in (
        (d.assigned(), d.START_CMD),
        (d.started(), d.PROGRESS),
        (d.started(), d.PROBLEM),
        (d.with_problem(), d.SOLVE),
        (d.started(), d.result_cmd("SYSTEM")),
        (d.at_manual(), d.MANUAL),
    ):
        with pytest.raises(OutsidePeriod) as refused:
            decide(state, command, d.DEV, at(day))
        error = refused.value
        assert isinstance(error, WrongStep) and error.status == 409
        assert "800/45/DISKOMINFOSTANDI/II/2024 (2024-03-01 s.d. 2024-04-15" in error.message
        assert "3 hari kerja sampai 2024-04-18" in error.message
        assert "Surat Tugas baru" in error.message
        assert error.detail()["grace_until"] == "2024-04-18"


def test_the_grace_counts_working_days_only() -> None:
    """Ending on a Friday, one working day of grace reaches Monday, not Saturday."""
    state = extended(d.started(), dt.date(2024, 4, 19))
    one_day = Grace(1)
    assert decide(state, d.PROGRESS, d.DEV, at(dt.date(2024, 4, 22)), one_day)
    with pytest.raises(OutsidePeriod):
        decide(state, d.PROGRESS, d.DEV, at(dt.date(2024, 4, 23)), one_day)
    with pytest.raises(OutsidePeriod):
        decide(state, d.PROGRESS, d.DEV, at(dt.date(2024, 4, 20)), Grace(0))


def test_before_the_letters_first_day_the_team_waits() -> None:
    with pytest.raises(OutsidePeriod, match="baru berlaku mulai 2024-03-01"):
        decide(d.assigned(), d.START_CMD, d.DEV, at(dt.date(2024, 2, 29)))


def test_a_new_letter_extends_the_period_and_keeps_the_progress() -> None:
    day = GRACE_END + dt.timedelta(days=5)
    state = extended(d.at_unit(), dt.date(2024, 5, 31))
    assert state.step == "UNIT_TEST" and state.period_end == dt.date(2024, 5, 31)
    assert decide(state, d.PROGRESS, d.DEV, at(day))
    assert decide(state, d.result_cmd("UNIT"), d.DEV, at(day))


def test_the_requesters_uat_is_not_bound_by_the_teams_letter() -> None:
    late = at(GRACE_END + dt.timedelta(days=30))
    assert decide(d.at_uat(), d.ACCEPT, d.REQUESTER, late)
    assert [a.command for a in available_actions(d.at_uat(), d.DEV, late.date())] == []
    assert [a.command for a in available_actions(d.at_uat(), d.REQUESTER, late.date())] == [
        "RecordUat"
    ]
    offered = [a.command for a in available_actions(d.at_uat(), d.DEV, GRACE_END)]
    assert "RecordProblem" in offered
