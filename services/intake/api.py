"""intake's HTTP API (thin: validate, call the use case, answer)."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from events.fields import RequestId, Sha256Hex
from infra.actions import Actions
from infra.idempotency import IdempotencyKey
from infra.limits import MAX_OFFSET
from infra.principal import Principal
from infra.webhook import Verified, parse_body, request_body_doc
from services.intake.attachments import MAX_UPLOAD_BYTES
from services.intake.commands import (
    ReceiveDetails,
    ReceiveRequest,
    ReviseDetails,
    ReviseRequest,
    SubmitDetails,
    WithdrawDetails,
    WithdrawRequest,
)
from services.intake.domain import Status
from services.intake.eoffice import EofficeLetters, InboundLetter
from services.intake.usecases import Intake


class Accepted(BaseModel):
    request_id: str = Field(description="The request's id")
    event_ids: list[str] = Field(description="The ids of the events appended, in order")
    state: dict[str, Any] = Field(description="The request's new state")


class LetterAccepted(Accepted):
    letter_id: str = Field(description="The e-office's id of the letter")
    created: bool = Field(
        description="True (201) if this delivery created the request, False "
        "(200) if an earlier one had; event_ids is empty then"
    )


class Uploaded(BaseModel):
    """Always 201 with the caller's own description: whether the same bytes were stored
    before is nobody's business."""

    sha256: str = Field(description="SHA-256 of the bytes: reference the attachment by it")
    size_bytes: int = Field(description="Length in bytes")
    media_type: str = Field(description="The media type the caller gave (parameters dropped)")


RAW_UPLOAD: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": f"The file's bytes, at most {MAX_UPLOAD_BYTES} bytes; its media type in "
        "Content-Type",
        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def build_router(intake: Callable[[], Intake], principal: Any) -> APIRouter:
    router = APIRouter()
    Caller = Annotated[Principal, Depends(principal)]
    Use = Annotated[Intake, Depends(intake)]
    Id = Annotated[RequestId, Path(description="The request's id")]

    @router.post(
        "/attachments",
        status_code=201,
        response_model=Uploaded,
        summary="Unggah lampiran (PEMOHON): isi berkas mentah, jenisnya di Content-Type",
        openapi_extra=RAW_UPLOAD,
        responses={
            413: {"description": "Melebihi batas ukuran"},
            429: {
                "description": "Terlalu banyak unggahan bersamaan, atau kuota harian pengguna "
                "habis (limit disebut; header Retry-After memberi detik tunggu)"
            },
        },
    )
    async def upload(
        request: Request,
        caller: Caller,
        use: Use,
        content_type: Annotated[str, Header(max_length=255, description="The file's media type")],
        key: IdempotencyKey,
    ) -> JSONResponse:
        answer = await use.upload(
            caller, request.stream(), request.headers.get("content-length"), content_type, key
        )
        return answer.response()

    @router.get(
        "/attachments/{sha256}",
        response_class=Response,
        summary="Unduh lampiran (yang berhak melihat permohonan yang memuatnya)",
    )
    async def download(sha256: Annotated[Sha256Hex, Path()], caller: Caller, use: Use) -> Response:
        content, media_type = await use.download(caller, sha256)
        return Response(
            content,
            media_type=media_type,
            headers={
                "Content-Disposition": f'attachment; filename="{sha256}"',
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "private, max-age=31536000, immutable",
                "ETag": f'"{sha256}"',
            },
        )

    @router.post(
        "/requests",
        status_code=201,
        response_model=Accepted,
        summary="Ajukan permohonan pembangunan aplikasi (PEMOHON, langkah 1)",
    )
    async def submit(
        body: SubmitDetails, caller: Caller, use: Use, key: IdempotencyKey
    ) -> JSONResponse:
        return (await use.submit(caller, body, key)).response()

    @router.get("/requests", summary="Daftar permohonan (pemohon: hanya OPD-nya)")
    async def requests(
        caller: Caller,
        use: Use,
        status: Status | None = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> list[dict[str, Any]]:
        return await use.find(caller, status, limit, offset)

    @router.get("/requests/{request_id}", summary="Keadaan satu permohonan")
    async def get(request_id: Id, caller: Caller, use: Use) -> dict[str, Any]:
        return await use.get(caller, request_id)

    @router.get(
        "/requests/{request_id}/actions",
        response_model=Actions,
        summary="Tindakan yang boleh dilakukan pemanggil sekarang pada permohonan ini",
    )
    async def actions(request_id: Id, caller: Caller, use: Use) -> Actions:
        return await use.actions(caller, request_id)

    @router.post(
        "/requests/{request_id}/receive",
        response_model=Accepted,
        summary="Terima permohonan beserta dokumennya (KADIS, langkah 2)",
    )
    async def receive(
        request_id: Id,
        caller: Caller,
        use: Use,
        key: IdempotencyKey,
        body: ReceiveDetails | None = None,
    ) -> JSONResponse:
        command = ReceiveRequest(request_id=request_id, **dict(body or ReceiveDetails()))
        return (await use.execute(caller, command, key)).response()

    @router.post(
        "/requests/{request_id}/revise",
        response_model=Accepted,
        summary="Perbaiki permohonan yang dikembalikan (PEMOHON)",
    )
    async def revise(
        request_id: Id, body: ReviseDetails, caller: Caller, use: Use, key: IdempotencyKey
    ) -> JSONResponse:
        command = ReviseRequest(request_id=request_id, **dict(body))
        return (await use.execute(caller, command, key)).response()

    @router.post(
        "/requests/{request_id}/withdraw",
        response_model=Accepted,
        summary="Tarik permohonan yang masih terbuka (PEMOHON)",
    )
    async def withdraw(
        request_id: Id, body: WithdrawDetails, caller: Caller, use: Use, key: IdempotencyKey
    ) -> JSONResponse:
        command = WithdrawRequest(request_id=request_id, **dict(body))
        return (await use.execute(caller, command, key)).response()

    return router


LETTERS_ROUTE = "/eoffice/letters"
"""The e-office's letters webhook; signed as ``ROOT_PATH`` + this (``public_path``)."""


def build_eoffice_router(
    letters: Callable[[], EofficeLetters], delivery: Callable[..., Awaitable[Verified]]
) -> APIRouter:
    """``POST /eoffice/letters``: authenticated by the webhook signature, not a bearer token
    (the contract: ``docs/eoffice-webhook.md``)."""
    router = APIRouter(tags=["e-office"])
    Signed = Annotated[Verified, Depends(delivery)]

    @router.post(
        LETTERS_ROUTE,
        status_code=201,
        response_model=LetterAccepted,
        summary="Surat masuk dari e-office: menjadi permohonan (langkah 1 dan 2), sekali per "
        "letter_id",
        openapi_extra=request_body_doc(InboundLetter, "The incoming letter, signed"),
        responses={
            200: {"description": "letter_id ini sudah menjadi permohonan: id yang sama"},
            401: {"description": "Tanda tangan atau timestamp tidak sah (header disebut)"},
            409: {"description": "Tanda tangan yang sama sudah pernah diterima (replay)"},
            413: {"description": "Isi melebihi batas"},
            422: {"description": "Isi tidak valid (field disebut); tidak ada yang dibuat"},
        },
    )
    async def letter(signed: Signed) -> JSONResponse:
        inbound = parse_body(InboundLetter, signed.body)
        answer = await letters().accept(inbound, signed)
        return JSONResponse(answer.body, status_code=answer.status_code)

    return router
