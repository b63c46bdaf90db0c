"""reporting's queries: the case list and detail, the audit views and the SLA report.

The list and the report read the tables the projector writes; the detail's SLA, the as-of view
and the export are computed from the stored envelopes at the time of asking, over the calendar
in force, so open steps show the working time used up to now.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import asyncpg

from events import policy
from events.envelope import Envelope, Role
from events.steps import StepCode, step
from infra import access
from infra.errors import InvalidInput, NotFound
from infra.principal import Principal
from services.reporting.calendar import WorkingCalendar, minutes
from services.reporting.calendar_cache import CalendarCache
from services.reporting.casefile import CaseFile, CaseStatus, case_as_of, fold
from services.reporting.export import export_csv, export_json
from services.reporting.projector import load_envelopes, sla_of, stored_sla_row
from services.reporting.report_period import DEFAULT_MAX_DAYS, TO_FIELD, period_problem
from services.reporting.sla import RequestSla, SlaRow
from services.reporting.sla_report import by_opd, by_step, lead_time_stats
from services.reporting.views import case_view, late_now, timeline_view

LIST_CASES = policy.rule("reporting", "ListCases")
GET_CASE = policy.rule("reporting", "GetCase")
TIMELINE = policy.rule("reporting", "Timeline")
AS_OF = policy.rule("reporting", "CaseAsOf")
EXPORT_JSON = policy.rule("reporting", "ExportJson")
EXPORT_CSV = policy.rule("reporting", "ExportCsv")
SLA_REPORT = policy.rule("reporting", "SlaReport")


class UnknownRequest(NotFound):
    """No event of this request has reached reporting: 404 naming the field."""

    def __init__(self, request_id: str) -> None:
        super().__init__(f"Permohonan {request_id} tidak dikenal oleh layanan pelaporan.")

    def detail(self) -> dict[str, object]:
        return {"message": self.message, "field": "request_id"}


@dataclass(frozen=True)
class CaseFilter:
    status: tuple[CaseStatus, ...] | None = None
    """Only those in one of these statuses."""
    opd: str | None = None
    current_step: StepCode | None = None
    responsible_role: tuple[Role, ...] | None = None
    """Only those waiting on one of these roles."""
    overdue: bool | None = None
    text: str | None = None
    """Only those whose title contains it, whatever the case."""
    submitted_from: dt.datetime | None = None
    submitted_to: dt.datetime | None = None


CaseOrder = Literal["updated", "due"]
"""Most recently changed first, or the earliest due first (those without a due time last)."""

_LIST_WHERE = (
    "($1::text IS NULL OR opd = $1) AND ($2::text IS NULL OR opd = $2) "
    "AND ($3::text[] IS NULL OR status = ANY($3)) AND ($4::text IS NULL OR current_step = $4) "
    "AND ($5::text[] IS NULL OR responsible_role = ANY($5)) "
    "AND ($6::boolean IS NULL OR (due_at IS NOT NULL AND due_at < $7) = $6) "
    "AND ($8::text IS NULL OR strpos(lower(title), lower($8)) > 0) "
    "AND ($9::timestamptz IS NULL OR submitted_at >= $9) "
    "AND ($10::timestamptz IS NULL OR submitted_at < $10)"
)
_LIST_ORDER: dict[CaseOrder, str] = {
    "updated": "updated_at DESC NULLS LAST, request_id",
    "due": "due_at ASC NULLS LAST, request_id",
}


@dataclass
class Queries:
    pool: Callable[[], asyncpg.Pool]
    schema: str
    tenant: str
    time_zone: str
    clock: Callable[[], dt.datetime]
    sla_report_max_days: int = DEFAULT_MAX_DAYS
    """The longest submission period one SLA report covers."""
    _calendars: CalendarCache = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._calendars = CalendarCache(self.schema, self.time_zone)

    async def _calendars_of(self, tenants: set[str]) -> dict[str, WorkingCalendar]:
        """The tenants' calendars in force: read again only after an admin's edit."""
        if not tenants:
            return {}
        async with self.pool().acquire() as conn:
            return await self._calendars.in_force(conn, tenants)

    # --- the case list and detail ------------------------------------------------------------

    async def list_cases(
        self,
        principal: Principal,
        where: CaseFilter,
        limit: int,
        offset: int,
        order: CaseOrder = "updated",
    ) -> dict[str, Any]:
        """The cases ``principal`` may see, in ``order``, a page at a time."""
        scope = access.opd_filter(principal, LIST_CASES)
        if scope is not None and where.opd is not None:
            access.require_scope(principal, LIST_CASES, access.Target(opd=where.opd))
        now = self.clock()
        args = (
            scope,
            where.opd,
            list(where.status) if where.status else None,
            where.current_step,
            list(where.responsible_role) if where.responsible_role else None,
            where.overdue,
            now,
            where.text,
            where.submitted_from,
            where.submitted_to,
        )
        pool = self.pool()
        total = await pool.fetchval(
            f"SELECT count(*) FROM {self.schema}.cases WHERE {_LIST_WHERE}", *args
        )
        rows = await pool.fetch(
            "SELECT request_id, status, opd, title, current_step, step_number, responsible_role, "
            "progress_percent, submitted_at, updated_at, due_at, "
            "(due_at IS NOT NULL AND due_at < $7) AS overdue "
            f"FROM {self.schema}.cases WHERE {_LIST_WHERE} "
            f"ORDER BY {_LIST_ORDER[order]} LIMIT $11 OFFSET $12",
            *args,
            limit,
            offset,
        )
        clocks = await self._step_clocks(pool, [r["request_id"] for r in rows], now)
        items = []
        for r in rows:
            item = dict(r)
            item["step_label"] = step(r["current_step"]).label_id
            for key in ("submitted_at", "updated_at", "due_at"):
                item[key] = item[key].isoformat() if item[key] else None
            item["step_used_minutes"], item["step_standard_minutes"] = clocks.get(
                r["request_id"], (None, None)
            )
            items.append(item)
        return {"total": total, "limit": limit, "offset": offset, "items": items}

    async def _step_clocks(
        self, pool: asyncpg.Pool, request_ids: list[str], now: dt.datetime
    ) -> dict[str, tuple[int, int]]:
        """For each request with a step open: the working minutes its visit has used up to
        ``now``, and the step's standard. A paused clock stands where it stopped; a running one
        is ``standard + working time from due to now`` (negative before due), exact because the
        running time reaches the standard at ``due_at``."""
        open_rows = await pool.fetch(
            "SELECT DISTINCT ON (r.request_id) r.request_id, c.tenant, r.standard_minutes, "
            f"r.used_minutes, r.due_at, r.status FROM {self.schema}.sla_rows r "
            f"JOIN {self.schema}.cases c USING (request_id) "
            "WHERE r.request_id = ANY($1) AND r.finished_at IS NULL "
            "ORDER BY r.request_id, r.started_at DESC",
            request_ids,
        )
        calendars = await self._calendars_of({r["tenant"] for r in open_rows})
        clocks = {}
        for r in open_rows:
            used = r["used_minutes"]
            if r["status"] != "PAUSED" and r["due_at"] is not None:
                since_due = calendars[r["tenant"]].working_time_between(r["due_at"], now)
                used = max(0, minutes(dt.timedelta(minutes=r["standard_minutes"]) + since_due))
            clocks[r["request_id"]] = (used, r["standard_minutes"])
        return clocks

    async def _tenant_of(self, principal: Principal, rule: policy.Rule, request_id: str) -> str:
        """The request's tenant, once ``principal`` may ask ``rule`` about it: its role first
        (403), then the request's existence (404), then its OPD (403)."""
        access.authorize(principal, rule)
        found = await self.pool().fetchrow(
            f"SELECT opd, tenant FROM {self.schema}.cases WHERE request_id = $1", request_id
        )
        if found is None:
            raise UnknownRequest(request_id)
        access.require_scope(principal, rule, access.Target(opd=found["opd"]))
        tenant: str = found["tenant"]
        return tenant

    async def _envelopes(self, request_id: str) -> list[Envelope]:
        async with self.pool().acquire() as conn:
            return (await load_envelopes(conn, self.schema, [request_id])).get(request_id, [])

    async def _sla(self, case: CaseFile, tenant: str, now: dt.datetime) -> RequestSla:
        calendars = await self._calendars_of({tenant})
        return sla_of(case, calendars[tenant], now)

    async def case_detail(
        self, principal: Principal, request_id: str, with_timeline: bool = False
    ) -> dict[str, Any]:
        """The case now; ``with_timeline``: its ``timeline`` entries too, from the same fold."""
        if with_timeline:
            access.authorize(principal, TIMELINE)
        case, tenant = await self._full_case(principal, GET_CASE, request_id)
        now = self.clock()
        detail = {"as_of": now.isoformat(), **case_view(case, await self._sla(case, tenant, now))}
        if with_timeline:
            access.require_scope(principal, TIMELINE, access.Target(opd=case.opd))
            detail["timeline"] = [timeline_view(entry) for entry in case.timeline]
        return detail

    # --- the audit views ---------------------------------------------------------------------

    async def timeline(self, principal: Principal, request_id: str) -> dict[str, Any]:
        case, _ = await self._full_case(principal, TIMELINE, request_id)
        return {
            "request_id": request_id,
            "opd": case.opd,
            "title": case.title,
            "entries": [timeline_view(entry) for entry in case.timeline],
        }

    async def as_of(
        self, principal: Principal, request_id: str, instant: dt.datetime
    ) -> dict[str, Any]:
        """The case and its SLA as they stood at ``instant`` (events after it left out)."""
        tenant = await self._tenant_of(principal, AS_OF, request_id)
        case = case_as_of(await self._envelopes(request_id), instant, request_id)
        sla = await self._sla(case, tenant, instant)
        return {
            "as_of": instant.isoformat(),
            **case_view(case, sla),
            "timeline": [timeline_view(entry) for entry in case.timeline],
        }

    async def _full_case(
        self, principal: Principal, rule: policy.Rule, request_id: str
    ) -> tuple[CaseFile, str]:
        """The fold of the request's stored envelopes and its tenant, as ``_tenant_of`` allows."""
        tenant = await self._tenant_of(principal, rule, request_id)
        return fold(await self._envelopes(request_id), request_id), tenant

    async def export_json(self, principal: Principal, request_id: str) -> dict[str, Any]:
        case, _ = await self._full_case(principal, EXPORT_JSON, request_id)
        return export_json(case, self.clock(), principal.user_id)

    async def export_csv(self, principal: Principal, request_id: str) -> str:
        case, _ = await self._full_case(principal, EXPORT_CSV, request_id)
        return export_csv(case)

    # --- the SLA report ----------------------------------------------------------------------

    async def sla_report(
        self,
        principal: Principal,
        opd: str | None,
        submitted_from: dt.datetime,
        submitted_to: dt.datetime,
    ) -> dict[str, Any]:
        """Per step and per OPD: share on time, median and p90; the whole request's lead time,
        over the requests submitted in ``[submitted_from, submitted_to)``: a period of at most
        ``sla_report_max_days`` (else 422 naming ``query.submitted_to``)."""
        access.authorize(principal, SLA_REPORT)
        problem = period_problem(submitted_from, submitted_to, self.sla_report_max_days)
        if problem is not None:
            raise InvalidInput(problem, TO_FIELD)
        scope = access.opd_filter(principal, SLA_REPORT)
        if scope is not None:
            access.require_scope(principal, SLA_REPORT, access.Target(opd=opd or scope))
            opd = scope
        now = self.clock()
        pool = self.pool()
        period = "($1::text IS NULL OR s.opd = $1) AND s.submitted_at >= $2 AND s.submitted_at < $3"
        summaries = await pool.fetch(
            f"SELECT * FROM {self.schema}.request_sla s WHERE {period}",
            opd,
            submitted_from,
            submitted_to,
        )
        stored = await pool.fetch(
            f"SELECT r.* FROM {self.schema}.sla_rows r "
            f"JOIN {self.schema}.request_sla s USING (request_id) WHERE {period} "
            "ORDER BY r.request_id, r.started_at, r.step_number",
            opd,
            submitted_from,
            submitted_to,
        )
        rows: dict[str, list[SlaRow]] = defaultdict(list)
        for r in stored:
            rows[r["request_id"]].append(late_now(stored_sla_row(r), now))
        requests = [
            RequestSla(
                request_id=s["request_id"],
                opd=s["opd"],
                outcome=s["outcome"],
                current_step=s["current_step"],
                submitted_at=s["submitted_at"],
                ended_at=s["ended_at"],
                lead_minutes=s["lead_minutes"],
                waiting_minutes=s["waiting_minutes"],
                rows=tuple(rows.get(s["request_id"], ())),
            )
            for s in summaries
        ]
        every_row = [row for r in requests for row in r.rows]
        per_opd: dict[str, list[SlaRow]] = defaultdict(list)
        for request in requests:
            per_opd[request.opd or "?"].extend(request.rows)

        def dump(stats: Any) -> Any:
            return [s.model_dump(mode="json") for s in stats]

        return {
            "generated_at": now.isoformat(),
            "opd": opd,
            "requests": len(requests),
            "by_step": dump(by_step(every_row)),
            "by_opd": dump(by_opd(requests)),
            "by_opd_and_step": {key: dump(by_step(rs)) for key, rs in sorted(per_opd.items())},
            "lead_time": lead_time_stats(requests).model_dump(mode="json"),
        }
