"""Every service's web app as its bootstrap builds it, without starting it (no I/O): for the
tests that look at what each app declares (its OpenAPI, its middleware)."""

import importlib
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from infra.settings import Settings


def service_app(service: str, key_dir: Path, settings: Settings | None = None) -> FastAPI:
    """``services.<service>.bootstrap.create_app`` with ``settings`` (default: the defaults)
    and the development keys in ``key_dir``."""
    bootstrap = importlib.import_module(f"services.{service}.bootstrap")
    create_app: Callable[[Settings], FastAPI] = bootstrap.create_app
    chosen = (settings or Settings()).model_copy(update={"jwt_key_dir": str(key_dir)})
    return create_app(chosen)


def openapi_document(service: str) -> dict[str, Any]:
    """What the service's process serves at ``/openapi.json``."""
    with tempfile.TemporaryDirectory() as keys:
        return service_app(service, Path(keys)).openapi()
