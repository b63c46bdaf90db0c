"""The migrations command of a cluster (``python -m infra.migrate_all``): every service's SQL
found without importing the service, each role's own password, no development default in
production."""

import pytest

from events.topics import SERVICES
from infra.migrate_all import app_password, auditor_password, sql_dir
from infra.settings import DEFAULT_APP_DB_PASSWORD, Settings


def test_every_service_has_its_migrations() -> None:
    for service in SERVICES:
        assert sorted(sql_dir(service).glob("*.sql")), service


def test_each_role_takes_its_own_password_else_the_shared_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("APP_DB_PASSWORD_DEV_TRACKING", "own-secret")
    settings = Settings(app_db_password="shared-secret")
    assert app_password(settings, "dev_tracking") == "own-secret"
    assert app_password(settings, "intake") == "shared-secret"


def test_production_refuses_the_development_password() -> None:
    settings = Settings(environment="production", app_db_password=DEFAULT_APP_DB_PASSWORD)
    with pytest.raises(SystemExit, match="intake"):
        app_password(settings, "intake")


def test_production_refuses_the_development_password_for_the_auditor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    production = Settings(environment="production", app_db_password="a-long-production-secret")
    monkeypatch.delenv("AUDITOR_DB_PASSWORD", raising=False)
    assert auditor_password(production) is None  # a group role, no login
    monkeypatch.setenv("AUDITOR_DB_PASSWORD", DEFAULT_APP_DB_PASSWORD)
    with pytest.raises(SystemExit, match="jejak_auditor"):
        auditor_password(production)
    assert auditor_password(Settings(environment="development")) == DEFAULT_APP_DB_PASSWORD
