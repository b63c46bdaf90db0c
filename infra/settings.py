"""Settings from the environment (pydantic-settings); nothing is read at import time."""

from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """What every service process needs. Environment variables are upper-case field names."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    service_name: str = Field(default="jejak", description="This process's service name")
    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/jejak",
        description="Owner connection, used to run migrations",
    )
    database_app_url: str | None = Field(
        default=None,
        description="The service's least-privileged connection; derived from DATABASE_URL if unset",
    )
    app_db_password: str = Field(default="jejak-dev", description="Password of the app roles")
    kafka_bootstrap_servers: str = Field(default="127.0.0.1:9092")
    tenant: str = Field(default="katingan", description="The regency this deployment serves")
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"
    relay_batch_size: int = Field(default=2000, ge=1, le=50_000)
    relay_idle_seconds: float = Field(default=0.05, gt=0)
    pool_max_size: int = Field(default=10, ge=1)
    jwt_private_key: str | None = Field(default=None, description="identity's Ed25519 PEM")
    jwt_public_key: str | None = Field(default=None, description="The PEM every service verifies")
    jwt_key_dir: str = Field(default=".jejak/keys", description="Development keys, if no PEMs")
    http_host: str = Field(default="127.0.0.1", description="Listen address (loopback by default)")
    http_port: int = Field(default=0, ge=0, le=65535, description="0 picks a free port")
    root_path: str = Field(default="", description="The path prefix a gateway serves it under")

    def app_role(self, service: str) -> str:
        return f"jejak_app_{service}"

    def app_url(self, service: str) -> str:
        """Connection string of ``service``'s app role, which may not alter stored events."""
        if self.database_app_url:
            return self.database_app_url
        parts = urlsplit(self.database_url)
        host = parts.hostname or "127.0.0.1"
        port = f":{parts.port}" if parts.port else ""
        netloc = f"{self.app_role(service)}:{self.app_db_password}@{host}{port}"
        return urlunsplit(parts._replace(netloc=netloc))
