"""reporting's HTTP API (thin: validate, ask the queries, answer): the case list and detail, the
audit views, the SLA report and the admin's calendar."""

import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse, Response

from events.envelope import Role
from events.fields import Day, Instant, Line, OpdCode, RequestId
from events.steps import StepCode
from infra.idempotency import IdempotencyKey
from infra.limits import MAX_OFFSET
from infra.principal import Principal
from services.reporting.calendar_admin import CalendarAdmin
from services.reporting.calendar_store import DayEdit
from services.reporting.casefile import CaseStatus
from services.reporting.queries import CaseFilter, CaseOrder, Queries

ANSWERS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Tanpa token atau token tidak sah"},
    403: {"description": "Peran (atau OPD pemohon) tidak berwenang"},
    422: {"description": "Input tidak valid (field disebut)"},
}
SubmittedFrom = Annotated[
    Instant | None, Query(description="Diajukan sejak (ISO 8601 dengan zona waktu)")
]
SubmittedTo = Annotated[
    Instant | None, Query(description="Diajukan sebelum (ISO 8601 dengan zona waktu)")
]
"""The submission period of the case list (the SLA report requires both ends)."""

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "Permohonan tidak dikenal (field request_id)"}
}


def build_router(
    queries: Callable[[], Queries],
    calendar: Callable[[], CalendarAdmin],
    principal: Callable[..., Awaitable[Principal]],
) -> APIRouter:
    router = APIRouter(responses=ANSWERS)
    Caller = Annotated[Principal, Depends(principal)]
    Id = Annotated[RequestId, Path(description="Id permohonan")]

    @router.get(
        "/cases",
        tags=["kasus"],
        summary="Daftar permohonan (pemohon: hanya OPD-nya), dengan filter dan halaman",
        description="Terbaru diubah dulu. overdue: langkah yang sedang berjalan sudah melewati "
        "batas waktu kerja (dihitung saat ditanya).",
    )
    async def list_cases(
        caller: Caller,
        status: Annotated[
            list[CaseStatus] | None,
            Query(max_length=4, description="Hanya status ini (boleh diulang: salah satunya)"),
        ] = None,
        opd: Annotated[OpdCode | None, Query(description="Hanya OPD ini")] = None,
        current_step: Annotated[
            StepCode | None, Query(description="Hanya yang berada di langkah ini")
        ] = None,
        responsible_role: Annotated[
            list[Role] | None,
            Query(
                max_length=8,
                description="Hanya yang menunggu peran ini (boleh diulang: salah satunya)",
            ),
        ] = None,
        overdue: Annotated[
            bool | None, Query(description="true: hanya yang terlambat; false: yang tidak")
        ] = None,
        text: Annotated[
            Line | None,
            Query(description="Hanya yang judulnya memuat teks ini (huruf besar/kecil sama)"),
        ] = None,
        submitted_from: SubmittedFrom = None,
        submitted_to: SubmittedTo = None,
        order: Annotated[
            CaseOrder,
            Query(description="updated: terbaru diubah dulu; due: batas waktu terdekat dulu"),
        ] = "updated",
        limit: Annotated[int, Query(ge=1, le=500, description="Paling banyak")] = 50,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Lewati sebanyak ini")] = 0,
    ) -> dict[str, Any]:
        where = CaseFilter(
            tuple(status) if status else None,
            opd,
            current_step,
            tuple(responsible_role) if responsible_role else None,
            overdue,
            text,
            submitted_from,
            submitted_to,
        )
        return await queries().list_cases(caller, where, limit, offset, order)

    @router.get(
        "/cases/{request_id}",
        tags=["kasus"],
        summary="Rincian permohonan: langkah, siapa yang harus bertindak, dokumen, masalah, "
        "kemajuan, SLA",
        responses=NOT_FOUND,
    )
    async def case_detail(
        request_id: Id,
        caller: Caller,
        timeline: Annotated[
            bool,
            Query(description="true: sertakan juga riwayatnya (seperti /timeline), sekali baca"),
        ] = False,
    ) -> dict[str, Any]:
        return await queries().case_detail(caller, request_id, with_timeline=timeline)

    @router.get(
        "/cases/{request_id}/timeline",
        tags=["audit"],
        summary="Riwayat permohonan: siapa, peran, atas nama siapa (Plt./Plh.), kapan, apa, "
        "nomor dokumen",
        description="Untuk AUDITOR dan peran dinas; pemohon hanya untuk OPD-nya.",
        responses=NOT_FOUND,
    )
    async def timeline(request_id: Id, caller: Caller) -> dict[str, Any]:
        return await queries().timeline(caller, request_id)

    @router.get(
        "/cases/{request_id}/as-of",
        tags=["audit"],
        summary="Keadaan permohonan pada suatu saat di masa lalu",
        description="Hanya peristiwa yang terjadi sampai saat itu; SLA dihitung pada saat itu.",
        responses=NOT_FOUND,
    )
    async def as_of(
        request_id: Id,
        caller: Caller,
        at: Annotated[
            Instant,
            Query(description="Saat (ISO 8601 dengan zona waktu), mis. 2024-03-04T08:25:00+07:00"),
        ],
    ) -> dict[str, Any]:
        return await queries().as_of(caller, request_id, at)

    @router.get(
        "/cases/{request_id}/export.json",
        tags=["audit"],
        summary="Ekspor riwayat lengkap (JSON) untuk berkas pemeriksa, dengan hash berantai",
        responses={
            **NOT_FOUND,
            200: {
                "description": "Semua envelope (dengan prev_hash dan hash) dan hasil "
                "pemeriksaan rantai hash per layanan",
                "content": {"application/json": {}},
            },
        },
        response_class=Response,
    )
    async def export_json(request_id: Id, caller: Caller) -> Response:
        body = await queries().export_json(caller, request_id)
        return Response(
            json.dumps(body, ensure_ascii=False, indent=2),
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="{request_id}.json"'},
        )

    @router.get(
        "/cases/{request_id}/export.csv",
        tags=["audit"],
        summary="Ekspor riwayat lengkap (CSV) untuk berkas pemeriksa, dengan hash berantai",
        responses={
            **NOT_FOUND,
            200: {"description": "Satu baris per peristiwa", "content": {"text/csv": {}}},
        },
        response_class=Response,
    )
    async def export_csv(request_id: Id, caller: Caller) -> Response:
        body = await queries().export_csv(caller, request_id)
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{request_id}.csv"'},
        )

    @router.get(
        "/reports/sla",
        tags=["laporan"],
        summary="Laporan SLA per langkah dan per OPD: porsi tepat waktu, median, p90; lama "
        "seluruh permohonan",
        description="Waktu dalam menit kerja, atas permohonan yang diajukan dalam rentang "
        "submitted_from sampai sebelum submitted_to (wajib, dibatasi). Pemohon hanya melihat "
        "OPD-nya.",
    )
    async def sla_report(
        caller: Caller,
        submitted_from: Annotated[
            Instant, Query(description="Diajukan sejak (ISO 8601 dengan zona waktu); wajib")
        ],
        submitted_to: Annotated[
            Instant,
            Query(
                description="Diajukan sebelum (ISO 8601 dengan zona waktu); wajib, dan rentangnya "
                "paling panjang REPORTING_SLA_REPORT_MAX_DAYS hari (366)"
            ),
        ],
        opd: Annotated[OpdCode | None, Query(description="Hanya OPD ini")] = None,
    ) -> dict[str, Any]:
        return await queries().sla_report(caller, opd, submitted_from, submitted_to)

    @router.get(
        "/calendar/days",
        tags=["kalender"],
        summary="Kalender kerja setahun: libur nasional, cuti bersama, dan perubahan admin",
    )
    async def show_calendar(
        caller: Caller,
        year: Annotated[int, Query(ge=2000, le=2100, description="Tahun")],
    ) -> dict[str, Any]:
        return await calendar().show(year)

    @router.post(
        "/calendar/days",
        tags=["kalender"],
        summary="Tetapkan hari libur atau hari kerja (ADMIN); batas waktu SLA ikut berubah",
        responses={409: {"description": "Diubah bersamaan"}},
    )
    async def edit_day(body: DayEdit, caller: Caller, key: IdempotencyKey) -> JSONResponse:
        return (await calendar().edit(caller, body, key)).response()

    @router.delete(
        "/calendar/days/{day}",
        tags=["kalender"],
        summary="Batalkan perubahan kalender pada suatu hari (ADMIN)",
        responses={404: {"description": "Tidak ada perubahan pada hari itu (field day)"}},
    )
    async def remove_day(
        day: Annotated[Day, Path(description="Tanggal (YYYY-MM-DD)")],
        caller: Caller,
        key: IdempotencyKey,
    ) -> JSONResponse:
        return (await calendar().remove(caller, day, key)).response()

    return router
