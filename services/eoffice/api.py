"""eoffice's admin API (who may do what: ``events.policy``, ADMIN and AUDITOR read, ADMIN
re-sends): the deliveries by state or request, one delivery with its
attempts, and re-sending a parked one."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query
from fastapi.responses import JSONResponse

from events import policy
from events.fields import RequestId
from infra import access
from infra.idempotency import IdempotencyKey
from infra.principal import Principal
from infra.webhook import DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER
from services.eoffice.delivery import DeliveryNotFound, DeliveryState, StatusNotice
from services.eoffice.outbound import ATTEMPT_HEADER, EVENT_HEADER
from services.eoffice.usecases import Deliveries
from services.eoffice.views import DeliveryDetail, DeliveryList, ResendData

ANSWERS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Tanpa token atau token tidak sah"},
    403: {"description": "Peran tidak diizinkan (lihat docs/access-control.md)"},
    422: {"description": "Input tidak valid (field disebut)"},
}


def build_router(
    deliveries: Callable[[], Deliveries], principal: Callable[..., Awaitable[Principal]]
) -> APIRouter:
    router = APIRouter(prefix="/deliveries", tags=["pengiriman e-office"], responses=ANSWERS)

    def allowed(name: str) -> Any:
        """A dependency: the caller, authorized by the policy's rule ``name``."""
        rule = policy.rule("eoffice", name)

        async def authorized(caller: Annotated[Principal, Depends(principal)]) -> Principal:
            access.authorize(caller, rule)
            return caller

        return Depends(authorized)

    Reader = Annotated[Principal, allowed("ListDeliveries")]
    Detail = Annotated[Principal, allowed("GetDelivery")]
    Resender = Annotated[Principal, allowed("ResendDelivery")]
    Id = Annotated[UUID, Path(description="Id pengiriman (= id event CaseStatusChanged)")]

    @router.get("", summary="Daftar pengiriman status ke e-office (ADMIN, AUDITOR)")
    async def listed(
        _: Reader,
        state: Annotated[
            DeliveryState | None, Query(description="PENDING, DELIVERED atau PARKED")
        ] = None,
        request_id: Annotated[RequestId | None, Query(description="Hanya permohonan ini")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> DeliveryList:
        return await deliveries().list(state, request_id, limit, offset)

    @router.get(
        "/{delivery_id}",
        summary="Satu pengiriman, isinya dan setiap percobaannya (ADMIN, AUDITOR)",
        responses={404: {"description": "Pengiriman tidak dikenal (field delivery_id)"}},
    )
    async def one(delivery_id: Id, _: Detail) -> DeliveryDetail:
        found = await deliveries().get(delivery_id)
        if found is None:
            raise DeliveryNotFound(delivery_id)
        return found

    @router.post(
        "/{delivery_id}/resend",
        status_code=202,
        response_model=DeliveryDetail,
        summary="Kirim ulang pengiriman yang diparkir (ADMIN)",
        description="Pengiriman kembali ke antrean dengan jatah percobaan baru; perubahan "
        "berikutnya dari permohonan yang sama menyusul setelah yang ini diterima e-office.",
        responses={
            404: {"description": "Pengiriman tidak dikenal (field delivery_id)"},
            409: {"description": "Pengiriman tidak sedang diparkir (state disebut)"},
        },
    )
    async def resend(
        delivery_id: Id, caller: Resender, key: IdempotencyKey, body: ResendData | None = None
    ) -> JSONResponse:
        note = body.note if body is not None else None
        return (await deliveries().resend(caller, delivery_id, note, key)).response()

    return router


def document_webhook(app: FastAPI) -> None:
    """Declare, for the OpenAPI document only (``webhooks``), the request Jejak makes to the
    e-office's callback URL (docs/eoffice-webhook.md, "Outbound")."""

    def header(name: str, description: str) -> Any:
        return Header(alias=name, description=description)

    @app.webhooks.post(
        "caseStatusChanged",
        summary="Jejak memberi tahu e-office: status permohonan berubah",
        description="POST ke EOFFICE_CALLBACK_URL untuk setiap perubahan status, langkah atau "
        "peran yang harus bertindak, berurutan per permohonan (sequence 1, 2, 3...), paling "
        "sedikit sekali; jawab 2xx setelah disimpan, de-duplikasi dengan delivery_id.",
        status_code=204,
        responses={
            204: {"description": "Diterima (2xx apa pun); pengiriman selesai"},
            503: {"description": "Selain 2xx (atau tanpa jawaban): dicoba lagi dengan backoff"},
        },
    )
    def case_status_changed(
        body: StatusNotice,
        timestamp: Annotated[str, header(TIMESTAMP_HEADER, "Unix seconds when signed")],
        signature: Annotated[
            str,
            header(
                SIGNATURE_HEADER,
                "v2=<hex HMAC-SHA256(secret, f'{timestamp}\\n{path}\\n{body}')>, path the "
                "callback URL's; one comma-separated entry per secret while one is rotated",
            ),
        ],
        delivery: Annotated[
            str, header(DELIVERY_HEADER, "= body.delivery_id; the same on every attempt")
        ],
        attempt: Annotated[str, header(ATTEMPT_HEADER, "The attempt's number, from 1")],
        event: Annotated[str, header(EVENT_HEADER, "CaseStatusChanged")],
    ) -> None:
        """Documentation only: Jejak sends this, it does not serve it."""
