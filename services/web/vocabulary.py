"""The words the web app shows for the codes the services speak (statuses, roles, kinds), in
Indonesian, as the office says them (``../shared/UI.md``)."""

from events.completeness import SECTION_LABELS
from events.labels import EVENT_LABELS
from events.steps import STEPS, TEST_STEP, step

ROLES = {
    "PEMOHON": "Pemohon (OPD)",
    "KADIS": "Kepala Dinas",
    "KABID_TI": "Kepala Bidang TI",
    "TIM_PENGEMBANG": "Tim Pengembang",
    "ADMIN": "Admin",
    "AUDITOR": "Inspektorat",
    "SYSTEM": "Sistem",
}

STATUSES = {
    "ABSENT": "Belum diajukan",
    "OPEN": "Berjalan",
    "RETURNED": "Dikembalikan untuk Perbaikan",
    "REJECTED": "Ditolak",
    "WITHDRAWN": "Ditarik",
    "COMPLETED": "Selesai",
}

STEP_LABELS = {s.code: s.label_id for s in STEPS}

STEP_NAMES = {s.code: s.name_id for s in STEPS}
"""A step's short name, for the progress line and the lists (the SOP's own label is long)."""

TEST_KINDS = {kind: step(code).name_id for kind, code in TEST_STEP.items()}
TEST_RESULTS = {"PASSED": "Lulus", "FAILED": "Gagal"}
UAT_RESULTS = {"ACCEPTED": "Diterima", "REJECTED": "Ditolak"}
SEVERITIES = {"LOW": "Rendah", "MEDIUM": "Sedang", "HIGH": "Tinggi", "CRITICAL": "Kritis"}
DELEGATION_KINDS = {"PLT": "Plt.", "PLH": "Plh."}
SECTIONS = SECTION_LABELS

EVENTS = EVENT_LABELS

SECTION_HINTS = {
    "needs_analysis.background": "Mengapa aplikasi ini dibutuhkan: masalah layanan saat ini.",
    "needs_analysis.objectives": "Apa yang harus dicapai aplikasi.",
    "needs_analysis.intended_users": "Siapa yang akan memakai aplikasi; satu per baris.",
    "needs_analysis.features": "Fitur yang dibutuhkan; satu per baris.",
    "needs_analysis.platform": "Platform (web, mobile), integrasi, tempat aplikasi dijalankan.",
    "business_process.system_flow": "Alur sistem dari awal sampai akhir layanan.",
    "business_process.input_data": "Data yang dimasukkan; satu per baris.",
    "business_process.output_data": "Data atau laporan yang dihasilkan; satu per baris.",
    "business_process.validation_mechanism": "Bagaimana masukan dan hasil diperiksa.",
    "business_process.user_roles": "Peran pengguna aplikasi; satu per baris.",
    "business_process.forms_and_reporting": "Formulir yang dipakai dan mekanisme pelaporan.",
    "business_process.access_rights_management": "Siapa boleh melihat dan melakukan apa.",
    "business_process.user_management": "Bagaimana akun dibuat, diubah dan dinonaktifkan.",
    "business_process.database_management": "Penyimpanan, cadangan (backup) dan masa simpan data.",
}
"""The SOP's help per section of the needs-analysis form and the business-process document."""

LIST_SECTIONS = frozenset(
    {
        "needs_analysis.intended_users",
        "needs_analysis.features",
        "business_process.input_data",
        "business_process.output_data",
        "business_process.user_roles",
    }
)

SLA_STATUSES = {
    "ABSENT": "Belum diajukan",
    "ON_TIME": "Tepat waktu",
    "LATE": "Terlambat",
    "RUNNING": "Berjalan",
    "RUNNING_LATE": "Berjalan, terlambat",
    "PAUSED": "Dijeda (menunggu pemohon)",
}

GRANTABLE_ROLES = [
    (r, ROLES[r]) for r in ("PEMOHON", "KADIS", "KABID_TI", "TIM_PENGEMBANG", "ADMIN", "AUDITOR")
]
DELEGATION_STATUSES = {
    "ABSENT": "Belum diajukan",
    "active": "Berlaku",
    "scheduled": "Terjadwal",
    "expired": "Selesai",
    "ended": "Diakhiri",
}
DELIVERY_STATES = {"PENDING": "Menunggu", "DELIVERED": "Terkirim", "PARKED": "Diparkir"}
