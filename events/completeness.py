"""The completeness check of step 4, as a pure function over the submitted documents."""

from pydantic import BaseModel

from events.intake import BusinessProcess, NeedsAnalysis

SECTION_LABELS: dict[str, str] = {
    "needs_analysis.background": "Latar belakang",
    "needs_analysis.objectives": "Tujuan",
    "needs_analysis.intended_users": "Sasaran pengguna",
    "needs_analysis.features": "Kebutuhan fungsional",
    "needs_analysis.platform": "Spesifikasi teknis",
    "business_process.system_flow": "Alur sistem",
    "business_process.input_data": "Data input",
    "business_process.output_data": "Data output",
    "business_process.validation_mechanism": "Mekanisme validasi",
    "business_process.user_roles": "Role pengguna",
    "business_process.forms_and_reporting": "Form dan mekanisme pelaporan",
    "business_process.access_rights_management": "Manajemen hak akses",
    "business_process.user_management": "Manajemen user",
    "business_process.database_management": "Manajemen database",
}
"""Every section, by its path in the request, with its Indonesian label, in form order."""


def _missing(prefix: str, document: BaseModel) -> list[str]:
    missing = []
    for name in type(document).model_fields:
        value = getattr(document, name)
        if value is None or (isinstance(value, tuple | str) and not value):
            missing.append(f"{prefix}.{name}")
    return missing


def missing_sections(needs: NeedsAnalysis, process: BusinessProcess) -> list[str]:
    """The paths of the absent sections, in form order, e.g. ``["business_process.user_roles"]``.

    A section is absent when it is ``None`` or an empty list. Paths are keys of
    ``SECTION_LABELS``.
    """
    return _missing("needs_analysis", needs) + _missing("business_process", process)
