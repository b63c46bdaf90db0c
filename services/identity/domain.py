"""The identity domain, pure: an admin's command and the past events give new events; and the
rules of login throttling and token lifetimes, as functions of the instant given."""

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from events import policy
from events.base import DomainEvent
from events.envelope import OnBehalfOf
from events.fields import Instant, Name, Nip, OpdCode, Text, UserId
from events.identity import (
    DelegationEnded,
    DelegationGranted,
    DelegationKind,
    GrantableRole,
    LoginUnlocked,
    OfficialRole,
    OpdRegistered,
    RoleGranted,
    RoleRevoked,
    UserProfileChanged,
    UserRegistered,
)
from infra import access
from infra.errors import DomainError, InvalidInput, NotFound
from infra.principal import Principal

Username = str


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RegisterOpd(Command):
    code: OpdCode = Field(description="The OPD's short code in capitals, e.g. DINKES")
    name: Name = Field(description="The OPD's official name")


class Profile(Command):
    """What the official documents print of a user, besides its roles."""

    full_name: Name = Field(description="Full name with titles, as on letters")
    nip: Nip | None = Field(default=None, description="18-digit NIP, if any")
    rank: Name | None = Field(
        default=None, description="Pangkat and golongan, e.g. Pembina Tk. I (IV/b), if any"
    )
    position: Name | None = Field(
        default=None,
        description="Jabatan printed above the signature, if it differs from the role's",
    )


class RegisterUser(Profile):
    username: str = Field(
        min_length=3, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$", description="Login name"
    )
    password: str = Field(min_length=8, max_length=128, description="Initial password")
    opd: OpdCode | None = Field(default=None, description="The user's OPD code, if any")
    roles: tuple[GrantableRole, ...] = Field(
        default=(), max_length=6, description="Roles to grant at once"
    )


class UpdateProfile(Profile):
    """The whole profile as it should now stand (a field left out is cleared)."""


class GrantRole(Command):
    role: GrantableRole = Field(description="The role to grant")


class RevokeRole(Command):
    role: GrantableRole = Field(description="The role to revoke")
    reason: Text = Field(description="Why the role is revoked")


class UserState(BaseModel):
    model_config = ConfigDict(frozen=True)

    user_id: UserId
    opd: str | None = None
    roles: frozenset[str] = frozenset()
    profile: UpdateProfile | None = None


def fold_user(user_id: str, events: list[DomainEvent]) -> UserState | None:
    state: UserState | None = None
    for event in events:
        match event:
            case UserRegistered():
                state = UserState(user_id=event.user_id, opd=event.opd, profile=profile_of(event))
            case UserProfileChanged() if state:
                state = state.model_copy(update={"profile": profile_of(event)})
            case RoleGranted() if state:
                state = state.model_copy(update={"roles": state.roles | {event.role}})
            case RoleRevoked() if state:
                state = state.model_copy(update={"roles": state.roles - {event.role}})
    return state


def profile_of(event: UserRegistered | UserProfileChanged) -> UpdateProfile:
    return UpdateProfile(
        full_name=event.full_name, nip=event.nip, rank=event.rank, position=event.position
    )


def require(principal: Principal, command: str) -> None:
    """``NotAllowed`` unless ``principal`` may give identity's ``command`` (``events.policy``:
    ADMIN only, own role or as Plt/Plh). Checked before anything is looked up."""
    access.authorize(principal, policy.rule("identity", command))


def register_opd(principal: Principal, cmd: RegisterOpd, exists: bool) -> list[DomainEvent]:
    require(principal, "RegisterOpd")
    if exists:
        raise InvalidInput(f"OPD {cmd.code} sudah terdaftar.", field="code")
    return [OpdRegistered(code=cmd.code, name=cmd.name)]


def register_user(
    principal: Principal, cmd: RegisterUser, user_id: str, opd_exists: bool
) -> list[DomainEvent]:
    require(principal, "RegisterUser")
    if cmd.opd is not None and not opd_exists:
        raise InvalidInput(f"OPD {cmd.opd} tidak dikenal.", field="opd")
    if "PEMOHON" in cmd.roles and cmd.opd is None:
        raise InvalidInput("Pemohon harus berasal dari sebuah OPD.", field="opd")
    events: list[DomainEvent] = [
        UserRegistered(
            user_id=user_id,
            username=cmd.username,
            full_name=cmd.full_name,
            nip=cmd.nip,
            opd=cmd.opd,
            rank=cmd.rank,
            position=cmd.position,
        )
    ]
    events += [RoleGranted(user_id=user_id, role=role) for role in dict.fromkeys(cmd.roles)]
    return events


def update_profile(
    principal: Principal, user: UserState | None, cmd: UpdateProfile
) -> list[DomainEvent]:
    """The profile as ``cmd`` has it; nothing when it already stands so."""
    require(principal, "UpdateProfile")
    if user is None:
        raise NotFound("Pengguna tidak ditemukan.")
    if user.profile == cmd:
        return []
    return [UserProfileChanged(user_id=user.user_id, **cmd.model_dump())]


def grant_role(principal: Principal, user: UserState | None, cmd: GrantRole) -> list[DomainEvent]:
    require(principal, "GrantRole")
    if user is None:
        raise NotFound("Pengguna tidak ditemukan.")
    if cmd.role in user.roles:
        return []
    if cmd.role == "PEMOHON" and user.opd is None:
        raise InvalidInput("Pemohon harus berasal dari sebuah OPD.", field="role")
    return [RoleGranted(user_id=user.user_id, role=cmd.role)]


def revoke_role(principal: Principal, user: UserState | None, cmd: RevokeRole) -> list[DomainEvent]:
    require(principal, "RevokeRole")
    if user is None:
        raise NotFound("Pengguna tidak ditemukan.")
    if cmd.role not in user.roles:
        raise InvalidInput(f"Pengguna tidak memegang peran {cmd.role}.", field="role")
    if cmd.role == "ADMIN" and user.user_id == principal.user_id:
        raise InvalidInput("ADMIN tidak dapat mencabut peran ADMIN-nya sendiri.", field="role")
    return [RoleRevoked(user_id=user.user_id, role=cmd.role, reason=cmd.reason)]


def unlock_login(
    principal: Principal, user: UserState | None, attempts: "Attempts", now: datetime
) -> list[DomainEvent]:
    """Lift the account's lock and forget its failed logins; nothing when none are counted."""
    require(principal, "UnlockLogin")
    if user is None:
        raise NotFound("Pengguna tidak ditemukan.")
    if attempts.failures == 0 and attempts.locks == 0:
        return []
    return [
        LoginUnlocked(
            user_id=user.user_id, locked_until=attempts.locked_at(now), failures=attempts.failures
        )
    ]


# --- Delegation (Plt/Plh) -------------------------------------------------------------------

MAX_DELEGATION = timedelta(days=92)
"""The longest one grant may run (3 months); a longer absence is a new grant with its reason."""


class Conflict(DomainError):
    """The command clashes with what already happened (an overlapping or ended delegation): 409."""

    status = 409


class GrantDelegation(Command):
    delegate_user_id: UserId = Field(description="The acting official (Plt/Plh), who will act")
    official_user_id: UserId = Field(description="The official acted for; must hold `role`")
    role: OfficialRole = Field(description="The official's role the delegate exercises")
    kind: DelegationKind = Field(description="PLT (Pelaksana Tugas) or PLH (Pelaksana Harian)")
    valid_from: Instant = Field(description="Start of the delegation (inclusive), with zone")
    valid_until: Instant = Field(description="End of the delegation (exclusive), with zone")
    reason: Text = Field(
        max_length=2000, description="Why: the decree (Surat Perintah) and the absence"
    )


class EndDelegation(Command):
    reason: Text = Field(max_length=2000, description="Why it ends early")


class DelegationState(BaseModel):
    model_config = ConfigDict(frozen=True)

    granted: DelegationGranted
    ended: bool = False


def fold_delegation(events: list[DomainEvent]) -> DelegationState | None:
    state: DelegationState | None = None
    for event in events:
        match event:
            case DelegationGranted():
                state = DelegationState(granted=event)
            case DelegationEnded() if state:
                state = state.model_copy(update={"ended": True})
    return state


def grant_delegation(
    principal: Principal,
    cmd: GrantDelegation,
    delegation_id: str,
    delegate: UserState | None,
    official: UserState | None,
    overlapping: Sequence[str],
    now: datetime,
) -> list[DomainEvent]:
    """Grant ``cmd``; ``overlapping`` are the ids of delegations, not ended, whose window meets
    this one's, for the same role and the same official or the same delegate."""
    require(principal, "GrantDelegation")
    if delegate is None:
        raise InvalidInput("Pelaksana (delegate) tidak ditemukan.", field="delegate_user_id")
    if official is None:
        raise InvalidInput("Pejabat yang diwakili tidak ditemukan.", field="official_user_id")
    if delegate.user_id == official.user_id:
        raise InvalidInput("Pejabat tidak dapat mewakili dirinya sendiri.", "delegate_user_id")
    if cmd.role not in official.roles:
        raise InvalidInput(f"Pejabat yang diwakili tidak memegang peran {cmd.role}.", "role")
    if cmd.role in delegate.roles:
        raise InvalidInput(f"Pelaksana sudah memegang peran {cmd.role} sendiri.", "role")
    if cmd.valid_until <= cmd.valid_from:
        raise InvalidInput("Akhir masa tugas harus sesudah awalnya.", field="valid_until")
    if cmd.valid_until <= now:
        raise InvalidInput("Masa tugas itu sudah lewat.", field="valid_until")
    if cmd.valid_until - cmd.valid_from > MAX_DELEGATION:
        raise InvalidInput(
            "Masa tugas Plt/Plh paling lama 3 bulan sekali pemberian; perpanjangan dicatat "
            "sebagai pemberian baru.",
            field="valid_until",
        )
    if overlapping:
        raise Conflict(
            f"Masa tugas bertumpang tindih dengan penugasan {', '.join(overlapping)} untuk "
            f"peran {cmd.role}; akhiri yang lama lebih dahulu."
        )
    return [
        DelegationGranted(
            delegation_id=delegation_id,
            delegate_user_id=delegate.user_id,
            official_user_id=official.user_id,
            role=cmd.role,
            kind=cmd.kind,
            valid_from=cmd.valid_from,
            valid_until=cmd.valid_until,
            reason=cmd.reason,
        )
    ]


def end_delegation(
    principal: Principal, state: DelegationState | None, cmd: EndDelegation, now: datetime
) -> list[DomainEvent]:
    require(principal, "EndDelegation")
    if state is None:
        raise NotFound("Penugasan Plt/Plh tidak ditemukan.")
    if state.ended:
        raise Conflict("Penugasan Plt/Plh ini sudah diakhiri.")
    if now >= state.granted.valid_until:
        raise Conflict("Masa tugas Plt/Plh ini sudah habis dengan sendirinya.")
    return [DelegationEnded(delegation_id=state.granted.delegation_id, reason=cmd.reason)]


def on_behalf_of(granted: DelegationGranted) -> OnBehalfOf:
    """What a token carries, and an event's actor records, for a delegation."""
    return OnBehalfOf(user_id=granted.official_user_id, role=granted.role, kind=granted.kind)


# --- Tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenPolicy:
    max_session: timedelta = timedelta(hours=12)
    """How long after entering the password a refreshed token may still run."""
    delegated_ttl: timedelta = timedelta(hours=1)
    """The longest life of a token that carries a delegation, so that ending one early takes
    effect within this time (refresh gets a new token)."""


def token_not_after(
    now: datetime, auth_time: datetime, delegations_until: Sequence[datetime], policy: TokenPolicy
) -> datetime:
    """The latest instant a token issued ``now`` may expire: never past the session's end, nor,
    when it carries delegations, past the earliest one's ``valid_until`` or ``delegated_ttl``."""
    limits = [auth_time + policy.max_session, *delegations_until]
    if delegations_until:
        limits.append(now + policy.delegated_ttl)
    return min(limits)


# --- Login throttling -----------------------------------------------------------------------


@dataclass(frozen=True)
class ThrottleRule:
    max_failures: int
    """Failures that lock (the last of them included)."""
    lockout: timedelta
    """How long a lock lasts (the first one, if locks escalate)."""
    window: timedelta | None = None
    """Failures count within this time from the first; None: until a success (consecutive)."""
    max_lockout: timedelta | None = None
    """If set, each further lock lasts twice the one before, up to this; None: every lock
    lasts ``lockout``."""

    def lockout_after(self, locks: int) -> timedelta:
        """How long the lock lasts that follows ``locks`` earlier ones."""
        if self.max_lockout is None:
            return self.lockout
        return min(self.lockout * (1 << min(locks, 20)), max(self.max_lockout, self.lockout))


@dataclass(frozen=True)
class LoginPolicy:
    per_user: ThrottleRule = ThrottleRule(
        max_failures=5,
        lockout=timedelta(minutes=15),
        window=timedelta(days=1),
        max_lockout=timedelta(hours=24),
    )
    """Five failures in a row (a success resets the count) within a day lock the username: 15
    minutes, then 30, 60, ... up to a day for each further lock, until a success, an ADMIN's
    unlock, or a day without failures after the last lock ended."""
    per_address: ThrottleRule = ThrottleRule(
        max_failures=20, lockout=timedelta(minutes=15), window=timedelta(minutes=15)
    )
    """Twenty failures within 15 minutes hold back every login from the address."""
    forget_after: timedelta = timedelta(days=1)
    """Counters not touched for this long, and not locked for this long, are deleted; no
    shorter than the longest window, so deleting one never changes a decision but to start
    the locks' escalation over."""

    @classmethod
    def of(cls, lockout_minutes: int, max_lockout_minutes: int) -> "LoginPolicy":
        """The default policy with the per-account lock's first and longest length."""
        per_user = replace(
            cls.per_user,
            lockout=timedelta(minutes=lockout_minutes),
            max_lockout=timedelta(minutes=max(max_lockout_minutes, lockout_minutes)),
        )
        return cls(per_user=per_user)


@dataclass(frozen=True)
class Attempts:
    """The failed logins counted against one username or one client address."""

    failures: int = 0
    first_failure_at: datetime | None = None
    locked_until: datetime | None = None
    locks: int = 0
    """How many locks this counter has had (they escalate) since it was last reset."""

    def locked_at(self, now: datetime) -> datetime | None:
        """When the lock ends, if locked at ``now``."""
        return self.locked_until if self.locked_until and now < self.locked_until else None


def after_failure(attempts: Attempts, rule: ThrottleRule, now: datetime) -> Attempts:
    """The counter after one more failure at ``now``: a served lock or a window past starts a
    fresh count, but the locks had so far are remembered."""
    locks = attempts.locks
    if attempts.locked_until is not None and attempts.locked_until <= now:
        attempts = Attempts(locks=locks)
    first = attempts.first_failure_at
    if rule.window is not None and first is not None and now - first >= rule.window:
        attempts = Attempts(locks=locks)
    failures = attempts.failures + 1
    locking = failures >= rule.max_failures
    return Attempts(
        failures=failures,
        first_failure_at=attempts.first_failure_at or now,
        locked_until=now + rule.lockout_after(locks) if locking else None,
        locks=locks + 1 if locking else locks,
    )


class LoginLocked(DomainError):
    """Too many failed logins for the username or from the address: 429 with Retry-After."""

    status = 429

    def __init__(self, scope: Literal["user", "address"], until: datetime, now: datetime) -> None:
        self.scope = scope
        self.until = until
        self.retry_after = max(1, math.ceil((until - now).total_seconds()))
        minutes = math.ceil(self.retry_after / 60)
        wait = f"{minutes} menit" if minutes <= 90 else f"{math.ceil(minutes / 60)} jam"
        where = "untuk akun ini" if scope == "user" else "dari alamat jaringan ini"
        locked = "Akun dikunci sementara" if scope == "user" else "Masuk ditahan sementara"
        ask = ", atau minta admin membuka kuncinya" if scope == "user" else ""
        super().__init__(
            f"Terlalu banyak percobaan masuk yang gagal {where}. {locked}; coba lagi dalam "
            f"{wait}{ask}."
        )

    def detail(self) -> dict[str, object]:
        return {"message": self.message, "retry_after": self.retry_after}


def login_refusal(user: Attempts, address: Attempts, now: datetime) -> LoginLocked | None:
    """Why a login is refused before its password is even checked, if it is (the later lock
    when both the username and the address are locked)."""
    locks = []
    if (until := user.locked_at(now)) is not None:
        locks.append(LoginLocked("user", until, now))
    if (until := address.locked_at(now)) is not None:
        locks.append(LoginLocked("address", until, now))
    return max(locks, key=lambda lock: lock.until) if locks else None
