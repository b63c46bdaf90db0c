"""Settings from the environment (pydantic-settings); nothing is read at import time."""

from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, Self
from urllib.parse import quote, urlsplit, urlunsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from infra.checkpoint_keys import development_key, is_development_key, private_key_from_pem
from infra.kafka_login import KafkaLogin

DEFAULT_APP_DB_PASSWORD = "jejak-dev"
"""The app roles' password in development; production refuses to start with it."""
DEVELOPMENT_KAFKA_PASSWORD = "jejak-dev-kafka"
"""Every Kafka principal's password on the local stack (``devstack.kafka``); production refuses
to start without KAFKA_SASL_PASSWORD, or with this one."""
DEFAULT_TOPIC_PARTITIONS = 3
DEFAULT_REPLICATION_FACTOR = 1
"""One replica: the single-node development stack; a cluster sets KAFKA_REPLICATION_FACTOR."""


class ProductionConfigError(RuntimeError):
    """Production mode was asked for with development keys, default secrets or demo data."""


class EnvironmentNotSet(RuntimeError):
    """ENVIRONMENT is missing: no process guesses whether it runs in production."""


class Settings(BaseSettings):
    """What every service process needs. Environment variables are upper-case field names."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    service_name: str = Field(default="jejak", description="This process's service name")
    environment: Literal["development", "production"] = Field(
        description="Required, no default: production refuses to start with development keys "
        "or default secrets; development (make run, the tests, the benchmarks) must say so",
    )
    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/jejak",
        description="Where PostgreSQL is (host, port, database): a service connects there as "
        "its own role and needs no user or password here (production refuses a password); "
        "the owner's connection for the migrations (``python -m infra.migrate_all``) and the "
        "operators' tools",
    )
    database_app_url: str | None = Field(
        default=None,
        description="The service's least-privileged connection; derived from DATABASE_URL if unset",
    )
    app_db_password: str = Field(
        default=DEFAULT_APP_DB_PASSWORD, description="Password of the app roles"
    )
    kafka_bootstrap_servers: str = Field(default="127.0.0.1:9092")
    kafka_topic_partitions: int = Field(
        default=DEFAULT_TOPIC_PARTITIONS,
        ge=1,
        description="Partitions of a topic a service creates",
    )
    kafka_replication_factor: int = Field(
        default=DEFAULT_REPLICATION_FACTOR,
        ge=1,
        description="Replicas of a topic a service creates (at most the number of brokers)",
    )
    kafka_sasl_username: str | None = Field(
        default=None,
        description="The SCRAM-SHA-512 user this process connects to Kafka as; unset: the "
        "service's own (infra.kafka_acl.principal_of), or the auditor for `jejak audit`",
    )
    kafka_sasl_password: SecretStr | None = Field(
        default=None,
        description="Its password (environment only); required in production, "
        "DEVELOPMENT_KAFKA_PASSWORD otherwise",
    )
    kafka_ssl_ca_pem: str | None = Field(
        default=None,
        description="The brokers' CA (PEM): set, Kafka is reached over TLS (SASL_SSL)",
    )
    startup_max_backoff_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Longest wait between two tries to reach PostgreSQL or Kafka at start-up",
    )
    tenant: str = Field(default="katingan", description="The regency this deployment serves")
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"
    relay_batch_size: int = Field(default=2000, ge=1, le=50_000)
    relay_idle_seconds: float = Field(default=0.05, gt=0)
    pool_max_size: int = Field(default=10, ge=1)
    database_statement_timeout_ms: int = Field(
        default=60_000,
        ge=100,
        le=3_600_000,
        description="The longest a statement of a service's pool may run (PostgreSQL's "
        "statement_timeout, waits on locks included); a longer one is cancelled (503)",
    )
    database_acquire_timeout_seconds: float = Field(
        default=10.0, gt=0, le=300, description="The longest a wait for a free connection (503)"
    )
    consumer_batch_max: int = Field(
        default=500, ge=1, le=10_000, description="Most records a batch consumer handles at once"
    )
    access_token_minutes: int = Field(
        default=15,
        ge=1,
        le=60,
        description="An access token's life (identity): a revoked role or an ended delegation "
        "stops working within it; token/refresh renews it with the roles held then",
    )
    login_lockout_minutes: int = Field(
        default=15,
        ge=1,
        le=24 * 60,
        description="How long identity locks an account after 5 failed logins, the first time",
    )
    login_lockout_max_minutes: int = Field(
        default=24 * 60,
        ge=1,
        le=30 * 24 * 60,
        description="The longest lock of an account: each further lock doubles, up to this",
    )
    assignment_grace_working_days: int = Field(
        default=3,
        ge=0,
        le=20,
        description="dev_tracking: how many working days after a Surat Tugas's last day its team "
        "may still act; after that only a new letter from KADIS extends the period",
    )
    jwt_private_key: str | None = Field(default=None, description="identity's Ed25519 PEM")
    jwt_public_key: str | None = Field(default=None, description="The PEM every service verifies")
    jwt_key_dir: str = Field(default=".jejak/keys", description="Development keys, if no PEMs")
    http_host: str = Field(default="127.0.0.1", description="Listen address (loopback by default)")
    http_port: int = Field(default=0, ge=0, le=65535, description="0 picks a free port")
    root_path: str = Field(default="", description="The path prefix a gateway serves it under")
    eoffice_secret: SecretStr | None = Field(
        default=None,
        description="HMAC-SHA256 secret of this tenant's e-office webhook (environment only); "
        "required in production, infra.webhook.DEVELOPMENT_SECRET otherwise",
    )
    eoffice_previous_secrets: SecretStr | None = Field(
        default=None,
        description="Secrets being rotated out, comma-separated (at most 3): still accepted from "
        "the e-office and signed with towards it, until the rotation is over "
        "(docs/eoffice-webhook.md)",
    )
    eoffice_max_skew_seconds: int = Field(
        default=300,
        ge=30,
        le=3600,
        description="How far X-Jejak-Timestamp may be from the server's clock, either way",
    )
    checkpoint_signing_key: SecretStr | None = Field(
        default=None,
        description="This service's Ed25519 private key (PEM) that signs its checkpoints "
        "(infra.checkpoints); required in production, a key derived from the service's name "
        "otherwise",
    )
    checkpoint_every_events: int = Field(
        default=1000,
        ge=1,
        le=5000,
        description="A checkpoint is signed once this many events are published since the last",
    )
    checkpoint_interval_seconds: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="...or once the last is this old and an event was published since",
    )
    checkpoint_file: str = Field(
        default=".jejak/checkpoints/{service}.jsonl",
        description="The append-only file every checkpoint is also written to, one JSON a line, "
        "for the operator to ship off the machine ({service}: the service's name)",
    )
    checkpoint_public_keys_file: str | None = Field(
        default=None,
        description="jejak audit verify: the services' checkpoint public keys (JSON: service "
        "-> PEMs); required in production, the development keys otherwise",
    )
    idempotency_retention_hours: int = Field(
        default=7 * 24,
        ge=24,
        le=366 * 24,
        description="How long a command's answer is kept for retries with its Idempotency-Key",
    )

    @model_validator(mode="before")
    @classmethod
    def _environment_is_named(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("environment"):
            raise EnvironmentNotSet(
                "ENVIRONMENT is not set: set it to production, or to development on a "
                "developer's machine; nothing starts without it"
            )
        return data

    @classmethod
    def from_environment(cls, **given: Any) -> Self:
        """The settings the environment names, ``given`` overriding them (``EnvironmentNotSet``
        without ENVIRONMENT)."""
        return cls(**given)

    def production_problems(
        self, *, signs_tokens: bool = False, uses_database: bool = True, uses_kafka: bool = True
    ) -> list[str]:
        """What keeps this configuration from running in production (empty in development).

        Every service needs JWT_PUBLIC_KEY from the environment and a non-default
        APP_DB_PASSWORD (unless it has no database: the web app); the one that signs tokens
        (identity) also needs JWT_PRIVATE_KEY, and one that uses Kafka its own
        KAFKA_SASL_PASSWORD. A key
        equal to the development key kept in JWT_KEY_DIR counts as missing."""
        if self.environment != "production":
            return []
        problems = []
        wanted = [("JWT_PUBLIC_KEY", self.jwt_public_key, "jwt-public.pem")]
        if signs_tokens:
            wanted.insert(0, ("JWT_PRIVATE_KEY", self.jwt_private_key, "jwt-private.pem"))
        for variable, value, dev_file in wanted:
            if not value or not value.strip():
                problems.append(f"{variable} is not set (production never uses JWT_KEY_DIR)")
                continue
            dev_key = Path(self.jwt_key_dir) / dev_file
            if dev_key.is_file() and dev_key.read_text().strip() == value.strip():
                problems.append(f"{variable} is the development key from {dev_key}")
        if uses_database and self.app_db_password == DEFAULT_APP_DB_PASSWORD:
            problems.append("APP_DB_PASSWORD is the development default")
        if uses_database:
            problems.extend(self._checkpoint_key_problems())
            problems.extend(self.database_owner_problems())
        if uses_kafka and self._kafka_password() == DEVELOPMENT_KAFKA_PASSWORD:
            problems.append(
                "KAFKA_SASL_PASSWORD belum diisi atau masih kata sandi pengembangan "
                "(produksi wajib memakai kata sandi Kafka milik layanan ini)"
            )
        return problems

    def database_owner_problems(self) -> list[str]:
        """A service holds no owner's password: DATABASE_URL says only where PostgreSQL is, and
        DATABASE_APP_URL names the service's own role (``docs/security.md``, item 6)."""
        problems = []
        if urlsplit(self.database_url).password is not None:
            problems.append(
                "DATABASE_URL layanan memuat kata sandi; layanan tersambung sebagai perannya "
                "sendiri, jadi DATABASE_URL cukup berisi alamat basis data tanpa pengguna dan "
                "kata sandi (kata sandi pemilik hanya untuk python -m infra.migrate_all)"
            )
        own = self.app_role(self.service_name)
        if self.database_app_url and urlsplit(self.database_app_url).username != own:
            problems.append(
                f"DATABASE_APP_URL layanan {self.service_name} bukan peran {own}; layanan "
                "hanya boleh tersambung sebagai perannya sendiri"
            )
        return problems

    def _checkpoint_key_problems(self) -> list[str]:
        key = self.checkpoint_signing_key
        if key is None or not key.get_secret_value().strip():
            return [
                "CHECKPOINT_SIGNING_KEY wajib diisi di produksi (kunci privat Ed25519 layanan, "
                "PEM, yang menandatangani checkpoint)"
            ]
        pem = key.get_secret_value()
        try:
            private_key_from_pem(pem)
        except ValueError:
            return ["CHECKPOINT_SIGNING_KEY bukan kunci privat Ed25519 (PEM)"]
        if is_development_key(pem, self.service_name):
            return ["CHECKPOINT_SIGNING_KEY adalah kunci pengembangan, yang diketahui semua orang"]
        return []

    def checkpoint_key(self, service: str) -> Ed25519PrivateKey:
        """``service``'s checkpoint signing key: ``CHECKPOINT_SIGNING_KEY``, or outside
        production (``check_production`` refuses it there) the development key."""
        key = self.checkpoint_signing_key
        if key is not None and key.get_secret_value().strip():
            return private_key_from_pem(key.get_secret_value())
        return development_key(service)

    def check_production(
        self, *, signs_tokens: bool = False, uses_database: bool = True, uses_kafka: bool = True
    ) -> None:
        """Refuse to start (``ProductionConfigError``) if ``production_problems`` finds any."""
        if problems := self.production_problems(
            signs_tokens=signs_tokens, uses_database=uses_database, uses_kafka=uses_kafka
        ):
            raise ProductionConfigError(
                f"{self.service_name}: refusing to start in production: " + "; ".join(problems)
            )

    @property
    def idempotency_retention(self) -> timedelta:
        return timedelta(hours=self.idempotency_retention_hours)

    def _kafka_password(self) -> str:
        secret = self.kafka_sasl_password
        return secret.get_secret_value() if secret else DEVELOPMENT_KAFKA_PASSWORD

    def kafka_login(self, principal: str) -> KafkaLogin:
        """How this process reaches Kafka: as KAFKA_SASL_USERNAME if set, else as
        ``principal`` (the service's own, or the auditor)."""
        return KafkaLogin(
            self.kafka_bootstrap_servers,
            self.kafka_sasl_username or principal,
            self._kafka_password(),
            self.kafka_ssl_ca_pem,
        )

    def app_role(self, service: str) -> str:
        return f"jejak_app_{service}"

    def app_url(self, service: str) -> str:
        """Connection string of ``service``'s app role, which may not alter stored events."""
        if self.database_app_url:
            return self.database_app_url
        return role_url(self.database_url, self.app_role(service), self.app_db_password)


def role_url(database_url: str, role: str, password: str) -> str:
    """``database_url`` logging in as ``role`` with ``password``, whoever it named before."""
    parts = urlsplit(database_url)
    host = parts.hostname or "127.0.0.1"
    port = f":{parts.port}" if parts.port else ""
    netloc = f"{quote(role, safe='')}:{quote(password, safe='')}@{host}{port}"
    return urlunsplit(parts._replace(netloc=netloc))
