"""What an open notification stream may still serve, pure: the roles and Plt/Plh delegations of
its token, less those identity took away after the token was issued.

reporting learns of the changes from identity's events (``grants_store``): the latest
RoleGranted/RoleRevoked of each role of a user, and every delegation with its early end. A
change older than the token is no reason to stop: identity issued the token after it, with
what the user held then (and a grant the projection has not seen yet is never taken for a
loss)."""

from dataclasses import dataclass, replace
from datetime import datetime

from events.envelope import OnBehalfOf
from infra.principal import Principal

__all__ = ["Delegation", "RoleChange", "lost_anything", "still_held"]


@dataclass(frozen=True)
class RoleChange:
    """The latest grant or revocation of one role of the user."""

    role: str
    held: bool
    changed_at: datetime


@dataclass(frozen=True)
class Delegation:
    """One Plt/Plh delegation to the user."""

    official_user_id: str
    role: str
    kind: str
    valid_from: datetime
    valid_until: datetime
    ended_at: datetime | None = None

    def over_at(self) -> datetime:
        """When it stops (ended early, or its window's end)."""
        return self.valid_until if self.ended_at is None else min(self.ended_at, self.valid_until)

    def in_force(self, now: datetime) -> bool:
        return self.valid_from <= now < self.over_at()

    def acts_as(self, held: OnBehalfOf) -> bool:
        return (self.official_user_id, self.role, self.kind) == (held.user_id, held.role, held.kind)


def _delegation_lost(
    held: OnBehalfOf, known: list[Delegation], issued_at: datetime, now: datetime
) -> bool:
    """Lost when a delegation that gave it stopped since the token was issued and none that
    gives it is in force now."""
    giving = [d for d in known if d.acts_as(held)]
    if any(d.in_force(now) for d in giving):
        return False
    return any(issued_at <= d.over_at() <= now for d in giving)


def still_held(
    principal: Principal,
    issued_at: datetime,
    roles: list[RoleChange],
    delegations: list[Delegation],
    now: datetime,
) -> Principal:
    """``principal`` (what a token issued at ``issued_at`` carries) without the roles revoked
    and the delegations ended since then."""
    revoked = {c.role for c in roles if not c.held and c.changed_at >= issued_at}
    return replace(
        principal,
        roles=frozenset(r for r in principal.roles if r not in revoked),
        delegations=tuple(
            d for d in principal.delegations if not _delegation_lost(d, delegations, issued_at, now)
        ),
    )


def lost_anything(served: Principal, now_held: Principal) -> bool:
    """Whether ``now_held`` lacks a role or a delegation that ``served`` has."""
    return not (
        served.roles <= now_held.roles and set(served.delegations) <= set(now_held.delegations)
    )
