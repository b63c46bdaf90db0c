"""Run one service's web app: the body of every ``python -m services.<name>``.

The server listens at once and answers 503 until the app's start-up (which waits for
PostgreSQL and Kafka for as long as they are away) is done (``infra.starting``); a start-up that
fails otherwise ends the process with exit code 1. Every app serves its Prometheus metrics at
``/metrics`` and has its HTTP requests counted and timed (``infra.metrics``)."""

import sys
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from infra.metrics import Metrics
from infra.settings import Settings
from infra.starting import StartsInBackground


def run_app(app: FastAPI, service: str, host: str, port: int, root_path: str = "") -> None:
    failed: list[bool] = []
    server: uvicorn.Server | None = None

    def fail() -> None:
        failed.append(True)
        assert server is not None
        server.should_exit = True

    config = uvicorn.Config(
        Metrics(StartsInBackground(app, service, fail), service),
        host=host,
        port=port,
        root_path=root_path,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    server.run()
    if failed:
        sys.exit(1)


def serve(service: str, create_app: Callable[[Settings], FastAPI], default_port: int) -> None:
    settings = Settings.from_environment(service_name=service)
    run_app(
        create_app(settings),
        service,
        settings.http_host,
        settings.http_port or default_port,
        settings.root_path,
    )
