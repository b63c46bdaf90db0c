"""dev_tracking's HTTP API (thin: the body is the command minus the ids the path gives)."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from events.fields import EntityId, RequestId
from infra.idempotency import IdempotencyKey
from infra.limits import MAX_OFFSET
from infra.principal import Principal
from services.dev_tracking.commands import (
    ManualBody,
    ProblemBody,
    ProgressBody,
    PublishManual,
    RecordProblem,
    RecordTestResult,
    RecordUat,
    ReportProgress,
    SolutionBody,
    SolveProblem,
    StartBody,
    StartDevelopment,
    TestResultBody,
    UatBody,
)
from services.dev_tracking.domain import DevActions
from services.dev_tracking.usecases import MAX_PAGE_SIZE, PAGE_SIZE, DevTracking

RequestPath = Annotated[RequestId, Path(description="Id permohonan")]
ProblemPath = Annotated[EntityId, Path(description="Id masalah, mis. P-1")]


class Outcome(BaseModel):
    """The answer to an accepted command."""

    request_id: str = Field(description="Id permohonan")
    event_ids: list[str] = Field(description="Id peristiwa baru, berurutan")
    state: dict[str, Any] = Field(description="Keadaan permohonan setelah perintah")


def build_router(tracking: Callable[[], DevTracking], principal: Any) -> APIRouter:
    router = APIRouter(prefix="/requests", tags=["pengembangan"])
    Caller = Annotated[Principal, Depends(principal)]

    @router.get(
        "",
        summary="Daftar permohonan dalam pengembangan, satu halaman",
        description="Terbaru diubah dulu; halaman berikutnya dengan offset.",
    )
    async def requests(
        caller: Caller,
        limit: Annotated[
            int, Query(ge=1, le=MAX_PAGE_SIZE, description="Paling banyak sekian permohonan")
        ] = PAGE_SIZE,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Lewati sebanyak ini")] = 0,
    ) -> list[dict[str, Any]]:
        return await tracking().list_requests(caller, limit, offset)

    @router.get("/{request_id}", summary="Keadaan pengembangan satu permohonan")
    async def show(request_id: RequestPath, caller: Caller) -> dict[str, Any]:
        return await tracking().get(caller, request_id)

    @router.get(
        "/{request_id}/actions",
        response_model=DevActions,
        summary="Tindakan yang boleh dilakukan pemanggil sekarang pada permohonan ini",
    )
    async def actions(request_id: RequestPath, caller: Caller) -> DevActions:
        return await tracking().actions(caller, request_id)

    @router.post(
        "/{request_id}/start",
        summary="Mulai pembangunan aplikasi (TIM_PENGEMBANG)",
        response_model=Outcome,
    )
    async def start(
        request_id: RequestPath, body: StartBody, caller: Caller, key: IdempotencyKey
    ) -> JSONResponse:
        cmd = StartDevelopment(request_id=request_id, **dict(body))
        return (await tracking().execute(caller, cmd, key)).response()

    @router.post(
        "/{request_id}/progress",
        summary="Laporkan kemajuan (TIM_PENGEMBANG)",
        response_model=Outcome,
    )
    async def progress(
        request_id: RequestPath, body: ProgressBody, caller: Caller, key: IdempotencyKey
    ) -> JSONResponse:
        cmd = ReportProgress(request_id=request_id, **dict(body))
        return (await tracking().execute(caller, cmd, key)).response()

    @router.post(
        "/{request_id}/problems", summary="Rekam masalah (TIM_PENGEMBANG)", response_model=Outcome
    )
    async def problem(
        request_id: RequestPath, body: ProblemBody, caller: Caller, key: IdempotencyKey
    ) -> JSONResponse:
        cmd = RecordProblem(request_id=request_id, **dict(body))
        return (await tracking().execute(caller, cmd, key)).response()

    @router.post(
        "/{request_id}/problems/{problem_id}/solve",
        summary="Rekam solusi masalah (TIM_PENGEMBANG)",
        response_model=Outcome,
    )
    async def solve(
        request_id: RequestPath,
        problem_id: ProblemPath,
        body: SolutionBody,
        caller: Caller,
        key: IdempotencyKey,
    ) -> JSONResponse:
        cmd = SolveProblem(request_id=request_id, problem_id=problem_id, **dict(body))
        return (await tracking().execute(caller, cmd, key)).response()

    @router.post(
        "/{request_id}/tests",
        summary="Rekam hasil uji sistem, unit atau integrasi (TIM_PENGEMBANG)",
        response_model=Outcome,
    )
    async def test(
        request_id: RequestPath, body: TestResultBody, caller: Caller, key: IdempotencyKey
    ) -> JSONResponse:
        cmd = RecordTestResult(request_id=request_id, **dict(body))
        return (await tracking().execute(caller, cmd, key)).response()

    @router.post(
        "/{request_id}/manual",
        summary="Terbitkan buku manual (TIM_PENGEMBANG)",
        response_model=Outcome,
    )
    async def manual(
        request_id: RequestPath, body: ManualBody, caller: Caller, key: IdempotencyKey
    ) -> JSONResponse:
        cmd = PublishManual(request_id=request_id, **dict(body))
        return (await tracking().execute(caller, cmd, key)).response()

    @router.post(
        "/{request_id}/uat",
        summary="Rekam hasil UAT: diterima atau ditolak (PEMOHON OPD peminta)",
        response_model=Outcome,
    )
    async def uat(
        request_id: RequestPath, body: UatBody, caller: Caller, key: IdempotencyKey
    ) -> JSONResponse:
        cmd = RecordUat(request_id=request_id, **dict(body))
        return (await tracking().execute(caller, cmd, key)).response()

    return router
