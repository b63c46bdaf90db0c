"""Run one service's web app: the body of every ``python -m services.<name>``."""

from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from infra.settings import Settings


def serve(service: str, create_app: Callable[[Settings], FastAPI], default_port: int) -> None:
    settings = Settings(service_name=service)
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port or default_port,
        root_path=settings.root_path,
        log_level="warning",
    )
