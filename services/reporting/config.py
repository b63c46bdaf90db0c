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
