"""The Surat Tugas's period: the team acts only from the letter's first day to its last, plus a
grace of a few working days; after that a new letter (approval's next ``TaskAssigned``, issued by
KADIS while the request is in development) sets a new period. Pure: "today" is given.

Only the team's commands are bound by the letter (those whose responsible role is
``TIM_PENGEMBANG`` in ``events.policy``); the requester's UAT is not the team acting.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from events import policy
from infra.errors import WrongStep
from infra.wording import at_step
from infra.workdays import add_working_days, is_national_working_day
from services.dev_tracking.state import DevState

DEFAULT_GRACE_WORKING_DAYS: Final = 3


@dataclass(frozen=True)
class Grace:
    """How many working days after the letter's last day the team may still act."""

    working_days: int = DEFAULT_GRACE_WORKING_DAYS
    is_working_day: Callable[[dt.date], bool] = field(default=is_national_working_day)

    def __post_init__(self) -> None:
        if self.working_days < 0:
            raise ValueError("the grace must not be negative")

    def last_day(self, period_end: dt.date) -> dt.date:
        """The last day the team may act on a letter that ends on ``period_end``."""
        return add_working_days(period_end, self.working_days, self.is_working_day)


DEFAULT_GRACE: Final = Grace()


class OutsidePeriod(WrongStep):
    """A team command on a day outside the Surat Tugas's period and its grace: 409, naming the
    period (and the step, as every 409 of a step does)."""

    def __init__(
        self, message: str, current_step: str, start: dt.date, end: dt.date, until: dt.date
    ) -> None:
        super().__init__(message, current_step)
        self.period = (start, end, until)

    def detail(self) -> dict[str, object]:
        start, end, until = self.period
        return {
            **super().detail(),
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
            "grace_until": until.isoformat(),
        }


def bound_by_letter(rule: policy.Rule) -> bool:
    """Whether the command of ``rule`` is the team's, and so bound by the letter's period."""
    return rule.responsible_role == "TIM_PENGEMBANG"


def within(state: DevState, today: dt.date, grace: Grace) -> bool:
    """Whether ``today`` lies in the latest letter's period or its grace."""
    if state.period_start is None or state.period_end is None:
        return False
    return state.period_start <= today <= grace.last_day(state.period_end)


def ensure_within(state: DevState, today: dt.date, grace: Grace) -> None:
    """Refuse (``OutsidePeriod``) a team command on ``today`` outside the period and grace."""
    if within(state, today, grace):
        return
    start, end = state.period_start, state.period_end
    assert start is not None and end is not None  # TaskAssigned sets both
    until = grace.last_day(end)
    letter = f"Surat Tugas {state.letter_number}" if state.letter_number else "Surat Tugas"
    if today < start:
        why = (
            f"Tim belum dapat mencatat: {letter} baru berlaku mulai {start}; tanggal {today} "
            "belum masuk masa tugasnya"
        )
    else:
        why = (
            f"Tim tidak lagi dapat mencatat: masa {letter} ({start} s.d. {end}, dengan "
            f"tenggang {grace.working_days} hari kerja sampai {until}) sudah lewat pada tanggal "
            f"{today}; Kepala Dinas dapat menerbitkan Surat Tugas baru yang memperpanjang masa "
            "tugas"
        )
    code = state.step or "DEVELOP"
    raise OutsidePeriod(
        f"{why}; permohonan sedang pada {at_step(code)}.",
        code,
        start,
        end,
        until,
    )
