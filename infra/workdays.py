"""Working days without an admin's edits: Monday to Friday, minus Indonesia's national holidays
and cuti bersama (the ``holidays`` library). Pure: the library computes its dates from rules.

reporting's ``WorkingCalendar`` starts from these days off and adds the admin's edits (regional
holidays, a holiday worked); a service that does not hold those edits (dev_tracking's grace after
a Surat Tugas) counts with these defaults.
"""

import datetime as dt
from collections.abc import Callable
from functools import cache

from holidays.countries.indonesia import Indonesia

WORKING_WEEKDAYS = frozenset(range(5))
"""``date.weekday()`` numbers of the office days: Monday (0) to Friday (4)."""

_DAY = dt.timedelta(days=1)


@cache
def indonesian_holidays(year: int) -> frozenset[dt.date]:
    """Indonesia's national holidays and cuti bersama of ``year`` (``holidays``: public and
    government categories; the joint leave days are named "... Joint Holiday")."""
    return frozenset(Indonesia(years=year, categories=("public", "government")))


@cache
def indonesian_holiday_names(year: int) -> dict[dt.date, str]:
    """The same days with their (English) names, for showing the calendar to an admin."""
    days = Indonesia(years=year, categories=("public", "government"))
    return {day: str(name) for day, name in sorted(days.items())}


def is_national_working_day(day: dt.date) -> bool:
    """A weekday from Monday to Friday that is no national holiday nor cuti bersama."""
    return day.weekday() in WORKING_WEEKDAYS and day not in indonesian_holidays(day.year)


def add_working_days(
    day: dt.date, count: int, is_working_day: Callable[[dt.date], bool] = is_national_working_day
) -> dt.date:
    """The ``count``-th working day after ``day`` (``day`` itself when ``count`` is 0)."""
    if count < 0:
        raise ValueError("count must not be negative")
    found = day
    for _ in range(count):
        found += _DAY
        while not is_working_day(found):
            found += _DAY
    return found
