"""A service never holds the database owner's password: ``make run`` (and everything that starts
service processes) gives each service only where PostgreSQL is, and production refuses a
service whose DATABASE_URL carries a password or whose DATABASE_APP_URL is another role."""

import os
from pathlib import Path

import pytest

from devstack.services import service_processes, web_process
from devstack.stack import Endpoints
from infra.settings import Settings

OWNER = "postgresql://jejak_owner:owner-secret@db.example:5432/jejak"


def test_make_runs_services_hold_no_owner_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", OWNER)  # make run pointed at a server of one's own
    endpoints = Endpoints("127.0.0.1:9092", OWNER)
    services = service_processes(endpoints, tmp_path)
    processes = [*services, web_process(services, tmp_path)]
    for process in processes:
        launched = {**os.environ, **process.env}  # what ``spawn`` gives the process
        assert not [v for v in launched.values() if "owner-secret" in v], process.name
        assert "jejak_owner" not in str(launched), process.name
        assert "MIGRATE_ON_START" not in launched
    for process in services:
        assert process.env["DATABASE_URL"] == "postgresql://db.example:5432/jejak"
        settings = Settings(environment="development", database_url=process.env["DATABASE_URL"])
        assert settings.app_url(process.name).startswith(f"postgresql://jejak_app_{process.name}:")


def production(**fields: object) -> Settings:
    return Settings.model_validate(
        {
            "environment": "production",
            "service_name": "intake",
            "app_db_password": "a-long-production-secret",
            **fields,
        }
    )


def test_production_refuses_a_password_in_a_services_database_url() -> None:
    owned = production(database_url=OWNER)
    [problem] = [p for p in owned.production_problems() if "DATABASE" in p]
    assert problem.startswith("DATABASE_URL layanan memuat kata sandi")
    assert "infra.migrate_all" in problem
    located = production(database_url="postgresql://db.example:5432/jejak")
    assert not [p for p in located.production_problems() if "DATABASE" in p]
    assert not [p for p in owned.production_problems(uses_database=False) if "DATABASE" in p]


def test_production_refuses_a_database_app_url_of_another_role() -> None:
    other = "postgresql://jejak_owner:x@db.example:5432/jejak"
    [problem] = [
        p for p in production(database_app_url=other).production_problems() if "DATABASE" in p
    ]
    assert problem.startswith("DATABASE_APP_URL layanan intake bukan peran jejak_app_intake")
    own = "postgresql://jejak_app_intake:x@db.example:5432/jejak"
    assert not [
        p for p in production(database_app_url=own).production_problems() if "DATABASE" in p
    ]
