"""Fixtures shared by the service tests."""

from collections.abc import AsyncIterator

import pytest

from infra.settings import Settings
from tests.services.documents_stack import System, running
from tests.services.intake_client import Service, running_intake


@pytest.fixture(scope="module")
async def intake(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Service]:
    """intake with its default configuration, started once for the test module."""
    async with running_intake(settings, tmp_path_factory.mktemp("keys")) as service:
        yield service


@pytest.fixture(scope="module")
async def system(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[System]:
    """The documents service on the real stack, for one test module."""
    async with running(settings, tmp_path_factory.mktemp("documents")) as started:
        yield started
