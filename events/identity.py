"""Events emitted by the identity service (topic ``jejak.identity.events``).

Streams: one per OPD (stream id = the OPD code), one per user (the user id) and one per
delegation (the delegation id).
"""

from datetime import datetime
from typing import Literal, Self

from pydantic import AwareDatetime, Field, model_validator

from events.base import DomainEvent
from events.fields import EntityId, Name, Nip, OpdCode, Text, UserId

GrantableRole = Literal["PEMOHON", "KADIS", "KABID_TI", "TIM_PENGEMBANG", "ADMIN", "AUDITOR"]
"""The roles a user can hold (``SYSTEM`` in ``events.envelope.Role`` is for services only)."""

OfficialRole = Literal["KADIS", "KABID_TI"]
"""The structural positions (jabatan) an acting official can stand in for."""

DelegationKind = Literal["PLT", "PLH"]
"""Plt (Pelaksana Tugas): a vacant post, or a long absence; Plh (Pelaksana Harian): a short one."""


class OpdRegistered(DomainEvent):
    """An agency (Organisasi Perangkat Daerah) was registered."""

    code: OpdCode = Field(description="The OPD's short code in capitals, e.g. DINKES")
    name: Name = Field(description="The OPD's official name, e.g. Dinas Kesehatan")


class UserRegistered(DomainEvent):
    """A user account was created. Roles are granted by separate RoleGranted events.

    The password hash is not part of the event: identity keeps it in its own credentials table,
    so it never reaches a topic that is kept forever and read by other services."""

    user_id: UserId = Field(description="The new user's id")
    username: str = Field(
        min_length=3,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9._-]*$",
        description="Login name: lower-case letters, digits, '.', '_' or '-'",
    )
    full_name: Name = Field(description="Full name with titles as it appears on letters")
    nip: Nip | None = Field(
        default=None,
        description="18-digit civil-servant number (NIP); None for staff without one (honorer)",
    )
    opd: OpdCode | None = Field(
        default=None, description="The user's agency code; None for none (e.g. ADMIN, AUDITOR)"
    )
    rank: Name | None = Field(
        default=None,
        description="Pangkat and golongan as printed under a signature, e.g. Pembina Tk. I "
        "(IV/b); None if not recorded (documents then leave the line out)",
    )
    position: Name | None = Field(
        default=None,
        description="Jabatan as printed above a signature, e.g. Kepala Bidang Aplikasi "
        "Informatika; None: documents print the position of the role the user signs in",
    )


class UserProfileChanged(DomainEvent):
    """An ADMIN corrected or updated what documents print of a user (a promotion, a new
    position, a name's titles): the whole profile as it now stands."""

    user_id: UserId = Field(description="The user whose profile changed")
    full_name: Name = Field(description="Full name with titles as it appears on letters")
    nip: Nip | None = Field(default=None, description="18-digit NIP; None for none")
    rank: Name | None = Field(default=None, description="Pangkat and golongan; None if none")
    position: Name | None = Field(default=None, description="Jabatan; None: the role's")


class RoleGranted(DomainEvent):
    """A role was granted to a user."""

    user_id: UserId = Field(description="The user who now holds the role")
    role: GrantableRole = Field(description="The role granted")


class RoleRevoked(DomainEvent):
    """A role was taken from a user."""

    user_id: UserId = Field(description="The user who no longer holds the role")
    role: GrantableRole = Field(description="The role revoked")
    reason: Text = Field(description="Why the role was revoked")


class LoginUnlocked(DomainEvent):
    """An ADMIN lifted the lock (and forgot the failed logins) of a user's account."""

    user_id: UserId = Field(description="The user whose account was unlocked")
    locked_until: AwareDatetime | None = Field(
        description="When the lock lifted would have ended; None if the account was not locked "
        "but had failed logins counted"
    )
    failures: int = Field(ge=0, description="The failed logins counted and forgotten")


class DelegationGranted(DomainEvent):
    """An acting official (Plt/Plh) may act for an absent official during a period."""

    delegation_id: EntityId = Field(description="The delegation's id")
    delegate_user_id: UserId = Field(description="The acting official, who will act")
    official_user_id: UserId = Field(description="The absent official acted for")
    role: OfficialRole = Field(description="The official's role the delegate exercises")
    kind: DelegationKind = Field(description="PLT (Pelaksana Tugas) or PLH (Pelaksana Harian)")
    valid_from: AwareDatetime = Field(description="Start of the delegation (inclusive)")
    valid_until: AwareDatetime = Field(description="End of the delegation (exclusive)")
    reason: Text = Field(description="Why, e.g. the decree (SK/Surat Perintah) and the absence")

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        if self.delegate_user_id == self.official_user_id:
            raise ValueError("an official cannot delegate to himself")
        return self

    def is_valid_at(self, instant: datetime) -> bool:
        """Whether the delegation covers ``instant`` (ending early needs DelegationEnded)."""
        return self.valid_from <= instant < self.valid_until


class DelegationEnded(DomainEvent):
    """A delegation ended before its ``valid_until`` (the official returned, or it was revoked)."""

    delegation_id: EntityId = Field(description="The delegation that ended")
    reason: Text = Field(description="Why it ended")
