"""The official documents (PDF) a request has produced, downloaded with the user's token, and
the public verification page a document's QR code links to: anyone holding the paper sees what
was issued under that id, and may upload a PDF to check that it is that document unchanged."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response

from services.web.backend import Refused
from services.web.forms import upload
from services.web.session import Session
from services.web.web import Web

DocumentPath = Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{32,36}$")]
MAX_PDF_BYTES = 25 * 1024 * 1024


def build(web: Web) -> APIRouter:
    router = APIRouter()

    @router.get("/dokumen/{document_id}.pdf")
    async def download(
        document_id: DocumentPath, session: Annotated[Session, Depends(web.session)]
    ) -> Response:
        answer = await web.backend.call(
            session.token, "documents", "GET", f"/documents/{document_id}.pdf"
        )
        return Response(
            answer.content,
            media_type="application/pdf",
            headers={
                "Content-Disposition": answer.headers.get(
                    "Content-Disposition", f'inline; filename="{document_id}.pdf"'
                )
            },
        )

    async def verification(document_id: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = await web.backend.get("", "documents", f"/verify/{document_id}")
        except Refused as refused:
            if refused.status == 404:
                return None
            raise
        return found

    @router.get("/verifikasi/{document_id}", response_class=HTMLResponse)
    async def show(request: Request, document_id: DocumentPath) -> HTMLResponse:
        found = await verification(document_id)
        return web.page(
            request, "verify.html", None, 200 if found else 404, document=found, result=None
        )

    @router.post("/verifikasi/{document_id}", response_class=HTMLResponse)
    async def check(request: Request, document_id: DocumentPath) -> HTMLResponse:
        """No session and nothing changes: a public comparison, like a hash calculator."""
        found = await verification(document_id)
        form = await request.form()
        file = upload(form, "berkas")
        result: dict[str, Any] | None = None
        error = ""
        if found is None:
            error = "Tidak ada dokumen terbit dengan kode ini."
        elif file is None:
            error = "Pilih berkas PDF yang akan dicocokkan."
        else:
            content = await file.read(MAX_PDF_BYTES + 1)
            try:
                answer = await web.backend.call(
                    None,
                    "documents",
                    "POST",
                    f"/verify/{document_id}",
                    content=content,
                    headers={"Content-Type": "application/pdf"},
                )
                result = answer.json()
            except Refused as refused:
                error = refused.message
        return web.page(
            request,
            "verify.html",
            None,
            422 if error else 200,
            document=found,
            result=result,
            error=error,
        )

    return router
