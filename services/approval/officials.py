"""Who may dispose as Head of Department (KADIS) at a given instant, pure: a user who holds KADIS
then, or who acts for one then (a Plt/Plh delegation of KADIS in force, its official holding
KADIS then), as identity's events say (``officials_store`` keeps them). The e-office names the
official of a disposition; this is how approval checks the name."""

from dataclasses import dataclass
from datetime import datetime

from events.envelope import OnBehalfOf, Role
from events.identity import DelegationGranted
from infra.principal import Principal

__all__ = ["Delegation", "RoleChange", "acting_official"]


@dataclass(frozen=True)
class RoleChange:
    """One RoleGranted (``held``) or RoleRevoked of a user, at its event's instant."""

    user_id: str
    role: str
    held: bool
    changed_at: datetime
    version: int
    """Its place in the user's stream: orders changes of one instant."""


@dataclass(frozen=True)
class Delegation:
    """One Plt/Plh delegation, with its early end (DelegationEnded), if any."""

    granted: DelegationGranted
    ended_at: datetime | None = None

    def in_force(self, at: datetime) -> bool:
        return self.granted.is_valid_at(at) and (self.ended_at is None or at < self.ended_at)


def holds(changes: list[RoleChange], user_id: str, role: str, at: datetime) -> bool:
    """Whether ``user_id`` held ``role`` at ``at``: its last grant or revocation until then."""
    until = [c for c in changes if (c.user_id, c.role) == (user_id, role) and c.changed_at <= at]
    return bool(until) and max(until, key=lambda c: (c.changed_at, c.version)).held


def acting_official(
    user_id: str,
    name: str,
    role: Role,
    at: datetime,
    changes: list[RoleChange],
    delegations: list[Delegation],
) -> Principal | None:
    """``user_id`` as a principal that may act in ``role`` at ``at`` (by its own role, else as
    Plt/Plh: the event's actor then carries ``on_behalf_of``), or None if it may not."""
    if holds(changes, user_id, role, at):
        return Principal(user_id=user_id, name=name, roles=frozenset({role}))
    acting = tuple(
        OnBehalfOf(user_id=d.official_user_id, role=role, kind=d.kind)
        for d in (delegation.granted for delegation in delegations if delegation.in_force(at))
        if (d.delegate_user_id, d.role) == (user_id, role)
        and holds(changes, d.official_user_id, role, at)
    )
    if not acting:
        return None
    return Principal(user_id=user_id, name=name, roles=frozenset(), delegations=acting[:1])
