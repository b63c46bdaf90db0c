"""approval's HTTP API (thin: validate, call the use case, answer). One POST per command under
``/requests/{request_id}/...``, whose body is the command's data; GET for one request and the
list."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse

from events.envelope import Role
from events.fields import RequestId
from infra.actions import Actions
from infra.idempotency import IdempotencyKey, Key
from infra.principal import Principal
from infra.webhook import Verified, parse_body, request_body_doc
from services.approval import commands as c
from services.approval.domain import Status
from services.approval.eoffice import (
    RETRY_AFTER_SECONDS,
    EofficeDispositions,
    InboundDisposition,
    NotYetKnown,
)
from services.approval.usecases import Approval

ANSWERS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Tanpa token atau token tidak sah"},
    403: {"description": "Peran (atau OPD pemohon) tidak berwenang"},
    404: {"description": "Permohonan tidak dikenal (field request_id)"},
    409: {"description": "Permohonan tidak berada pada langkah ini (current_step disebut)"},
    422: {"description": "Input tidak valid (field disebut)"},
}


def build_router(
    approval: Callable[[], Approval], principal: Callable[..., Awaitable[Principal]]
) -> APIRouter:
    router = APIRouter(prefix="/requests", tags=["persetujuan"], responses=ANSWERS)
    Caller = Annotated[Principal, Depends(principal)]
    Id = Annotated[RequestId, Path(description="Id permohonan (dari layanan intake)")]

    async def run(caller: Principal, command: c.ApprovalCommand, key: Key) -> JSONResponse:
        return (await approval().execute(caller, command, key)).response()

    @router.post("/{request_id}/dispose", summary="Langkah 3: disposisi ke Kabid TI (KADIS)")
    async def dispose(
        request_id: Id, body: c.DisposeData, caller: Caller, key: IdempotencyKey
    ) -> JSONResponse:
        return await run(caller, c.aimed_at(c.Dispose, request_id, body), key)

    @router.post(
        "/{request_id}/verify",
        summary="Langkah 4: nyatakan dokumen lengkap (KABID_TI)",
        description="Bagian yang masih kosong (lihat GET missing_sections) harus disebut persis "
        "dalam acknowledged_missing.",
    )
    async def verify(
        request_id: Id, body: c.VerifyDocumentsData, caller: Caller, key: IdempotencyKey
    ) -> JSONResponse:
        return await run(caller, c.aimed_at(c.VerifyDocuments, request_id, body), key)

    @router.post(
        "/{request_id}/return", summary="Langkah 4: kembalikan ke pemohon untuk revisi (KABID_TI)"
    )
    async def return_(
        request_id: Id, body: c.ReturnRequestData, caller: Caller, key: IdempotencyKey
    ) -> JSONResponse:
        return await run(caller, c.aimed_at(c.ReturnRequest, request_id, body), key)

    @router.post(
        "/{request_id}/meeting", summary="Langkah 5: catat rapat dan draf berita acara (KABID_TI)"
    )
    async def meeting(
        request_id: Id, body: c.RecordMeetingData, caller: Caller, key: IdempotencyKey
    ) -> JSONResponse:
        return await run(caller, c.aimed_at(c.RecordMeeting, request_id, body), key)

    @router.post(
        "/{request_id}/sign-minutes",
        summary="Langkah 6: catat penandatanganan berita acara (KABID_TI atau KADIS)",
        description="Penandatangan: KADIS dan/atau KABID_TI, serta pemohon (PEMOHON).",
    )
    async def sign_minutes(
        request_id: Id, body: c.SignMinutesData, caller: Caller, key: IdempotencyKey
    ) -> JSONResponse:
        return await run(caller, c.aimed_at(c.SignMinutes, request_id, body), key)

    @router.post("/{request_id}/assign", summary="Langkah 7: terbitkan surat tugas tim (KADIS)")
    async def assign(
        request_id: Id, body: c.AssignTeamData, caller: Caller, key: IdempotencyKey
    ) -> JSONResponse:
        return await run(caller, c.aimed_at(c.AssignTeam, request_id, body), key)

    @router.post("/{request_id}/reject", summary="Tolak permohonan dengan alasan (KADIS)")
    async def reject(
        request_id: Id, body: c.RejectRequestData, caller: Caller, key: IdempotencyKey
    ) -> JSONResponse:
        return await run(caller, c.aimed_at(c.RejectRequest, request_id, body), key)

    @router.get(
        "/{request_id}",
        summary="Keadaan permohonan: langkah, siapa yang harus bertindak, bagian yang kurang",
    )
    async def get(request_id: Id, caller: Caller) -> dict[str, Any]:
        return await approval().get(caller, request_id)

    @router.get(
        "/{request_id}/actions",
        response_model=Actions,
        summary="Tindakan yang boleh dilakukan pemanggil sekarang pada permohonan ini",
    )
    async def actions(request_id: Id, caller: Caller) -> Actions:
        return await approval().actions(caller, request_id)

    @router.get("", summary="Daftar permohonan (pemohon: hanya OPD-nya)")
    async def list_(
        caller: Caller,
        status: Annotated[Status | None, Query(description="Hanya status ini")] = None,
        waiting_on: Annotated[Role | None, Query(description="Yang menunggu peran ini")] = None,
        limit: Annotated[int, Query(ge=1, le=500, description="Paling banyak")] = 100,
    ) -> list[dict[str, Any]]:
        return await approval().list_requests(caller, status, waiting_on, limit)

    return router


DISPOSITIONS_ROUTE = "/eoffice/dispositions"
"""The e-office's dispositions webhook; signed as ``ROOT_PATH`` + this (``public_path``)."""


def build_eoffice_router(
    dispositions: Callable[[], EofficeDispositions],
    delivery: Callable[..., Awaitable[Verified]],
) -> APIRouter:
    """``POST /eoffice/dispositions``: authenticated by the webhook signature, not a bearer token
    (the contract: ``docs/eoffice-webhook.md``)."""
    router = APIRouter(tags=["e-office"])
    Signed = Annotated[Verified, Depends(delivery)]

    @router.post(
        DISPOSITIONS_ROUTE,
        status_code=201,
        summary="Disposisi dari e-office: langkah 3 oleh pejabat yang disebut, sekali per "
        "disposition_id",
        openapi_extra=request_body_doc(InboundDisposition, "The disposition, signed"),
        responses={
            200: {"description": "disposition_id ini sudah dicatat: jawaban yang sama"},
            401: {"description": "Tanda tangan atau timestamp tidak sah (header disebut)"},
            409: {"description": "Replay tanda tangan, atau permohonan tidak pada langkah 3"},
            413: {"description": "Isi melebihi batas"},
            422: {
                "description": "Isi tidak valid (field disebut), mis. disposed_by bukan KADIS "
                "atau Plt/Plh KADIS pada disposed_at; tidak ada yang dicatat"
            },
            425: {
                "description": "Permohonan, atau peran KADIS pejabatnya, belum sampai ke layanan "
                "ini: ulangi (Retry-After)"
            },
        },
    )
    async def disposition(signed: Signed) -> JSONResponse:
        inbound = parse_body(InboundDisposition, signed.body)
        try:
            status, body = await dispositions().accept(inbound, signed)
        except NotYetKnown as early:
            return JSONResponse(
                early.detail(),
                status_code=early.status,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        return JSONResponse(body, status_code=status)

    return router
