"""Who may see what in reporting. Pure.

- The case list and detail, and the SLA reports: the department's roles (KADIS, KABID_TI,
  TIM_PENGEMBANG), AUDITOR and ADMIN see every request; a requester (PEMOHON) only its own OPD's.
- The audit views (timeline, as-of, export): AUDITOR and the department's roles see every
  request; a requester its own OPD's; ADMIN, who runs the system but is no party to the SOP, does
  not.
- Calendar edits: ADMIN only.

A Plt/Plh holds the roles of its delegations (``Principal.has_role``).
"""

from events.envelope import Role
from infra.errors import NotAllowed
from infra.principal import Principal

DEPARTMENT: tuple[Role, ...] = ("KADIS", "KABID_TI", "TIM_PENGEMBANG")
SEES_EVERY_CASE: tuple[Role, ...] = (*DEPARTMENT, "AUDITOR", "ADMIN")
AUDITS_EVERY_CASE: tuple[Role, ...] = (*DEPARTMENT, "AUDITOR")


def _scope(principal: Principal, everyone: tuple[Role, ...], what: str) -> str | None:
    if any(principal.has_role(role) for role in everyone):
        return None
    if principal.has_role("PEMOHON") and principal.opd is not None:
        return principal.opd
    raise NotAllowed(f"Peran Anda tidak berwenang melihat {what}.")


def case_scope(principal: Principal) -> str | None:
    """None if ``principal`` sees every case, else the one OPD whose cases it sees (or 403)."""
    return _scope(principal, SEES_EVERY_CASE, "permohonan")


def audit_scope(principal: Principal) -> str | None:
    """Like ``case_scope`` for the audit views (timeline, as-of, export)."""
    return _scope(principal, AUDITS_EVERY_CASE, "riwayat audit permohonan")


def ensure_in_scope(scope: str | None, opd: str | None) -> None:
    """403 unless a case of ``opd`` is within ``scope`` (None: every case)."""
    if scope is not None and opd != scope:
        raise NotAllowed("Permohonan ini milik OPD lain.")


def ensure_admin(principal: Principal) -> None:
    if not principal.has_role("ADMIN"):
        raise NotAllowed("Hanya ADMIN yang boleh mengubah kalender kerja.")
