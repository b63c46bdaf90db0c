"""SLA reports over many requests: per step and per OPD, the share on time and the lead times.

Pure functions over ``SlaRow`` and ``RequestSla`` values (``services.reporting.sla``):

- ``by_step(rows)``: for each step, over its *finished* rows (every attempt counts as one), the
  share finished by the due instant, and the median and 90th percentile of the working minutes
  used (pauses excluded); open rows are counted apart (``open``, ``open_late``).
- ``by_opd(requests)``: for each OPD, the share on time over all its finished rows, and the median
  and p90 of the *whole request's* lead time (office minutes from submission to completion) over
  its completed requests.
- ``lead_time_stats(requests)``: the same lead-time figures over any set of requests.

Percentiles interpolate linearly between the closest ranks (numpy's default; for the median,
the mean of the two middle values), over whole minutes.
"""

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from events.steps import step
from services.reporting.sla import RequestSla, SlaRow

T = TypeVar("T")


class Stats(BaseModel):
    """The figures of one group (a step, an OPD)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(description="The step code or the OPD code")
    finished: int = Field(ge=0, description="Finished rows")
    on_time: int = Field(ge=0, description="Finished rows finished by their due instant")
    share_on_time: float | None = Field(description="on_time / finished; None if none finished")
    open: int = Field(ge=0, description="Open rows")
    open_late: int = Field(ge=0, description="Open rows already past due")
    measured: int = Field(ge=0, description="How many lead times the median and p90 are over")
    median_minutes: float | None = Field(description="Median lead time, office minutes")
    p90_minutes: float | None = Field(description="90th percentile lead time, office minutes")


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) of ``values``, linearly interpolated; None if empty."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _stats(key: str, rows: Sequence[SlaRow], lead_times: Sequence[float]) -> Stats:
    finished = [r for r in rows if r.finished]
    on_time = sum(1 for r in finished if r.status == "ON_TIME")
    return Stats(
        key=key,
        finished=len(finished),
        on_time=on_time,
        share_on_time=on_time / len(finished) if finished else None,
        open=len(rows) - len(finished),
        open_late=sum(1 for r in rows if r.status == "RUNNING_LATE"),
        measured=len(lead_times),
        median_minutes=percentile(lead_times, 50),
        p90_minutes=percentile(lead_times, 90),
    )


def _group(items: Iterable[T], key: Callable[[T], str]) -> dict[str, list[T]]:
    groups: dict[str, list[T]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return groups


def by_step(rows: Iterable[SlaRow]) -> list[Stats]:
    """Per step, in SOP order: share on time and lead times of its finished rows."""
    groups = _group(rows, lambda r: r.step)
    return [
        _stats(code, group, [r.used_minutes for r in group if r.finished])
        for code, group in sorted(groups.items(), key=lambda item: step(item[0]).number)
    ]


def lead_times(requests: Iterable[RequestSla]) -> list[float]:
    """The whole lead time of each completed request, office minutes."""
    return [
        r.lead_minutes for r in requests if r.outcome == "COMPLETED" and r.lead_minutes is not None
    ]


def by_opd(requests: Iterable[RequestSla], unknown: str = "?") -> list[Stats]:
    """Per OPD (by code): share on time of all its rows; lead times of its completed requests."""
    groups = _group(requests, lambda r: r.opd or unknown)
    return [
        _stats(opd, [row for r in group for row in r.rows], lead_times(group))
        for opd, group in sorted(groups.items())
    ]


def lead_time_stats(requests: Iterable[RequestSla], key: str = "ALL") -> Stats:
    """The figures over every request given (all rows; completed requests' lead times)."""
    group = list(requests)
    return _stats(key, [row for r in group for row in r.rows], lead_times(group))
