"""The submission period an SLA report covers: both ends given (the API requires them), the end
after the start, and no longer than a cap (``REPORTING_SLA_REPORT_MAX_DAYS``), so no report
reads the whole history at once. Pure."""

import datetime as dt
from typing import Final

DEFAULT_MAX_DAYS: Final = 366
"""A year, a leap year's included: the longest period one SLA report covers by default."""

FROM_FIELD: Final = "query.submitted_from"
TO_FIELD: Final = "query.submitted_to"


def period_problem(start: dt.datetime, end: dt.datetime, max_days: int) -> str | None:
    """What is wrong with the period ``[start, end)`` (in Indonesian), or None."""
    if end <= start:
        return (
            f"Akhir rentang (submitted_to, {end.isoformat()}) harus sesudah awalnya "
            f"(submitted_from, {start.isoformat()})."
        )
    if end - start > dt.timedelta(days=max_days):
        return (
            f"Rentang laporan SLA paling panjang {max_days} hari, bukan "
            f"{(end - start).days} hari; persempit submitted_from dan submitted_to, atau minta "
            "beberapa laporan."
        )
    return None
