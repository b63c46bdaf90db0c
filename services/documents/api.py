"""documents' HTTP API (who may do what: ``events.policy``): a request's documents and their
PDFs (the readers of the request), the register (Buku Agenda), the failures and their retry
(ADMIN), and the public verification that the web app's /verifikasi/<id> page shows."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from events.documents import DocumentKind
from events.fields import RequestId
from infra.errors import InvalidInput
from infra.idempotency import IdempotencyKey
from infra.limits import BodyTooLarge
from infra.principal import Principal
from services.documents.queries import Documents
from services.documents.views import (
    CheckResult,
    DocumentList,
    Register,
    Retried,
    RetryData,
    Verification,
)

MAX_PDF_BYTES = 20 * 1024 * 1024
"""The largest PDF the public check accepts (20 MiB)."""

ANSWERS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Tanpa token atau token tidak sah"},
    403: {"description": "Peran tidak diizinkan (lihat docs/access-control.md)"},
    422: {"description": "Input tidak valid (field disebut)"},
}
PDF_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": f"Berkas PDF yang hendak dicocokkan, paling besar {MAX_PDF_BYTES} byte",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    }
}
Id = Annotated[UUID, Path(description="Id dokumen (dari kode QR atau daftar dokumen)")]


def build_router(
    documents: Callable[[], Documents], principal: Callable[..., Awaitable[Principal]]
) -> APIRouter:
    router = APIRouter(responses=ANSWERS)
    Caller = Annotated[Principal, Depends(principal)]

    @router.get(
        "/requests/{request_id}/documents",
        tags=["dokumen"],
        summary="Dokumen sebuah permohonan (yang berhak melihat permohonan)",
        responses={404: {"description": "Permohonan belum dikenal (field request_id)"}},
    )
    async def of_request(
        request_id: Annotated[RequestId, Path(description="Id permohonan")], caller: Caller
    ) -> DocumentList:
        return await documents().of_request(caller, request_id)

    @router.get(
        "/documents/{document_id}.pdf",
        tags=["dokumen"],
        response_class=Response,
        summary="Unduh PDF dokumen (yang berhak melihat permohonannya)",
        responses={
            200: {"content": {"application/pdf": {}}, "description": "PDF yang diterbitkan"},
            404: {"description": "Dokumen tidak ada atau belum terbit"},
        },
    )
    async def download(document_id: Id, caller: Caller) -> Response:
        pdf, name = await documents().pdf(caller, document_id)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @router.get(
        "/register",
        tags=["buku agenda"],
        summary="Buku Agenda: dokumen final yang terbit (ADMIN, AUDITOR, KADIS)",
    )
    async def register(
        caller: Caller,
        year: Annotated[int | None, Query(ge=1970, le=2100, description="Tahun")] = None,
        kind: Annotated[DocumentKind | None, Query(description="Jenis dokumen")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    ) -> Register:
        return await documents().register(caller, year, kind, limit, offset)

    @router.get(
        "/failures",
        tags=["buku agenda"],
        summary="Dokumen yang gagal dibuat, dengan alasannya (ADMIN, AUDITOR)",
    )
    async def failures(
        caller: Caller,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    ) -> DocumentList:
        return await documents().failures(caller, limit, offset)

    @router.post(
        "/documents/{document_id}/retry",
        tags=["buku agenda"],
        status_code=202,
        response_model=Retried,
        summary="Buat ulang dokumen yang gagal (ADMIN), setelah penyebabnya diperbaiki",
        responses={
            404: {"description": "Dokumen tidak dikenal (field document_id)"},
            409: {"description": "Dokumen tidak berstatus FAILED (state disebut)"},
        },
    )
    async def retry(
        document_id: Id, caller: Caller, key: IdempotencyKey, body: RetryData | None = None
    ) -> JSONResponse:
        note = body.note if body is not None else None
        return (await documents().retry(caller, document_id, note, key)).response()

    @router.get(
        "/verify/{document_id}",
        tags=["verifikasi publik"],
        summary="Verifikasi dokumen (publik, tanpa login): jenis, nomor, tanggal, penandatangan",
        responses={404: {"description": "Tidak ada dokumen terbit dengan id ini"}},
    )
    async def verify(document_id: Id) -> Verification:
        return await documents().verification(document_id)

    @router.post(
        "/verify/{document_id}",
        tags=["verifikasi publik"],
        summary="Cocokkan sebuah PDF dengan dokumen yang diterbitkan (publik, tanpa login)",
        openapi_extra=PDF_BODY,
        responses={
            404: {"description": "Tidak ada dokumen terbit dengan id ini"},
            413: {"description": "Berkas melebihi batas"},
            422: {"description": "Berkas kosong atau bukan PDF (field body)"},
        },
    )
    async def check(document_id: Id, request: Request) -> CheckResult:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_PDF_BYTES:
                raise BodyTooLarge(MAX_PDF_BYTES)
        if not body.startswith(b"%PDF-"):
            raise InvalidInput("Isi permintaan harus berkas PDF.", "body")
        return await documents().check(document_id, bytes(body))

    return router
