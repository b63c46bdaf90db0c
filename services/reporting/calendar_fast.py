"""``FastCalendar``: ``WorkingCalendar``'s answers from a table of office days, for bulk work.

The bulk replay measures open steps of old requests up to now, i.e. over years, and
``WorkingCalendar`` walks such a span day by day. ``FastCalendar`` lays the office days of whole
years out once, in integer microseconds since the Unix epoch: each local day's opening, its
length of office time (0 on a day off) and the office time of all the days before it. The office
time from the table's start up to an instant is then that of the days before the instant's day
plus the part of its own day already worked, so ``working_time_between`` is one subtraction, and
``add_working_time`` one binary search for the day on which the sum is reached.

The table covers the years of every instant asked about (and the next two, for due instants),
growing when one falls outside it. An instant's local day is counted in whole days of 24 hours
from the table's first midnight when the zone's UTC offset is the same at every midnight of the
table (WIB has a single offset), else asked of the zone.
A span backwards, an amount that is not positive, naive instants, a due instant more than
``LONGEST_SEARCH`` days ahead and zones where an office day could reach past midnight are left to
``WorkingCalendar`` itself. An edit (e.g. ``with_day_off``) returns a calendar with an empty
table.
"""

import datetime as dt
from bisect import bisect_left
from dataclasses import dataclass, field, fields
from itertools import pairwise
from zoneinfo import ZoneInfo

from services.reporting.calendar import WorkingCalendar

LONGEST_SEARCH = 400
"""Days ahead a due instant is searched for in the table; beyond them ``WorkingCalendar`` takes
over (and refuses a calendar without a working day in that long)."""

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICRO = dt.timedelta(microseconds=1)
_ONE_DAY = dt.timedelta(days=1)
_NOTHING = dt.timedelta(0)
_DAY_MICROS = _ONE_DAY // _MICRO


def micros(instant: dt.datetime) -> int:
    """An aware instant as whole microseconds since the Unix epoch."""
    return (instant - _EPOCH) // _MICRO


@dataclass(frozen=True, slots=True)
class OfficeDays:
    """The local days from ``first`` to ``first + len(opens) - 1``, in microseconds since the
    epoch: ``opens[i]`` is day ``i``'s opening, ``lengths[i]`` its office time (0: not worked),
    ``before[i]`` the office time of the days before it (one more entry: the total)."""

    first: dt.date
    zone: ZoneInfo
    opens: list[int]
    lengths: list[int]
    before: list[int]
    start: int
    """The first day's midnight."""
    uniform: bool
    """The zone's UTC offset is the same at every midnight: every day is 24 hours long."""
    reach: int
    """With ``uniform``, the end of the last day that has ``LONGEST_SEARCH`` days after it in the
    table; without it, ``start`` (the quick check ``start <= at < reach`` never holds)."""

    def day_of(self, instant: dt.datetime, at: int) -> int:
        """The index of the local day of ``instant`` (``at`` microseconds since the epoch)."""
        if self.uniform:
            return (at - self.start) // _DAY_MICROS
        return (instant.astimezone(self.zone).date() - self.first).days

    def covers(self, instant: dt.datetime, at: int) -> bool:
        """The day of ``instant`` and the ``LONGEST_SEARCH`` days after it are in the table."""
        if self.start <= at < self.reach:
            return True
        return 0 <= self.day_of(instant, at) < len(self.opens) - LONGEST_SEARCH

    def worked(self, instant: dt.datetime, at: int) -> int:
        """Office microseconds from the table's start to ``instant`` (``at``)."""
        day = self.day_of(instant, at)
        return self.before[day] + self._into(day, at)

    def _into(self, day: int, at: int) -> int:
        """Office microseconds of ``day`` up to ``at`` (which falls on it)."""
        into, length = at - self.opens[day], self.lengths[day]
        return into if 0 <= into <= length else 0 if into < 0 else length  # cheaper than min/max

    def due(self, instant: dt.datetime, at: int, amount: int) -> int | None:
        """The earliest instant by which ``amount`` office microseconds have been worked from
        ``instant`` (``at``); None if not within ``LONGEST_SEARCH`` days."""
        day = self.day_of(instant, at)
        target = self.before[day] + self._into(day, at) + amount
        found = bisect_left(self.before, target, lo=day + 1, hi=day + LONGEST_SEARCH + 1)
        if found > day + LONGEST_SEARCH:
            return None
        return self.opens[found - 1] + target - self.before[found - 1]


def office_days(calendar: WorkingCalendar, first_year: int, last_year: int) -> OfficeDays | None:
    """The table of ``calendar``'s days from January 1 of ``first_year`` to December 31 of
    ``last_year``; None if an office day in them does not end by its midnight."""
    zone = calendar.zone
    first = dt.date(first_year, 1, 1)
    day, last = first, dt.date(last_year, 12, 31)
    midnights = [micros(dt.datetime.combine(day, dt.time(0), tzinfo=zone))]
    opens: list[int] = []
    lengths: list[int] = []
    before = [0]
    while day <= last:
        day += _ONE_DAY
        midnights.append(micros(dt.datetime.combine(day, dt.time(0), tzinfo=zone)))
        hours = calendar.office_hours(day - _ONE_DAY)
        if hours is None:
            opens.append(midnights[-2])
            lengths.append(0)
        else:
            opens.append(micros(hours[0]))
            lengths.append(micros(hours[1]) - opens[-1])
            if opens[-1] + lengths[-1] > midnights[-1]:
                return None
        before.append(before[-1] + lengths[-1])
    uniform = all(b - a == _DAY_MICROS for a, b in pairwise(midnights))
    reach = midnights[len(opens) - LONGEST_SEARCH] if uniform else midnights[0]
    return OfficeDays(first, zone, opens, lengths, before, midnights[0], uniform, reach)


@dataclass(slots=True)
class _Memory:
    """What a ``FastCalendar`` has worked out so far."""

    table: OfficeDays | None = None
    fits: bool = True
    """False once an office day was found to reach past its midnight: no table then."""


@dataclass(frozen=True)
class FastCalendar(WorkingCalendar):
    """The same calendar, with the same answers, faster over long spans (see the module)."""

    _memory: _Memory = field(default_factory=_Memory, init=False, compare=False, repr=False)

    @classmethod
    def of(cls, calendar: WorkingCalendar) -> "FastCalendar":
        return cls(**{f.name: getattr(calendar, f.name) for f in fields(WorkingCalendar)})

    def _days(self, instant: dt.datetime, at: int) -> OfficeDays | None:
        """The table, grown if need be to cover ``instant`` (``at`` microseconds since the epoch)
        and the ``LONGEST_SEARCH`` days after it; None if there can be no table."""
        memory = self._memory
        table = memory.table
        if table is not None and table.covers(instant, at):
            return table
        if not memory.fits:
            return None
        year = instant.astimezone(self.zone).year
        low, high = year, year + 2  # the next year and more: ``LONGEST_SEARCH`` days ahead
        if table is not None:
            low = min(low, table.first.year)
            high = max(high, (table.first + dt.timedelta(days=len(table.opens) - 1)).year)
        memory.table = office_days(self, low, high)
        memory.fits = memory.table is not None
        return memory.table

    def working_time_between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        try:
            s, e = micros(start), micros(end)
        except TypeError:  # a naive instant
            return WorkingCalendar.working_time_between(self, start, end)
        table = self._memory.table
        if table is None or not table.start <= s <= e < table.reach:
            if e < s or self._days(end, e) is None:
                return WorkingCalendar.working_time_between(self, start, end)
            table = self._days(start, s)  # grown, if need be, to cover both
            assert table is not None
        return _MICRO * (table.worked(end, e) - table.worked(start, s))

    def add_working_time(self, start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
        try:
            s = micros(start)
        except TypeError:  # a naive instant
            return WorkingCalendar.add_working_time(self, start, amount)
        table = self._memory.table
        if table is None or not table.start <= s < table.reach:
            table = self._days(start, s)
        if table is None or amount <= _NOTHING:
            return WorkingCalendar.add_working_time(self, start, amount)
        due = table.due(start, s, amount // _MICRO)
        if due is None:
            return WorkingCalendar.add_working_time(self, start, amount)
        return (_EPOCH + _MICRO * due).astimezone(table.zone)
