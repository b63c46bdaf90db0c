"""The identity domain, pure: an admin's command and the user's past events give new events."""

from pydantic import BaseModel, ConfigDict, Field

from events.base import DomainEvent
from events.fields import Name, Nip, OpdCode, Text, UserId
from events.identity import GrantableRole, OpdRegistered, RoleGranted, RoleRevoked, UserRegistered
from infra.errors import InvalidInput, NotAllowed, NotFound
from infra.principal import Principal

Username = str


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RegisterOpd(Command):
    code: OpdCode = Field(description="The OPD's short code in capitals, e.g. DINKES")
    name: Name = Field(description="The OPD's official name")


class RegisterUser(Command):
    username: str = Field(
        min_length=3, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$", description="Login name"
    )
    password: str = Field(min_length=8, max_length=128, description="Initial password")
    full_name: Name = Field(description="Full name with titles")
    nip: Nip | None = Field(default=None, description="18-digit NIP, if any")
    opd: OpdCode | None = Field(default=None, description="The user's OPD code, if any")
    roles: tuple[GrantableRole, ...] = Field(
        default=(), max_length=6, description="Roles to grant at once"
    )


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


def fold_user(user_id: str, events: list[DomainEvent]) -> UserState | None:
    state: UserState | None = None
    for event in events:
        match event:
            case UserRegistered():
                state = UserState(user_id=event.user_id, opd=event.opd)
            case RoleGranted() if state:
                state = state.model_copy(update={"roles": state.roles | {event.role}})
            case RoleRevoked() if state:
                state = state.model_copy(update={"roles": state.roles - {event.role}})
    return state


def require_admin(principal: Principal) -> None:
    if not principal.has_role("ADMIN"):
        raise NotAllowed("Hanya ADMIN yang boleh mengelola pengguna dan hak akses.")


def register_opd(principal: Principal, cmd: RegisterOpd, exists: bool) -> list[DomainEvent]:
    require_admin(principal)
    if exists:
        raise InvalidInput(f"OPD {cmd.code} sudah terdaftar.", field="code")
    return [OpdRegistered(code=cmd.code, name=cmd.name)]


def register_user(
    principal: Principal, cmd: RegisterUser, user_id: str, opd_exists: bool
) -> list[DomainEvent]:
    require_admin(principal)
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
        )
    ]
    events += [RoleGranted(user_id=user_id, role=role) for role in dict.fromkeys(cmd.roles)]
    return events


def grant_role(principal: Principal, user: UserState | None, cmd: GrantRole) -> list[DomainEvent]:
    require_admin(principal)
    if user is None:
        raise NotFound("Pengguna tidak ditemukan.")
    if cmd.role in user.roles:
        return []
    if cmd.role == "PEMOHON" and user.opd is None:
        raise InvalidInput("Pemohon harus berasal dari sebuah OPD.", field="role")
    return [RoleGranted(user_id=user.user_id, role=cmd.role)]


def revoke_role(principal: Principal, user: UserState | None, cmd: RevokeRole) -> list[DomainEvent]:
    require_admin(principal)
    if user is None:
        raise NotFound("Pengguna tidak ditemukan.")
    if cmd.role not in user.roles:
        raise InvalidInput(f"Pengguna tidak memegang peran {cmd.role}.", field="role")
    if cmd.role == "ADMIN" and user.user_id == principal.user_id:
        raise InvalidInput("ADMIN tidak dapat mencabut peran ADMIN-nya sendiri.", field="role")
    return [RoleRevoked(user_id=user.user_id, role=cmd.role, reason=cmd.reason)]
