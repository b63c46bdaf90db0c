"""identity's HTTP API (thin: validate, call the use case, answer)."""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from events import policy
from events.fields import ONE_LINE, EntityId, UserId
from infra import access
from infra.auth import ACCESS, EXPIRED, NO_TOKEN, REFRESH, InvalidToken, TokenVerifier
from infra.idempotency import IdempotencyKey
from infra.principal import Principal
from services.identity import domain
from services.identity.usecases import Identity, LoginFailed, SessionExpired

_bearer = HTTPBearer(auto_error=False)


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64, pattern=ONE_LINE)
    password: str = Field(min_length=1, max_length=128)


class Token(BaseModel):
    access_token: str = Field(description="Sent as Authorization: Bearer; lives minutes")
    token_type: str = "bearer"
    refresh_token: str | None = Field(
        default=None,
        description="From login only: for token/refresh alone, until the session ends "
        "(12 hours after the password was entered)",
    )


def _locked(error: domain.LoginLocked) -> JSONResponse:
    return JSONResponse(
        status_code=error.status,
        content=error.detail(),
        headers={"Retry-After": str(error.retry_after)},
    )


LIST_USERS = policy.rule("identity", "ListUsers")
LIST_COLLEAGUES = policy.rule("identity", "ListColleagues")
GET_USER = policy.rule("identity", "GetUser")
LIST_DELEGATIONS = policy.rule("identity", "ListDelegations")
GET_DELEGATION = policy.rule("identity", "GetDelegation")


def build_router(
    identity: Identity, principal: Any, public_key: str, verifier: TokenVerifier
) -> APIRouter:
    router = APIRouter()
    Caller = Annotated[Principal, Depends(principal)]

    @router.post(
        "/login",
        response_model=Token,
        summary="Masuk: token bertanda tangan",
        responses={
            401: {"description": "Nama pengguna atau kata sandi salah"},
            429: {
                "description": "Terlalu banyak kegagalan: akun atau alamat dikunci sementara; "
                "header Retry-After memberi detik tunggu"
            },
        },
    )
    async def login(body: Login, request: Request) -> Token | JSONResponse:
        address = request.client.host if request.client else None
        try:
            token, renewal = await identity.login(body.username, body.password, address)
        except domain.LoginLocked as locked:
            return _locked(locked)
        except LoginFailed:
            return JSONResponse(
                status_code=401, content={"message": "Nama pengguna atau kata sandi salah."}
            )
        return Token(access_token=token, refresh_token=renewal)

    @router.post(
        "/token/refresh",
        response_model=Token,
        summary="Token baru dengan peran dan penugasan Plt/Plh saat ini (sesi yang sama)",
    )
    async def refresh(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Token:
        if credentials is None:
            raise InvalidToken(NO_TOKEN)
        claims = verifier.claims(credentials.credentials, uses=(ACCESS, REFRESH))
        auth_time = datetime.fromtimestamp(int(claims.get("auth_time", claims["iat"])), UTC)
        try:
            return Token(access_token=await identity.refresh(claims["sub"], auth_time))
        except SessionExpired:
            raise InvalidToken(EXPIRED) from None
        except LoginFailed:
            raise InvalidToken("Pengguna token ini tidak dikenal lagi: masuk lagi.") from None

    @router.get("/public-key", summary="Kunci publik untuk memverifikasi token")
    async def key() -> dict[str, str]:
        return {"algorithm": "EdDSA", "public_key": public_key}

    @router.get("/me", summary="Siapa saya menurut token")
    async def me(caller: Caller) -> dict[str, Any]:
        return {
            **await identity.user(caller.user_id),
            "delegations": [d.model_dump() for d in caller.delegations],
        }

    @router.post("/opds", status_code=201, summary="Daftarkan OPD (ADMIN)")
    async def register_opd(
        body: domain.RegisterOpd, caller: Caller, key: IdempotencyKey
    ) -> JSONResponse:
        return (await identity.register_opd(caller, body, key)).response()

    @router.get("/opds", summary="Daftar OPD")
    async def opds(caller: Caller) -> list[dict[str, Any]]:
        return await identity.opds()

    @router.post("/users", status_code=201, summary="Buat pengguna (ADMIN)")
    async def register_user(
        body: domain.RegisterUser, caller: Caller, key: IdempotencyKey
    ) -> JSONResponse:
        return (await identity.register_user(caller, body, key)).response()

    @router.get("/users", summary="Daftar pengguna (ADMIN, AUDITOR)")
    async def users(caller: Caller) -> list[dict[str, Any]]:
        access.authorize(caller, LIST_USERS)
        return await identity.users()

    @router.get(
        "/colleagues",
        summary="Daftar nama pegawai: nama, OPD dan peran (untuk memilih peserta, penanda "
        "tangan dan tim)",
    )
    async def colleagues(caller: Caller) -> list[dict[str, Any]]:
        access.authorize(caller, LIST_COLLEAGUES)
        return [
            {k: user[k] for k in ("user_id", "full_name", "opd", "roles")}
            for user in await identity.users()
        ]

    @router.get("/users/{user_id}", summary="Satu pengguna")
    async def user(user_id: UserId, caller: Caller) -> dict[str, Any]:
        access.require_scope(caller, GET_USER, access.Target(owners=frozenset({user_id})))
        return await identity.user(user_id)

    @router.post(
        "/users/{user_id}/profile",
        summary="Ubah data kepegawaian: nama, NIP, pangkat, jabatan (ADMIN)",
        description="Seluruh data sebagaimana berlaku sekarang (yang tidak dikirim dikosongkan); "
        "dokumen yang terbit sesudahnya memakainya, yang sudah terbit tidak berubah.",
    )
    async def update_profile(
        user_id: UserId, body: domain.UpdateProfile, caller: Caller, key: IdempotencyKey
    ) -> JSONResponse:
        return (await identity.update_profile(caller, user_id, body, key)).response()

    @router.post("/users/{user_id}/roles", summary="Berikan peran (ADMIN)")
    async def grant(
        user_id: UserId, body: domain.GrantRole, caller: Caller, key: IdempotencyKey
    ) -> JSONResponse:
        return (await identity.change_role(caller, user_id, body, key)).response()

    @router.post("/users/{user_id}/roles/revoke", summary="Cabut peran (ADMIN)")
    async def revoke(
        user_id: UserId, body: domain.RevokeRole, caller: Caller, key: IdempotencyKey
    ) -> JSONResponse:
        return (await identity.change_role(caller, user_id, body, key)).response()

    @router.post(
        "/users/{user_id}/unlock",
        summary="Buka kunci akun setelah percobaan masuk yang gagal (ADMIN)",
        description="Mencabut kunci akun dan melupakan percobaan masuk yang gagal, sehingga "
        "kunci berikutnya kembali dari yang terpendek. Tanpa perubahan bila tidak ada yang "
        "tercatat. Penahanan per alamat jaringan tidak ikut dicabut.",
    )
    async def unlock(user_id: UserId, caller: Caller, key: IdempotencyKey) -> JSONResponse:
        return (await identity.unlock_login(caller, user_id, key)).response()

    @router.post(
        "/delegations", status_code=201, summary="Tugaskan Plt/Plh untuk seorang pejabat (ADMIN)"
    )
    async def grant_delegation(
        body: domain.GrantDelegation, caller: Caller, key: IdempotencyKey
    ) -> JSONResponse:
        return (await identity.grant_delegation(caller, body, key)).response()

    @router.post("/delegations/{delegation_id}/end", summary="Akhiri penugasan Plt/Plh (ADMIN)")
    async def end_delegation(
        delegation_id: EntityId, body: domain.EndDelegation, caller: Caller, key: IdempotencyKey
    ) -> JSONResponse:
        return (await identity.end_delegation(caller, delegation_id, body, key)).response()

    @router.get("/delegations", summary="Daftar penugasan Plt/Plh (ADMIN, AUDITOR)")
    async def delegations(
        caller: Caller,
        user_id: Annotated[
            UserId | None, Query(description="Only those where this user is delegate or official")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[dict[str, Any]]:
        access.authorize(caller, LIST_DELEGATIONS)
        return await identity.delegations(user_id, limit)

    @router.get("/delegations/{delegation_id}", summary="Satu penugasan Plt/Plh")
    async def delegation(delegation_id: EntityId, caller: Caller) -> dict[str, Any]:
        found = await identity.delegation(delegation_id)
        parties = frozenset({found["delegate_user_id"], found["official_user_id"]})
        access.require_scope(caller, GET_DELEGATION, access.Target(owners=parties))
        return found

    return router
