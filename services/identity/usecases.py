"""identity's use cases: load, decide (domain), then append and update the directory in one
transaction. Login is throttled per username and per client address with counters kept in
PostgreSQL; tokens carry the delegations in force when they are issued."""

import asyncio
import ipaddress
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

import asyncpg
import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from events.base import DomainEvent
from events.catalog import default_registry
from events.envelope import Actor, Envelope, NewEvent, OnBehalfOf, utc_now
from events.identity import (
    DelegationEnded,
    DelegationGranted,
    LoginUnlocked,
    OpdRegistered,
    RoleGranted,
    RoleRevoked,
    UserProfileChanged,
    UserRegistered,
)
from infra.auth import TokenIssuer
from infra.db import Connection
from infra.errors import InvalidInput, NotFound
from infra.eventstore import PostgresEventStore
from infra.idempotency import NO_KEY, Answer, Command, IdempotencyKeys, Key
from infra.principal import Principal
from services.identity import domain

REGISTRY = default_registry()
HASHER = PasswordHasher()
log = structlog.get_logger()

DELEGATION_COLUMNS = (
    "delegation_id, delegate_user_id, official_user_id, role, kind, valid_from, valid_until, "
    "reason, granted_by, granted_at, ended_at, ended_by, end_reason"
)

USER_COLUMNS = "user_id, username, full_name, nip, rank, position, opd, roles"
"""A user as the directory answers it."""


class LoginFailed(Exception):
    """Wrong username or password (never says which)."""


class SessionExpired(Exception):
    """A refresh asked for after the session's longest life (the password must be entered)."""


@cache
def _dummy_hash() -> str:
    """A hash to check unknown usernames against, so they take as long as known ones."""
    return HASHER.hash(uuid.uuid4().hex)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return HASHER.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def address_key(address: str | None) -> str:
    """The key client addresses are counted under: the address, an IPv6 one by its /64 (one
    host usually holds a whole /64), or "unknown"."""
    if not address:
        return "addr:unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"addr:{address[:100]}"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"addr:{ip.ipv4_mapped}"
        return f"addr:{ipaddress.IPv6Network((ip, 64), strict=False)}"
    return f"addr:{ip}"


def _status(row: asyncpg.Record, now: datetime) -> str:
    if row["ended_at"] is not None and row["ended_at"] < row["valid_until"]:
        return "ended"
    if now >= row["valid_until"]:
        return "expired"
    return "active" if now >= row["valid_from"] else "scheduled"


@dataclass
class Identity:
    store: PostgresEventStore
    issuer: TokenIssuer
    tenant: str
    keys: IdempotencyKeys
    login_policy: domain.LoginPolicy = field(default_factory=domain.LoginPolicy)
    token_policy: domain.TokenPolicy = field(default_factory=domain.TokenPolicy)
    clock: Callable[[], datetime] = utc_now

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
        now = self.clock()
        new = [
            NewEvent.of(
                e, occurred_at=now, actor=actor, tenant=self.tenant, correlation_id=correlation
            )
            for e in events
        ]
        sealed = await self.store.append(stream_id, version, new, conn=conn)
        for event, envelope in zip(events, sealed, strict=True):
            await self._project(conn, event, envelope)
        return [str(e.event_id) for e in sealed]

    async def _project(self, conn: Connection, event: DomainEvent, envelope: Envelope) -> None:
        match event:
            case OpdRegistered():
                await conn.execute(
                    f"INSERT INTO {self._s}.opds VALUES ($1, $2)", event.code, event.name
                )
            case UserRegistered():
                await conn.execute(
                    f"INSERT INTO {self._s}.users (user_id, username, full_name, nip, opd, rank, "
                    "position) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    event.user_id,
                    event.username,
                    event.full_name,
                    event.nip,
                    event.opd,
                    event.rank,
                    event.position,
                )
            case UserProfileChanged():
                await conn.execute(
                    f"UPDATE {self._s}.users SET full_name = $2, nip = $3, rank = $4, "
                    "position = $5 WHERE user_id = $1",
                    event.user_id,
                    event.full_name,
                    event.nip,
                    event.rank,
                    event.position,
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
            case DelegationGranted():
                await conn.execute(
                    f"INSERT INTO {self._s}.delegations (delegation_id, delegate_user_id, "
                    "official_user_id, role, kind, valid_from, valid_until, reason, granted_by, "
                    "granted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    event.delegation_id,
                    event.delegate_user_id,
                    event.official_user_id,
                    event.role,
                    event.kind,
                    event.valid_from,
                    event.valid_until,
                    event.reason,
                    envelope.actor.user_id,
                    envelope.occurred_at,
                )
            case LoginUnlocked():
                await conn.execute(
                    f"DELETE FROM {self._s}.login_attempts WHERE key = (SELECT 'user:' || "
                    f"username FROM {self._s}.users WHERE user_id = $1)",
                    event.user_id,
                )
            case DelegationEnded():
                await conn.execute(
                    f"UPDATE {self._s}.delegations SET ended_at = $2, ended_by = $3, "
                    "end_reason = $4 WHERE delegation_id = $1",
                    event.delegation_id,
                    envelope.occurred_at,
                    envelope.actor.user_id,
                    event.reason,
                )

    async def _user(self, conn: Connection, user_id: str) -> tuple[domain.UserState | None, int]:
        stream = await self.store.read_stream(f"user-{user_id}", conn=conn)
        events = [REGISTRY.load(e.event_type, e.schema_version, e.payload) for e in stream]
        return domain.fold_user(user_id, events), len(stream)

    async def _once(self, admin: Principal, key: Key, body: object, command: Command) -> Answer:
        return await self.keys.once(self.store.pool, admin.user_id, key, body, command)

    async def register_opd(
        self, admin: Principal, cmd: domain.RegisterOpd, key: Key = NO_KEY
    ) -> Answer:
        async def register(conn: Connection) -> dict[str, Any]:
            exists = await conn.fetchval(f"SELECT 1 FROM {self._s}.opds WHERE code = $1", cmd.code)
            events = domain.register_opd(admin, cmd, bool(exists))
            ids = await self._append(conn, f"opd-{cmd.code}", 0, events, admin.acting_as("ADMIN"))
            return {"event_ids": ids, "opd": cmd.model_dump()}

        return await self._once(admin, key, cmd, register)

    async def register_user(
        self, admin: Principal, cmd: domain.RegisterUser, key: Key = NO_KEY
    ) -> Answer:
        """A new user. The password is not part of what its key remembers: only its Argon2
        hash is ever stored."""
        domain.require(admin, "RegisterUser")  # before a username is looked up
        user_id = f"u-{uuid.uuid4().hex[:12]}"

        async def register(conn: Connection) -> dict[str, Any]:
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
                await asyncio.to_thread(HASHER.hash, cmd.password),
            )
            return {"event_ids": ids, "user": await self.user(user_id, conn)}

        return await self._once(admin, key, cmd.model_dump(exclude={"password"}), register)

    async def change_role(
        self,
        admin: Principal,
        user_id: str,
        cmd: domain.GrantRole | domain.RevokeRole,
        key: Key = NO_KEY,
    ) -> Answer:
        async def change(conn: Connection) -> dict[str, Any]:
            user, version = await self._user(conn, user_id)
            events = (
                domain.grant_role(admin, user, cmd)
                if isinstance(cmd, domain.GrantRole)
                else domain.revoke_role(admin, user, cmd)
            )
            ids = await self._append(
                conn, f"user-{user_id}", version, events, admin.acting_as("ADMIN")
            )
            return {"event_ids": ids, "user": await self.user(user_id, conn)}

        return await self._once(admin, key, cmd, change)

    async def update_profile(
        self, admin: Principal, user_id: str, cmd: domain.UpdateProfile, key: Key = NO_KEY
    ) -> Answer:
        async def update(conn: Connection) -> dict[str, Any]:
            user, version = await self._user(conn, user_id)
            events = domain.update_profile(admin, user, cmd)
            ids = await self._append(
                conn, f"user-{user_id}", version, events, admin.acting_as("ADMIN")
            )
            return {"event_ids": ids, "user": await self.user(user_id, conn)}

        return await self._once(admin, key, cmd, update)

    async def unlock_login(self, admin: Principal, user_id: str, key: Key = NO_KEY) -> Answer:
        """Lift the lock of ``user_id``'s account and forget its failed logins (its counter row
        is locked meanwhile, so a login racing the unlock is counted before or after it)."""
        domain.require(admin, "UnlockLogin")  # before anything is looked up

        async def unlock(conn: Connection) -> dict[str, Any]:
            user, version = await self._user(conn, user_id)
            username = await conn.fetchval(
                f"SELECT username FROM {self._s}.users WHERE user_id = $1", user_id
            )
            attempts = await self._attempts(conn, f"user:{username}", lock=True)
            events = domain.unlock_login(admin, user, attempts, self.clock())
            ids = await self._append(
                conn, f"user-{user_id}", version, events, admin.acting_as("ADMIN")
            )
            return {"event_ids": ids, "user": await self.user(user_id, conn)}

        return await self._once(admin, key, {"user_id": user_id}, unlock)

    async def user(self, user_id: str, db: Connection | None = None) -> dict[str, Any]:
        """The user, with ``login_locked_until`` (ISO text) while failed logins lock it."""
        row = await (db or self.store.pool).fetchrow(
            f"SELECT {USER_COLUMNS}, (SELECT a.locked_until FROM {self._s}.login_attempts a "
            f"WHERE a.key = 'user:' || {self._s}.users.username AND a.locked_until > $2) "
            f"AS login_locked_until FROM {self._s}.users WHERE user_id = $1",
            user_id,
            self.clock(),
        )
        if row is None:
            raise NotFound("Pengguna tidak ditemukan.")
        locked = row["login_locked_until"]
        return {
            **dict(row),
            "roles": sorted(row["roles"]),
            "login_locked_until": None if locked is None else locked.isoformat(),
        }

    async def users(self) -> list[dict[str, Any]]:
        rows = await self.store.pool.fetch(
            f"SELECT {USER_COLUMNS} FROM {self._s}.users ORDER BY username"
        )
        return [{**dict(r), "roles": sorted(r["roles"])} for r in rows]

    async def opds(self) -> list[dict[str, Any]]:
        rows = await self.store.pool.fetch(f"SELECT code, name FROM {self._s}.opds ORDER BY code")
        return [dict(r) for r in rows]

    # --- Delegations (Plt/Plh) ---------------------------------------------------------------

    async def grant_delegation(
        self, admin: Principal, cmd: domain.GrantDelegation, key: Key = NO_KEY
    ) -> Answer:
        domain.require(admin, "GrantDelegation")  # before any row is locked
        delegation_id = f"d-{uuid.uuid4().hex[:12]}"

        async def grant(conn: Connection) -> dict[str, Any]:
            # Grants for one official (or one delegate) wait for each other, so that two
            # concurrent grants cannot both miss the other's window.
            for user_id in sorted({cmd.official_user_id, cmd.delegate_user_id}):
                await conn.execute(
                    f"SELECT 1 FROM {self._s}.users WHERE user_id = $1 FOR UPDATE", user_id
                )
            delegate, _ = await self._user(conn, cmd.delegate_user_id)
            official, _ = await self._user(conn, cmd.official_user_id)
            overlapping = await conn.fetch(
                f"SELECT delegation_id FROM {self._s}.delegations WHERE role = $1 "
                "AND (official_user_id = $2 OR delegate_user_id = $3) "
                "AND valid_from < $5 AND $4 < LEAST(valid_until, COALESCE(ended_at, valid_until)) "
                "AND valid_from < LEAST(valid_until, COALESCE(ended_at, valid_until)) "
                "ORDER BY valid_from",
                cmd.role,
                cmd.official_user_id,
                cmd.delegate_user_id,
                cmd.valid_from,
                cmd.valid_until,
            )
            events = domain.grant_delegation(
                admin,
                cmd,
                delegation_id,
                delegate,
                official,
                [r["delegation_id"] for r in overlapping],
                self.clock(),
            )
            ids = await self._append(
                conn, f"delegation-{delegation_id}", 0, events, admin.acting_as("ADMIN")
            )
            return {"event_ids": ids, "delegation": await self.delegation(delegation_id, conn)}

        return await self._once(admin, key, cmd, grant)

    async def end_delegation(
        self, admin: Principal, delegation_id: str, cmd: domain.EndDelegation, key: Key = NO_KEY
    ) -> Answer:
        stream_id = f"delegation-{delegation_id}"

        async def end(conn: Connection) -> dict[str, Any]:
            stream = await self.store.read_stream(stream_id, conn=conn)
            past = [REGISTRY.load(e.event_type, e.schema_version, e.payload) for e in stream]
            state = domain.fold_delegation(past)
            events = domain.end_delegation(admin, state, cmd, self.clock())
            ids = await self._append(conn, stream_id, len(stream), events, admin.acting_as("ADMIN"))
            return {"event_ids": ids, "delegation": await self.delegation(delegation_id, conn)}

        return await self._once(admin, key, cmd, end)

    async def delegation(self, delegation_id: str, db: Connection | None = None) -> dict[str, Any]:
        row = await (db or self.store.pool).fetchrow(
            f"SELECT {DELEGATION_COLUMNS} FROM {self._s}.delegations WHERE delegation_id = $1",
            delegation_id,
        )
        if row is None:
            raise NotFound("Penugasan Plt/Plh tidak ditemukan.")
        return {**dict(row), "status": _status(row, self.clock())}

    async def delegations(
        self, user_id: str | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        """Delegations, newest first; with ``user_id``, those where it is delegate or official."""
        rows = await self.store.pool.fetch(
            f"SELECT {DELEGATION_COLUMNS} FROM {self._s}.delegations "
            "WHERE $1::text IS NULL OR delegate_user_id = $1 OR official_user_id = $1 "
            "ORDER BY valid_from DESC, delegation_id LIMIT $2",
            user_id,
            limit,
        )
        now = self.clock()
        return [{**dict(r), "status": _status(r, now)} for r in rows]

    async def _delegations_in_force(
        self, conn: Connection, user_id: str, now: datetime
    ) -> list[asyncpg.Record]:
        """The delegations ``user_id`` holds at ``now``, whose official still holds the role."""
        return await conn.fetch(
            f"SELECT d.official_user_id, d.role, d.kind, d.valid_until "
            f"FROM {self._s}.delegations d JOIN {self._s}.users o "
            "ON o.user_id = d.official_user_id AND d.role = ANY(o.roles) "
            "WHERE d.delegate_user_id = $1 AND d.ended_at IS NULL "
            "AND d.valid_from <= $2 AND $2 < d.valid_until ORDER BY d.valid_until, d.role",
            user_id,
            now,
        )

    # --- Tokens ------------------------------------------------------------------------------

    async def _issue(self, conn: Connection, user_id: str, auth_time: datetime) -> str:
        """A token with the user's roles and the delegations in force now, expiring no later
        than the earliest of their ends."""
        now = self.clock()
        row = await conn.fetchrow(
            f"SELECT full_name, opd, roles FROM {self._s}.users WHERE user_id = $1", user_id
        )
        if row is None:
            raise LoginFailed()
        delegations = await self._delegations_in_force(conn, user_id, now)
        principal = Principal(
            user_id=user_id,
            name=row["full_name"],
            roles=frozenset(row["roles"]),
            opd=row["opd"],
            delegations=tuple(
                OnBehalfOf(user_id=d["official_user_id"], role=d["role"], kind=d["kind"])
                for d in delegations
            ),
        )
        not_after = domain.token_not_after(
            now, auth_time, [d["valid_until"] for d in delegations], self.token_policy
        )
        if not_after <= now:
            raise SessionExpired()
        return self.issuer.issue(principal, now, not_after=not_after, auth_time=auth_time)

    async def refresh(self, user_id: str, auth_time: datetime) -> str:
        """A new token for a holder of a valid one: today's roles and delegations, the same
        session (it ends ``max_session`` after the password was entered)."""
        async with self.store.pool.acquire() as conn:
            return await self._issue(conn, user_id, auth_time)

    # --- Login -------------------------------------------------------------------------------

    async def _attempts(self, conn: Connection, key: str, lock: bool = False) -> domain.Attempts:
        row = await conn.fetchrow(
            f"SELECT failures, first_failure_at, locked_until, locks "
            f"FROM {self._s}.login_attempts WHERE key = $1" + (" FOR UPDATE" if lock else ""),
            key,
        )
        return domain.Attempts(**dict(row)) if row else domain.Attempts()

    async def _save_attempts(
        self, conn: Connection, key: str, attempts: domain.Attempts, now: datetime
    ) -> None:
        await conn.execute(
            f"INSERT INTO {self._s}.login_attempts AS a "
            "(key, failures, first_failure_at, locked_until, locks, updated_at) "
            "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO UPDATE SET "
            "failures = $2, first_failure_at = $3, locked_until = $4, locks = $5, updated_at = $6",
            key,
            attempts.failures,
            attempts.first_failure_at,
            attempts.locked_until,
            attempts.locks,
            now,
        )

    async def _locked_attempts(self, conn: Connection, key: str, now: datetime) -> domain.Attempts:
        """The counter of ``key``, its row created if need be and locked until the transaction
        ends: logins that count against one key are decided one after the other."""
        await conn.execute(
            f"INSERT INTO {self._s}.login_attempts (key, updated_at) VALUES ($1, $2) "
            "ON CONFLICT (key) DO NOTHING",
            key,
            now,
        )
        return await self._attempts(conn, key, lock=True)

    async def login(
        self, username: str, password: str, address: str | None = None
    ) -> tuple[str, str]:
        """An access token and a refresh token for the right password, unless the username or
        the client address is locked out (``domain.LoginLocked``, checked first: a right
        password does not lift a lock).

        The username's counter row, then the address's, are locked for the whole attempt (always
        in that order, so two logins never wait on each other in a cycle): guesses at one
        account, or from one address, are checked and counted one after the other however many
        arrive at once."""
        now = self.clock()
        user_key, addr_key = f"user:{username}", address_key(address)
        refusal: domain.LoginLocked | None = None
        token: str | None = None
        renewal = ""
        async with self.store.pool.acquire() as conn, conn.transaction():
            user = await self._locked_attempts(conn, user_key, now)
            origin = await self._locked_attempts(conn, addr_key, now)
            refusal = domain.login_refusal(user, origin, now)
            if refusal is None:
                row = await conn.fetchrow(
                    f"SELECT user_id, password_hash FROM {self._s}.credentials WHERE username = $1",
                    username,
                )
                hashed = row["password_hash"] if row else None
                if await asyncio.to_thread(_verify, hashed, password) and row is not None:
                    await conn.execute(
                        f"DELETE FROM {self._s}.login_attempts WHERE key = $1", user_key
                    )
                    token = await self._issue(conn, row["user_id"], now)
                    renewal = self.issuer.issue_refresh(
                        row["user_id"], now, now, now + self.token_policy.max_session
                    )
                else:
                    await self._count_failure(conn, (user_key, user), (addr_key, origin), now)
        if refusal is not None:
            log.warning(
                "login refused: locked",
                username=username,
                address=addr_key,
                scope=refusal.scope,
                until=refusal.until.isoformat(),
            )
            raise refusal
        if token is None:
            raise LoginFailed()
        return token, renewal

    async def _count_failure(
        self,
        conn: Connection,
        by_user: tuple[str, domain.Attempts],
        by_addr: tuple[str, domain.Attempts],
        now: datetime,
    ) -> None:
        """Count one failure against both locked counters."""
        policy = self.login_policy
        (user_key, user), (addr_key, address) = by_user, by_addr
        counted = domain.after_failure(user, policy.per_user, now)
        await self._save_attempts(conn, user_key, counted, now)
        by_address = domain.after_failure(address, policy.per_address, now)
        await self._save_attempts(conn, addr_key, by_address, now)
        for key, before, after in ((user_key, user, counted), (addr_key, address, by_address)):
            if after.locked_until is not None and before.locked_at(now) is None:
                log.warning("login locked out", key=key, until=after.locked_until.isoformat())
        # Forget stale counters (a day after their last failure and their lock's end); rows
        # another login holds are skipped (never waited for).
        await conn.execute(
            f"DELETE FROM {self._s}.login_attempts WHERE key IN (SELECT key FROM "
            f"{self._s}.login_attempts WHERE updated_at < $1 "
            "AND (locked_until IS NULL OR locked_until <= $1) FOR UPDATE SKIP LOCKED)",
            now - policy.forget_after,
        )

    async def accounts_with_password(self, usernames: Iterable[str], password: str) -> list[str]:
        """Which of ``usernames`` still have ``password`` (production refuses demo passwords)."""
        rows = await self.store.pool.fetch(
            f"SELECT username, password_hash FROM {self._s}.credentials "
            "WHERE username = ANY($1::text[]) ORDER BY username",
            list(usernames),
        )
        return [
            r["username"]
            for r in rows
            if await asyncio.to_thread(_verify, r["password_hash"], password)
        ]
