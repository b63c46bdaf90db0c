"""Who may see what intake holds. Pure: the policy, not the queries that apply it.

The roles of the IT department's workflow (KADIS, KABID_TI, TIM_PENGEMBANG) and the inspectorate
(AUDITOR) see every request; a requester (PEMOHON) sees only its own OPD's. ADMIN manages users
and sees no requests by that role alone.
"""

from events.envelope import Role
from infra.errors import NotAllowed
from infra.principal import Principal

SEES_ALL: frozenset[Role] = frozenset({"KADIS", "KABID_TI", "TIM_PENGEMBANG", "AUDITOR"})
"""Roles that see every request and every attachment."""


def sees_all(principal: Principal) -> bool:
    return any(principal.has_role(role) for role in SEES_ALL)


def own_opd(principal: Principal) -> str | None:
    """The OPD whose requests a requester sees, or ``None`` if the caller is no requester."""
    return principal.opd if principal.has_role("PEMOHON") else None


def may_see(principal: Principal, opd: str) -> bool:
    return sees_all(principal) or (own_opd(principal) is not None and own_opd(principal) == opd)


def require_sight(principal: Principal, request_id: str, opd: str) -> None:
    if not may_see(principal, opd):
        raise NotAllowed(
            f"Permohonan {request_id} milik OPD lain; pemohon hanya dapat melihat permohonan "
            "OPD-nya sendiri."
        )


def require_lister(principal: Principal) -> None:
    if not sees_all(principal) and own_opd(principal) is None:
        raise NotAllowed("Daftar permohonan hanya untuk pemohon, Kepala Dinas, Kabid TI, tim "
                         "pengembang dan auditor.")
