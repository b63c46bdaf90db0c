"""Who is who, as the documents need it: names with titles, NIP, rank and position, folded from
identity's events. Pure: the caller passes the events (those up to the document's instant, so
that the same events give the same papers)."""

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from events.base import DomainEvent
from events.identity import (
    OpdRegistered,
    RoleGranted,
    RoleRevoked,
    UserProfileChanged,
    UserRegistered,
)


@dataclass(frozen=True)
class Person:
    user_id: str
    full_name: str
    nip: str | None = None
    rank: str | None = None
    position: str | None = None
    opd: str | None = None
    roles: frozenset[str] = frozenset()


@dataclass
class People:
    """The directory at one instant: users by id and OPD names by code."""

    users: dict[str, Person] = field(default_factory=dict)
    opds: dict[str, str] = field(default_factory=dict)

    def apply(self, event: DomainEvent) -> None:
        match event:
            case UserRegistered():
                self.users[event.user_id] = Person(
                    event.user_id,
                    event.full_name,
                    event.nip,
                    event.rank,
                    event.position,
                    event.opd,
                )
            case UserProfileChanged():
                person = self.users.get(event.user_id)
                if person is not None:
                    self.users[event.user_id] = replace(
                        person,
                        full_name=event.full_name,
                        nip=event.nip,
                        rank=event.rank,
                        position=event.position,
                    )
            case RoleGranted() | RoleRevoked():
                person = self.users.get(event.user_id)
                if person is not None:
                    roles = set(person.roles)
                    (roles.add if isinstance(event, RoleGranted) else roles.discard)(event.role)
                    self.users[event.user_id] = replace(person, roles=frozenset(roles))
            case OpdRegistered():
                self.opds[event.code] = event.name
            case _:
                pass

    @classmethod
    def of(cls, events: Iterable[DomainEvent]) -> "People":
        people = cls()
        for event in events:
            people.apply(event)
        return people

    def copy(self) -> "People":
        """Another directory with the same people (each ``Person`` is immutable)."""
        return People(dict(self.users), dict(self.opds))

    def holders_of(self, role: str) -> list[Person]:
        """The users holding ``role``, by user id (a stable order)."""
        return sorted((p for p in self.users.values() if role in p.roles), key=lambda p: p.user_id)
