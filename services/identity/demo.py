"""Demo OPDs and one user per role, for `make run` and the walkthrough in the README."""

from events.identity import GrantableRole
from infra.principal import Principal
from services.identity import domain
from services.identity.usecases import Identity

DEMO_PASSWORD = "rahasia-demo"
SEED_ADMIN = Principal(user_id="system-seed", name="Seed", roles=frozenset({"ADMIN"}))

OPDS = [
    ("DINKES", "Dinas Kesehatan"),
    ("DISDIK", "Dinas Pendidikan"),
    ("DISKOMINFOSTANDI", "Dinas Komunikasi, Informatika, Statistik dan Persandian"),
]

USERS: list[tuple[str, str, str | None, tuple[GrantableRole, ...]]] = [
    ("pemohon.dinkes", "Siti Rahmah, S.KM.", "DINKES", ("PEMOHON",)),
    ("pemohon.disdik", "Agus Salim, S.Pd.", "DISDIK", ("PEMOHON",)),
    ("kadis", "Drs. Yohanes Ngabut, M.Si.", "DISKOMINFOSTANDI", ("KADIS",)),
    ("kabid.ti", "Rudi Hartono, S.Kom., M.T.", "DISKOMINFOSTANDI", ("KABID_TI",)),
    ("dev.lead", "Dewi Lestari, S.Kom.", "DISKOMINFOSTANDI", ("TIM_PENGEMBANG",)),
    ("dev.anggota", "Fajar Nugroho, S.T.", "DISKOMINFOSTANDI", ("TIM_PENGEMBANG",)),
    ("admin", "Admin Jejak", "DISKOMINFOSTANDI", ("ADMIN",)),
    ("auditor", "Inspektorat Kabupaten Katingan", None, ("AUDITOR",)),
]

NIPS = {
    "pemohon.dinkes": "198604122010012015",
    "pemohon.disdik": "198009242005011006",
    "kadis": "196805121994031004",
    "kabid.ti": "197703152002121003",
    "dev.lead": "199001102015032002",
    "dev.anggota": "199207182019031005",
}
"""The demo civil servants' NIP (made up, in the 18-digit form), which the signed documents
print under each signature."""

RANKS = {
    "pemohon.dinkes": "Penata Tk. I (III/d)",
    "pemohon.disdik": "Penata (III/c)",
    "kadis": "Pembina Utama Muda (IV/c)",
    "kabid.ti": "Pembina (IV/a)",
    "dev.lead": "Penata (III/c)",
    "dev.anggota": "Penata Muda Tk. I (III/b)",
}
"""Their pangkat and golongan, printed under the name (an ADMIN corrects them on the Admin
page, as a promotion comes)."""


async def seed(identity: Identity) -> list[str]:
    """Create the demo data once; returns the usernames created now."""
    if await identity.users():
        return []
    for code, name in OPDS:
        await identity.register_opd(SEED_ADMIN, domain.RegisterOpd(code=code, name=name))
    for username, full_name, opd, roles in USERS:
        await identity.register_user(
            SEED_ADMIN,
            domain.RegisterUser(
                username=username,
                password=DEMO_PASSWORD,
                full_name=full_name,
                nip=NIPS.get(username),
                rank=RANKS.get(username),
                opd=opd,
                roles=roles,
            ),
        )
    return [u[0] for u in USERS]
