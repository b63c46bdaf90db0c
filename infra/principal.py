"""Who is calling: what a verified token says. Pure, so domains may use it."""

from dataclasses import dataclass, field

from events.envelope import Actor, OnBehalfOf, Role


@dataclass(frozen=True)
class Principal:
    user_id: str
    name: str
    roles: frozenset[Role]
    opd: str | None = None
    delegations: tuple[OnBehalfOf, ...] = field(default=())
    """Roles this user may exercise now as Plt/Plh of another official."""

    def has_role(self, role: Role) -> bool:
        return role in self.roles or any(d.role == role for d in self.delegations)

    def acting_as(self, role: Role) -> Actor:
        """The event actor for acting in ``role``: own role first, else a delegation."""
        if role in self.roles:
            return Actor(user_id=self.user_id, role=role, opd=self.opd)
        for delegation in self.delegations:
            if delegation.role == role:
                return Actor(user_id=self.user_id, role=role, opd=self.opd, on_behalf_of=delegation)
        raise PermissionError(f"{self.user_id} cannot act as {role}")
