"""identity's HTTP API (thin: validate, call the use case, answer)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from infra.principal import Principal
from services.identity import domain
from services.identity.usecases import Identity, LoginFailed


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=128)


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


def build_router(identity: Identity, principal: Any, public_key: str) -> APIRouter:
    router = APIRouter()
    Caller = Annotated[Principal, Depends(principal)]

    @router.post("/login", response_model=Token, summary="Masuk: token bertanda tangan")
    async def login(body: Login) -> Token:
        try:
            return Token(access_token=await identity.login(body.username, body.password))
        except LoginFailed:
            raise HTTPException(401, "Nama pengguna atau kata sandi salah.") from None

    @router.get("/public-key", summary="Kunci publik untuk memverifikasi token")
    async def key() -> dict[str, str]:
        return {"algorithm": "EdDSA", "public_key": public_key}

    @router.get("/me", summary="Siapa saya menurut token")
    async def me(caller: Caller) -> dict[str, Any]:
        return await identity.user(caller.user_id)

    @router.post("/opds", status_code=201, summary="Daftarkan OPD (ADMIN)")
    async def register_opd(body: domain.RegisterOpd, caller: Caller) -> dict[str, Any]:
        return await identity.register_opd(caller, body)

    @router.get("/opds", summary="Daftar OPD")
    async def opds(caller: Caller) -> list[dict[str, Any]]:
        return await identity.opds()

    @router.post("/users", status_code=201, summary="Buat pengguna (ADMIN)")
    async def register_user(body: domain.RegisterUser, caller: Caller) -> dict[str, Any]:
        return await identity.register_user(caller, body)

    @router.get("/users", summary="Daftar pengguna (ADMIN, AUDITOR)")
    async def users(caller: Caller) -> list[dict[str, Any]]:
        if not (caller.has_role("ADMIN") or caller.has_role("AUDITOR")):
            raise HTTPException(403, "Hanya ADMIN atau AUDITOR.")
        return await identity.users()

    @router.get("/users/{user_id}", summary="Satu pengguna")
    async def user(user_id: str, caller: Caller) -> dict[str, Any]:
        if caller.user_id != user_id and not (
            caller.has_role("ADMIN") or caller.has_role("AUDITOR")
        ):
            raise HTTPException(403, "Hanya pengguna itu sendiri, ADMIN atau AUDITOR.")
        return await identity.user(user_id)

    @router.post("/users/{user_id}/roles", summary="Berikan peran (ADMIN)")
    async def grant(user_id: str, body: domain.GrantRole, caller: Caller) -> dict[str, Any]:
        return await identity.change_role(caller, user_id, body)

    @router.post("/users/{user_id}/roles/revoke", summary="Cabut peran (ADMIN)")
    async def revoke(user_id: str, body: domain.RevokeRole, caller: Caller) -> dict[str, Any]:
        return await identity.change_role(caller, user_id, body)

    return router
