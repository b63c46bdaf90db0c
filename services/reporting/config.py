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
    stream_recheck_seconds: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="How often an open notification stream checks that its user still holds "
        "the roles and Plt/Plh delegations it serves (it closes when one was taken away)",
    )
    streams_per_user: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Most notification streams one user may hold open at once, per replica "
        "(one more is answered 429)",
    )
    sla_report_max_days: int = Field(
        default=366,
        ge=1,
        le=3660,
        description="The longest submission period (submitted_from to submitted_to) one SLA "
        "report covers; a wider one is refused with 422",
    )
