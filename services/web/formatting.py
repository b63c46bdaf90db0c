"""How people in the office write dates, times, numbers and durations ("Senin, 7 Desember 2026
09.30 WIB", "1.234,5", "2 hari kerja 3 jam"): the templates' filters."""

import datetime as dt
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from events.steps import MINUTES_PER_WORKING_DAY

LOCALE = "id"
ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def instant(
    value: dt.datetime | str | None, zone: str = "Asia/Jakarta", seconds: bool = False
) -> str:
    """``Senin, 7 Desember 2026 09.30 WIB`` (``09.30.15`` with seconds); empty for nothing."""
    if value in (None, ""):
        return ""
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    pattern = "EEEE, d MMMM y HH.mm.ss" if seconds else "EEEE, d MMMM y HH.mm"
    text = format_datetime(moment, pattern, tzinfo=ZoneInfo(zone), locale=LOCALE)
    return f"{text} {ZONE_NAMES.get(zone, zone)}"


def day(value: dt.date | str | None) -> str:
    """``7 Desember 2026``; empty for nothing."""
    if value in (None, ""):
        return ""
    date = dt.date.fromisoformat(value[:10]) if isinstance(value, str) else value
    return format_date(date, "d MMMM y", locale=LOCALE)


def number(value: float | int | None) -> str:
    """``1.234,5``."""
    return "" if value is None else format_decimal(value, locale=LOCALE)


def working_time(minutes: int | None) -> str:
    """Working minutes as ``2 hari kerja 3 jam`` (a working day being 8 hours)."""
    if minutes is None:
        return ""
    days, rest = divmod(max(0, int(minutes)), MINUTES_PER_WORKING_DAY)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} hari kerja"] if days else []
    parts += [f"{hours} jam"] if hours else []
    parts += [f"{mins} menit"] if mins and not days else []
    return " ".join(parts) or "kurang dari 1 menit"


def start_of(day: dt.date, zone: str = "Asia/Jakarta") -> str:
    """The instant ``day`` begins in the office's zone, as ISO 8601: a filter's bound."""
    return dt.datetime.combine(day, dt.time(), ZoneInfo(zone)).isoformat()


def to_local_input(value: dt.datetime, zone: str = "Asia/Jakarta") -> str:
    """The value of an ``<input type="datetime-local">`` in the office's zone."""
    return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def from_local_input(text: str, zone: str = "Asia/Jakarta") -> dt.datetime:
    """What a ``datetime-local`` input sent, as an instant in the office's zone."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


def month_name(value: str) -> str:
    """``Desember 2026`` for any day of that month (``YYYY-MM-DD``)."""
    return format_date(dt.date.fromisoformat(value), "MMMM y", locale=LOCALE)
