"""A signature block as Tata Naskah Dinas lays it out: an optional label (``PIHAK PERTAMA``,
``Mengetahui,``), ``a.n.`` and the superior's position where one signs for another, the position
(``Plt.``/``Plh.`` before it for an acting official), the name, rank and NIP."""

from dataclasses import dataclass

from events.envelope import OnBehalfOf
from services.documents.facts import MissingFact
from services.documents.people import Person


class MissingSignerData(ValueError):
    """A signer lacks what its block must show (the NIP of an official): the document fails,
    no number is taken, until the data is fixed and an admin retries it."""


ACTING = {"PLT": "Plt.", "PLH": "Plh."}


@dataclass(frozen=True)
class Positions:
    """The position printed for a role when the user's own is not recorded (tenant data)."""

    by_role: dict[str, str]

    def of(self, role: str, person: Person | None = None) -> str:
        if person is not None and person.position:
            return person.position
        return self.by_role.get(role, role)


OFFICIALS = frozenset({"KADIS", "KABID_TI"})
"""The roles whose signature must carry a NIP: structural officials (and whoever acts as one)."""


def block(
    person: Person | None,
    user_id: str,
    role: str,
    positions: Positions,
    *,
    on_behalf_of: OnBehalfOf | None = None,
    for_superior: str | None = None,
    label: str | None = None,
) -> dict[str, str | None]:
    """The block of ``person`` (``user_id``) signing in ``role``.

    ``on_behalf_of`` (from the event's actor or signatory): the person acts as Plt/Plh of the
    official's position, which is printed with the prefix. ``for_superior``: the role the
    person signs for (``a.n.`` and that role's position above the person's own)."""
    if person is None:
        raise MissingFact(f"penandatangan {user_id} belum dikenal (data identitas)")
    acting_role = on_behalf_of.role if on_behalf_of is not None else role
    official = acting_role in OFFICIALS or on_behalf_of is not None
    if official and not person.nip:
        raise MissingSignerData(f"NIP {person.full_name} ({user_id}) belum tercatat")
    if on_behalf_of is not None:
        position = f"{ACTING[on_behalf_of.kind]} {positions.of(on_behalf_of.role)}"
    else:
        position = positions.of(role, person)
    above = f"a.n. {positions.of(for_superior)}" if for_superior else None
    return {
        "label": label,
        "above": above,
        "position": position,
        "name": person.full_name,
        "rank": person.rank,
        "nip": person.nip,
    }
