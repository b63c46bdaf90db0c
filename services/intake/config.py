"""intake's own settings (environment variables ``INTAKE_*``), beside ``infra.Settings``: the
limits of uploads (``docs/input-limits.md``)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class IntakeConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore", frozen=True)

    upload_bytes_per_day: int = Field(
        default=1024 * 2**20,
        ge=1,
        description="Bytes one user may upload in any 24 hours (every upload counts, stored "
        "before or not)",
    )
    upload_files_per_day: int = Field(
        default=200, ge=1, description="Uploads one user may make in any 24 hours"
    )
    uploads_at_once_per_user: int = Field(
        default=2, ge=1, description="Uploads of one user in progress at once, per process"
    )
    uploads_at_once: int = Field(
        default=8,
        ge=1,
        description="Uploads in progress at once, per process (each holds up to 25 MiB)",
    )
    orphan_days: int = Field(
        default=14,
        ge=1,
        le=3650,
        description="Days after its last upload that an attachment no request references is "
        "removed",
    )
    orphan_sweep_seconds: float = Field(
        default=3600.0, gt=0, le=86_400, description="The wait between two looks for orphans"
    )
