"""eoffice's own settings (environment variables ``EOFFICE_*``), beside ``infra.Settings``, which
holds the tenant's shared secret (``EOFFICE_SECRET``)."""

import ipaddress
from typing import Literal, Self

from pydantic import AnyHttpUrl, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from infra.settings import ProductionConfigError
from services.eoffice.backoff import RetryPolicy


class InsecureCallback(ProductionConfigError):
    """A callback URL the status changes may not be sent to: the service refuses to start."""


def _loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address((host or "").strip("[]")).is_loopback
    except ValueError:
        return False


class EofficeConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EOFFICE_", extra="ignore", frozen=True)

    callback_url: AnyHttpUrl | None = Field(
        default=None,
        description="Where the e-office receives status changes (https in production). Unset: "
        "deliveries are recorded but not sent, and are sent once it is set",
    )
    retry_budget: int = Field(
        default=30, ge=1, le=1000, description="Attempts per delivery before it is parked"
    )
    initial_backoff_seconds: float = Field(
        default=10.0, gt=0, le=86_400, description="The wait after a delivery's first failure"
    )
    max_backoff_seconds: float = Field(
        default=3600.0, gt=0, le=86_400, description="The longest wait between two attempts"
    )
    attempt_timeout_seconds: float = Field(
        default=10.0, gt=0, le=300, description="How long one attempt may take, all told"
    )
    poll_seconds: float = Field(
        default=1.0, gt=0, le=60, description="Longest wait between two looks for due deliveries"
    )
    concurrency: int = Field(
        default=8, ge=1, le=100, description="Deliveries (of different requests) posted at once"
    )

    @field_validator("callback_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.max_backoff_seconds < self.initial_backoff_seconds:
            raise ValueError("max_backoff_seconds must not be below initial_backoff_seconds")
        return self

    def check_callback(self, environment: Literal["development", "production"]) -> None:
        """Refuse (``InsecureCallback``) a callback URL that is not https: the bodies name
        requests and officials, and the signature does not hide them. Development may use http
        on the machine itself (loopback)."""
        url = self.callback_url
        if url is None or url.scheme == "https":
            return
        if environment == "production":
            raise InsecureCallback(
                f"EOFFICE_CALLBACK_URL harus https di produksi (ENVIRONMENT=production), bukan "
                f"{url.scheme}://{url.host}; layanan eoffice tidak dijalankan."
            )
        if not _loopback(url.host):
            raise InsecureCallback(
                f"EOFFICE_CALLBACK_URL http hanya boleh ke mesin ini (127.0.0.1, ::1, localhost), "
                f"bukan {url.host}; gunakan https."
            )

    @property
    def policy(self) -> RetryPolicy:
        return RetryPolicy(
            self.retry_budget, self.initial_backoff_seconds, self.max_backoff_seconds
        )

    @property
    def lease_seconds(self) -> float:
        """How long a claimed delivery is reserved for its worker: past it (the worker died
        mid-attempt) another may try it again."""
        return 2 * self.attempt_timeout_seconds + 5
