"""reporting's own settings (environment variables ``REPORTING_*``), beside ``infra.Settings``."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ReportingConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REPORTING_", extra="ignore", frozen=True)

    breach_interval_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Longest wait between two looks for SLA breaches (sooner if a step is due)",
    )
    time_zone: str = Field(default="Asia/Jakarta", description="The tenant's office time zone")
    sla_report_max_days: int = Field(
        default=366,
        ge=1,
        le=3660,
        description="The longest submission period (submitted_from to submitted_to) one SLA "
        "report covers; a wider one is refused with 422",
    )
