"""The audit replay's comparison of the replayed schema with the live one (``compare``).

Table by table, row by row, request by request (in chunks):

=============  ==============================  =================================================
table          key                             not compared (legitimately different)
=============  ==============================  =================================================
case_events    event_id                        ``received_at`` (when it was stored)
cases          request_id                      ``projected_at`` (when it was written)
request_sla    request_id                      for an OPEN request ``lead_minutes`` and
                                               ``waiting_minutes`` (counted up to the moment of
                                               projection)
sla_rows       request_id, step, attempt       for a row still open: ``used_minutes``,
                                               ``paused_minutes``, the minutes of a pause still
                                               on, and RUNNING vs RUNNING_LATE (all counted up to
                                               the moment of projection)
notices        notice_id                       ``seq`` (commit order), ``created_at`` (when it
                                               was made), ``stored_at``
=============  ==============================  =================================================

Not compared at all: ``calendar_days`` (copied), ``sla_breaches`` (the breach watcher's record of
what it emitted; the SlaBreached events themselves are replayed from reporting's topic) and
``notice_reads`` (users' read marks). The notices are a function of each request's set of events
(``notices_history``), so reading the topics in another order than things happened (while
catching up after downtime) makes the same ones; they can still differ only where two services
recorded events of one request at once without seeing each other (``notices_settled``).
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from infra.db import Connection
from services.reporting.projector import (
    CASE_COLUMNS,
    REQUEST_SLA_COLUMNS,
    SLA_ROW_COLUMNS,
)
from services.reporting.replay_progress import Progress, quiet

COMPARE_CHUNK = 2000
"""Requests compared per round trip."""
MAX_DIFFERENCES = 10_000
"""Differences kept in a result (all are counted)."""
AS_OF_PROJECTION = "(as of projection)"
"""In place of a value counted up to the moment it was written (not compared)."""


@dataclass(frozen=True)
class Difference:
    table: str
    key: str
    request_id: str
    column: str
    """The column, a path inside a JSON column (``casefile.documents[2].number``), or ``(row)``
    for a row that is only on one side."""
    live: Any
    replayed: Any


@dataclass(frozen=True)
class TableSummary:
    table: str
    live_rows: int
    replayed_rows: int
    differing_rows: int


@dataclass
class Comparison:
    """What ``compare`` found: each table's rows and differing rows, and the differences."""

    tables: list[TableSummary] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    """The first ``MAX_DIFFERENCES``."""
    difference_count: int = 0


def _open_request_sla(row: dict[str, Any]) -> dict[str, Any]:
    if row["outcome"] == "OPEN":
        row["lead_minutes"] = row["waiting_minutes"] = AS_OF_PROJECTION
    return row


def _open_sla_row(row: dict[str, Any]) -> dict[str, Any]:
    if row["finished_at"] is None:
        if row["status"] == "RUNNING_LATE":
            row["status"] = "RUNNING"
        row["used_minutes"] = row["paused_minutes"] = AS_OF_PROJECTION
        row["pauses"] = [
            {**p, "minutes": AS_OF_PROJECTION} if p.get("ended_at") is None else p
            for p in row["pauses"]
        ]
    return row


@dataclass(frozen=True)
class _Table:
    name: str
    key: tuple[str, ...]
    columns: tuple[str, ...]
    normalise: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    """Python's normalisation of a fetched row (for the column-by-column report)."""
    sql: tuple[tuple[str, str], ...] = ()
    """The same normalisation in SQL: ``(column, expression)`` for the columns that need one
    (a JSON column is compared as ``jsonb``)."""

    def expressions(self) -> list[str]:
        given = dict(self.sql)
        return [f"{given.get(c, c)} AS {c}" for c in dict.fromkeys((*self.key, *self.columns))]


_AS_OF = f"'{AS_OF_PROJECTION}'"
_STATUS = "CASE WHEN finished_at IS NULL AND status = 'RUNNING_LATE' THEN 'RUNNING' ELSE status END"
_OPEN_PAUSES = (
    "CASE WHEN finished_at IS NOT NULL THEN pauses::jsonb ELSE (SELECT coalesce(jsonb_agg("
    f"CASE WHEN p->'ended_at' = 'null' THEN p || jsonb_build_object('minutes', {_AS_OF}) "
    "ELSE p END ORDER BY n), '[]'::jsonb) FROM jsonb_array_elements(pauses::jsonb) "
    "WITH ORDINALITY AS x(p, n)) END"
)

TABLES = (
    _Table(
        "case_events",
        ("event_id",),
        ("request_id", "service", "event_type", "stream_version", "occurred_at", "envelope"),
        sql=(("envelope", "envelope::jsonb"),),
    ),
    _Table(
        "cases",
        ("request_id",),
        tuple(CASE_COLUMNS.split(", ")[1:]),
        sql=(("casefile", "casefile::jsonb"),),
    ),
    _Table(
        "request_sla",
        ("request_id",),
        tuple(REQUEST_SLA_COLUMNS.split(", ")[1:]),
        _open_request_sla,
        sql=tuple(
            (c, f"CASE WHEN outcome = 'OPEN' THEN {_AS_OF} ELSE {c}::text END")
            for c in ("lead_minutes", "waiting_minutes")
        ),
    ),
    _Table(
        "sla_rows",
        ("request_id", "step", "attempt"),
        tuple(SLA_ROW_COLUMNS.split(", ")[3:]),
        _open_sla_row,
        sql=(
            ("status", _STATUS),
            ("pauses", _OPEN_PAUSES),
            *(
                (c, f"CASE WHEN finished_at IS NULL THEN {_AS_OF} ELSE {c}::text END")
                for c in ("used_minutes", "paused_minutes")
            ),
        ),
    ),
    _Table(
        "notices",
        ("notice_id",),
        ("kind", "role", "opd", "user_id", "request_id", "step", "message", "event_id"),
    ),
)
"""What is compared; see the module's documentation for what is not, and why."""


async def _scope(conn: Connection, live: str, replayed: str, tenant: str | None) -> str:
    """A temporary table ``replay_scope`` of the request ids compared (with ``tenant``: its
    requests, live or replayed); returns the live side's filter."""
    if tenant is None:
        return ""
    await conn.execute(
        "CREATE TEMPORARY TABLE replay_scope ON COMMIT DROP AS "
        f"SELECT request_id FROM {live}.cases WHERE tenant = $1 UNION "
        f"SELECT request_id FROM {live}.case_events WHERE envelope->>'tenant' = $1 UNION "
        f"SELECT request_id FROM {replayed}.cases",
        tenant,
    )
    await conn.execute("ANALYZE replay_scope")
    return "WHERE request_id IN (SELECT request_id FROM replay_scope)"


async def compare(
    conn: Connection,
    live: str,
    replayed: str,
    tenant: str | None,
    progress: Progress = quiet,
) -> Comparison:
    """Compare ``replayed`` with ``live`` (only ``tenant``'s requests if given).

    PostgreSQL finds the rows that differ (a full join of the two tables on their key, with the
    normalisations above); only the requests that have one are fetched and compared column by
    column (into JSON) to say what differs."""
    result = Comparison()
    for table in TABLES:
        await conn.execute(f"ANALYZE {replayed}.{table.name}")
    async with conn.transaction(isolation="repeatable_read"):
        only = await _scope(conn, live, replayed, tenant)
        for table in TABLES:
            exprs = ", ".join(table.expressions())
            sides = f"WITH l AS (SELECT {exprs} FROM {live}.{table.name} {only}), "
            sides += f"r AS (SELECT {exprs} FROM {replayed}.{table.name}) "
            counted = await conn.fetchrow(
                sides + "SELECT (SELECT count(*) FROM l) AS l, (SELECT count(*) FROM r) AS r"
            )
            assert counted is not None
            on = " AND ".join(f"l.{k} = r.{k}" for k in table.key)
            left = ", ".join(f"l.{c}" for c in table.columns)
            right = ", ".join(f"r.{c}" for c in table.columns)
            differing = await conn.fetch(
                sides + "SELECT DISTINCT coalesce(l.request_id, r.request_id) AS request_id "
                f"FROM l FULL JOIN r ON {on} WHERE l.{table.key[0]} IS NULL OR "
                f"r.{table.key[0]} IS NULL OR ({left}) IS DISTINCT FROM ({right})"
            )
            rows = 0
            ids = sorted(r["request_id"] for r in differing)
            for start in range(0, len(ids), COMPARE_CHUNK):
                chunk = ids[start : start + COMPARE_CHUNK]
                pair = [await _rows(conn, schema, table, chunk) for schema in (live, replayed)]
                for first, difference in _diff_rows(table, *pair):
                    rows += first
                    result.difference_count += 1
                    if len(result.differences) < MAX_DIFFERENCES:
                        result.differences.append(difference)
            result.tables.append(TableSummary(table.name, counted["l"], counted["r"], rows))
            progress("compared", 1)
    return result


async def _rows(
    conn: Connection, schema: str, table: _Table, ids: list[str]
) -> dict[tuple[Any, ...], dict[str, Any]]:
    names = dict.fromkeys((*table.key, *table.columns))
    records = await conn.fetch(
        f"SELECT {', '.join(names)} FROM {schema}.{table.name} WHERE request_id = ANY($1::text[])",
        ids,
    )
    rows = {}
    for record in records:
        row = dict(record)
        if table.normalise is not None:
            row = table.normalise(row)
        rows[tuple(row[k] for k in table.key)] = row
    return rows


def _diff_rows(
    table: _Table,
    live: dict[tuple[Any, ...], dict[str, Any]],
    replayed: dict[tuple[Any, ...], dict[str, Any]],
) -> Iterator[tuple[int, Difference]]:
    """Each difference, with 1 for the first one of a row (to count differing rows)."""
    for key in sorted(live.keys() | replayed.keys(), key=lambda k: tuple(map(str, k))):
        left, right = live.get(key), replayed.get(key)
        label = "/".join(map(str, key))
        if left is None or right is None:
            row = left or right
            assert row is not None
            only = "only in the replay" if left is None else "only in the live schema"
            yield (
                1,
                Difference(
                    table.name,
                    label,
                    row["request_id"],
                    f"(row {only})",
                    "(absent)" if left is None else "(row)",
                    "(absent)" if right is None else "(row)",
                ),
            )
            continue
        first = 1
        for column in table.columns:
            for path, a, b in _diff_values(column, left[column], right[column]):
                yield first, Difference(table.name, label, left["request_id"], path, a, b)
                first = 0


def _diff_values(path: str, a: Any, b: Any) -> Iterator[tuple[str, Any, Any]]:
    """The places where ``a`` and ``b`` differ: into JSON objects and equal-length arrays."""
    if a == b:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(a.keys() | b.keys()):
            yield from _diff_values(f"{path}.{k}", a.get(k, "(absent)"), b.get(k, "(absent)"))
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from _diff_values(f"{path}[{i}]", x, y)
    elif a != b:
        yield path, a, b
