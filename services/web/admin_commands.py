"""The admin's forms: users, roles, OPDs, Plt/Plh, the working calendar, e-office deliveries.
Each names the service call it makes and builds its body from the form. Pure."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData

from services.web.formatting import from_local_input
from services.web.forms import chosen, text


@dataclass(frozen=True)
class AdminCommand:
    name: str
    section: str
    """The admin page it belongs to (``/admin/<section>``)."""
    service: str
    method: str
    path: Callable[[FormData], str]
    body: Callable[[FormData, str], dict[str, Any] | None]
    """(form, the office's time zone) -> the JSON body."""
    done: str
    """What the page says once it is done."""


def _instant(form: FormData, name: str, zone: str) -> str | None:
    value = text(form, name)
    try:
        return from_local_input(value, zone).isoformat() if value else None
    except ValueError:
        return value


def path_id(form: FormData, name: str) -> str:
    """A path segment from the form: only the characters ids are made of."""
    value = text(form, name) or "-"
    return "".join(c for c in value if c.isalnum() or c in "-_") or "-"


ADMIN_COMMANDS: tuple[AdminCommand, ...] = (
    AdminCommand(
        "RegisterUser",
        "pengguna",
        "identity",
        "POST",
        lambda f: "/users",
        lambda f, z: {
            "username": text(f, "username"),
            "password": text(f, "password"),
            "full_name": text(f, "full_name"),
            "nip": text(f, "nip"),
            "rank": text(f, "rank"),
            "position": text(f, "position"),
            "opd": text(f, "opd"),
            "roles": chosen(f, "roles"),
        },
        "Pengguna dibuat.",
    ),
    AdminCommand(
        "UpdateProfile",
        "pengguna",
        "identity",
        "POST",
        lambda f: f"/users/{path_id(f, 'user_id')}/profile",
        lambda f, z: {
            "full_name": text(f, "full_name"),
            "nip": text(f, "nip"),
            "rank": text(f, "rank"),
            "position": text(f, "position"),
        },
        "Data kepegawaian disimpan; dokumen yang terbit sesudahnya memakainya.",
    ),
    AdminCommand(
        "GrantRole",
        "pengguna",
        "identity",
        "POST",
        lambda f: f"/users/{path_id(f, 'user_id')}/roles",
        lambda f, z: {"role": text(f, "role")},
        "Peran diberikan.",
    ),
    AdminCommand(
        "RevokeRole",
        "pengguna",
        "identity",
        "POST",
        lambda f: f"/users/{path_id(f, 'user_id')}/roles/revoke",
        lambda f, z: {"role": text(f, "role"), "reason": text(f, "reason")},
        "Peran dicabut.",
    ),
    AdminCommand(
        "UnlockLogin",
        "pengguna",
        "identity",
        "POST",
        lambda f: f"/users/{path_id(f, 'user_id')}/unlock",
        lambda f, z: None,
        "Kunci akun dibuka; percobaan masuk yang gagal dilupakan.",
    ),
    AdminCommand(
        "RegisterOpd",
        "opd",
        "identity",
        "POST",
        lambda f: "/opds",
        lambda f, z: {"code": text(f, "code"), "name": text(f, "name")},
        "OPD didaftarkan.",
    ),
    AdminCommand(
        "GrantDelegation",
        "plt",
        "identity",
        "POST",
        lambda f: "/delegations",
        lambda f, z: {
            "delegate_user_id": text(f, "delegate_user_id"),
            "official_user_id": text(f, "official_user_id"),
            "role": text(f, "role"),
            "kind": text(f, "kind"),
            "valid_from": _instant(f, "valid_from", z),
            "valid_until": _instant(f, "valid_until", z),
            "reason": text(f, "reason"),
        },
        "Penugasan Plt/Plh dibuat. Yang ditugaskan perlu masuk ulang agar peran ini berlaku.",
    ),
    AdminCommand(
        "EndDelegation",
        "plt",
        "identity",
        "POST",
        lambda f: f"/delegations/{path_id(f, 'delegation_id')}/end",
        lambda f, z: {"reason": text(f, "reason")},
        "Penugasan Plt/Plh diakhiri.",
    ),
    AdminCommand(
        "EditCalendarDay",
        "kalender",
        "reporting",
        "POST",
        lambda f: "/calendar/days",
        lambda f, z: {
            "day": text(f, "day"),
            "off": text(f, "off") == "libur",
            "note": text(f, "note"),
        },
        "Kalender kerja diubah; batas waktu ikut dihitung ulang.",
    ),
    AdminCommand(
        "RemoveCalendarDay",
        "kalender",
        "reporting",
        "DELETE",
        lambda f: f"/calendar/days/{path_id(f, 'day')}",
        lambda f, z: None,
        "Perubahan kalender dibatalkan.",
    ),
    AdminCommand(
        "ResendDelivery",
        "eoffice",
        "eoffice",
        "POST",
        lambda f: f"/deliveries/{path_id(f, 'delivery_id')}/resend",
        lambda f, z: {"note": text(f, "note")} if text(f, "note") else None,
        "Pengiriman dimasukkan lagi ke antrean.",
    ),
)

ADMIN_BY_NAME = {command.name: command for command in ADMIN_COMMANDS}
