"""The web app's settings: the common ones, where the services answer, and its session secret."""

from pathlib import Path

from pydantic import Field, SecretStr

from infra.settings import ProductionConfigError, Settings

DEVELOPMENT_SESSION_SECRET = "jejak-web-development-secret"
"""Signs CSRF tokens in development; production refuses to start with it."""


class WebSettings(Settings):
    upstreams: dict[str, str] = Field(
        default_factory=dict,
        description="Each service's base URL, as JSON: "
        '{"identity": "http://identity:8000", "intake": ...}',
    )
    session_secret: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_SESSION_SECRET),
        description="Key of the CSRF tokens (environment only); required in production",
    )
    time_zone: str = Field(default="Asia/Jakarta", description="Where the office's clock is")
    assets_dir: Path = Field(
        default=Path(__file__).parent / "node_modules",
        description="Where npm installed the browser packages (services/web/package.json)",
    )

    @property
    def secure_cookies(self) -> bool:
        """Cookies only over HTTPS, except in development on loopback."""
        return self.environment == "production"

    def check_web_production(self) -> None:
        self.check_production(uses_database=False, uses_kafka=False)
        if (
            self.environment == "production"
            and self.session_secret.get_secret_value() == DEVELOPMENT_SESSION_SECRET
        ):
            raise ProductionConfigError("web: SESSION_SECRET is the development default")
