"""identity's use cases: load, decide (domain), then append and update the directory in one
transaction."""

import uuid
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError

from events.base import DomainEvent
from events.catalog import default_registry
from events.envelope import Actor, NewEvent
from events.identity import OpdRegistered, RoleGranted, RoleRevoked, UserRegistered
from infra.auth import TokenIssuer
from infra.db import Connection
from infra.errors import InvalidInput, NotFound
from infra.eventstore import PostgresEventStore
from infra.principal import Principal
from services.identity import domain

REGISTRY = default_registry()
HASHER = PasswordHasher()


class LoginFailed(Exception):
    """Wrong username or password (never says which)."""


@dataclass
class Identity:
    store: PostgresEventStore
    issuer: TokenIssuer
    tenant: str

    @property
    def _s(self) -> str:
        return self.store.schema

    async def _append(
        self,
        conn: Connection,
        stream_id: str,
        version: int,
        events: list[DomainEvent],
        actor: Actor,
    ) -> list[str]:
        correlation = uuid.uuid4()
        new = [
            NewEvent(
                event_type=e.event_type(),
                schema_version=e.schema_version,
                actor=actor,
                tenant=self.tenant,
                correlation_id=correlation,
                payload=e.model_dump(mode="json"),
            )
            for e in events
        ]
        sealed = await self.store.append(stream_id, version, new, conn=conn)
        for event in events:
            await self._project(conn, event)
        return [str(e.event_id) for e in sealed]

    async def _project(self, conn: Connection, event: DomainEvent) -> None:
        match event:
            case OpdRegistered():
                await conn.execute(
                    f"INSERT INTO {self._s}.opds VALUES ($1, $2)", event.code, event.name
                )
            case UserRegistered():
                await conn.execute(
                    f"INSERT INTO {self._s}.users (user_id, username, full_name, nip, opd) "
                    "VALUES ($1, $2, $3, $4, $5)",
                    event.user_id,
                    event.username,
                    event.full_name,
                    event.nip,
                    event.opd,
                )
            case RoleGranted():
                await conn.execute(
                    f"UPDATE {self._s}.users SET roles = array_append(roles, $2) "
                    "WHERE user_id = $1",
                    event.user_id,
                    event.role,
                )
            case RoleRevoked():
                await conn.execute(
                    f"UPDATE {self._s}.users SET roles = array_remove(roles, $2) "
                    "WHERE user_id = $1",
                    event.user_id,
                    event.role,
                )

    async def _user(self, conn: Connection, user_id: str) -> tuple[domain.UserState | None, int]:
        stream = await self.store.read_stream(f"user-{user_id}", conn=conn)
        events = [REGISTRY.load(e.event_type, e.schema_version, e.payload) for e in stream]
        return domain.fold_user(user_id, events), len(stream)

    async def register_opd(self, admin: Principal, cmd: domain.RegisterOpd) -> dict[str, Any]:
        async with self.store.pool.acquire() as conn, conn.transaction():
            exists = await conn.fetchval(f"SELECT 1 FROM {self._s}.opds WHERE code = $1", cmd.code)
            events = domain.register_opd(admin, cmd, bool(exists))
            ids = await self._append(conn, f"opd-{cmd.code}", 0, events, admin.acting_as("ADMIN"))
        return {"event_ids": ids, "opd": cmd.model_dump()}

    async def register_user(self, admin: Principal, cmd: domain.RegisterUser) -> dict[str, Any]:
        user_id = f"u-{uuid.uuid4().hex[:12]}"
        async with self.store.pool.acquire() as conn, conn.transaction():
            if await conn.fetchval(
                f"SELECT 1 FROM {self._s}.users WHERE username = $1", cmd.username
            ):
                raise InvalidInput(f"Nama pengguna {cmd.username} sudah dipakai.", "username")
            opd_exists = cmd.opd is not None and bool(
                await conn.fetchval(f"SELECT 1 FROM {self._s}.opds WHERE code = $1", cmd.opd)
            )
            events = domain.register_user(admin, cmd, user_id, opd_exists)
            ids = await self._append(conn, f"user-{user_id}", 0, events, admin.acting_as("ADMIN"))
            await conn.execute(
                f"INSERT INTO {self._s}.credentials (user_id, username, password_hash) "
                "VALUES ($1, $2, $3)",
                user_id,
                cmd.username,
                HASHER.hash(cmd.password),
            )
        return {"event_ids": ids, "user": await self.user(user_id)}

    async def change_role(
        self, admin: Principal, user_id: str, cmd: domain.GrantRole | domain.RevokeRole
    ) -> dict[str, Any]:
        async with self.store.pool.acquire() as conn, conn.transaction():
            user, version = await self._user(conn, user_id)
            events = (
                domain.grant_role(admin, user, cmd)
                if isinstance(cmd, domain.GrantRole)
                else domain.revoke_role(admin, user, cmd)
            )
            ids = await self._append(
                conn, f"user-{user_id}", version, events, admin.acting_as("ADMIN")
            )
        return {"event_ids": ids, "user": await self.user(user_id)}

    async def user(self, user_id: str) -> dict[str, Any]:
        row = await self.store.pool.fetchrow(
            f"SELECT user_id, username, full_name, nip, opd, roles FROM {self._s}.users "
            "WHERE user_id = $1",
            user_id,
        )
        if row is None:
            raise NotFound("Pengguna tidak ditemukan.")
        return {**dict(row), "roles": sorted(row["roles"])}

    async def users(self) -> list[dict[str, Any]]:
        rows = await self.store.pool.fetch(
            f"SELECT user_id, username, full_name, nip, opd, roles FROM {self._s}.users "
            "ORDER BY username"
        )
        return [{**dict(r), "roles": sorted(r["roles"])} for r in rows]

    async def opds(self) -> list[dict[str, Any]]:
        rows = await self.store.pool.fetch(f"SELECT code, name FROM {self._s}.opds ORDER BY code")
        return [dict(r) for r in rows]

    async def login(self, username: str, password: str) -> str:
        row = await self.store.pool.fetchrow(
            f"SELECT c.password_hash, u.user_id, u.full_name, u.opd, u.roles "
            f"FROM {self._s}.credentials c JOIN {self._s}.users u USING (user_id) "
            "WHERE c.username = $1",
            username,
        )
        try:
            if row is None:
                raise LoginFailed()
            HASHER.verify(row["password_hash"], password)
        except (VerifyMismatchError, InvalidHashError):
            raise LoginFailed() from None
        principal = Principal(
            user_id=row["user_id"],
            name=row["full_name"],
            roles=frozenset(row["roles"]),
            opd=row["opd"],
        )
        return self.issuer.issue(principal)
