"""The web app's tests: every service and the web app as processes on the session's real Kafka
and PostgreSQL, the gateway serving them on a loopback port, and Debian's Chromium driven by
Playwright. Screenshots of the pages go to ``test-artifacts/web/``."""

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from devstack.gateway import create_gateway
from devstack.process import free_port
from devstack.services import ServiceProcess, service_processes, start_all, stop_all, web_process
from devstack.stack import Endpoints
from services.identity.demo import DEMO_PASSWORD
from tests.kafka_helpers import eventually

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STREAM_RECHECK_SECONDS = 1
"""How often reporting re-checks the roles of an open notification stream here (60 s in use)."""
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
AXE = Path(__file__).resolve().parents[2] / "services/web/node_modules/axe-core/axe.min.js"


@dataclass
class Site:
    url: str
    processes: dict[str, ServiceProcess]


@pytest.fixture(scope="package")
async def site(
    endpoints: Endpoints, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Site]:
    """Jejak as ``make run`` serves it, on a free port. Its services share the session's Kafka
    and PostgreSQL (their schemas and consumer groups), so they must not outlive these tests:
    a documents service left running would issue another test's documents with its own key."""
    data_dir = tmp_path_factory.mktemp("web")
    services = service_processes(endpoints, data_dir)
    for process in services:  # a taken-away role closes a live stream within a second
        if process.name == "reporting":
            process.env["REPORTING_STREAM_RECHECK_SECONDS"] = str(STREAM_RECHECK_SECONDS)
    web = web_process(services, data_dir)
    processes = [*services, web]
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_gateway({p.name: p.url for p in services}, web.url),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
        )
    )
    try:
        await asyncio.to_thread(start_all, processes)
        serving = asyncio.create_task(server.serve())

        async def started() -> bool:
            return bool(server.started)

        assert await eventually(started, timeout=10), "the gateway did not start"
        yield Site(f"http://127.0.0.1:{port}", {p.name: p for p in processes})
        server.should_exit = True
        await serving
    finally:
        await asyncio.to_thread(stop_all, processes)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@dataclass
class Person:
    """One demo user in a browser context of its own."""

    username: str
    context: BrowserContext
    page: Page
    site: Site

    async def go(self, path: str) -> None:
        await self.page.goto(self.site.url + path)

    async def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    async def accessibility_violations(self) -> list[str]:
        """axe-core's serious and critical violations of the page as it is now."""
        # evaluated by the DevTools protocol, which the page's Content-Security-Policy (rightly
        # refusing inline scripts) does not govern
        await self.page.evaluate(AXE.read_text())
        found = await self.page.evaluate(
            "async () => (await axe.run(document)).violations"
            ".filter(v => ['serious', 'critical'].includes(v.impact))"
            ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))"
        )
        return list(found)


async def sign_in(person: Person, password: str = DEMO_PASSWORD) -> None:
    await person.go("/masuk")
    await person.page.fill("#username", person.username)
    await person.page.fill("#password", password)
    await person.page.click("form[action='/masuk'] button[type=submit]")
    await person.page.wait_for_url(lambda url: "/masuk" not in url)


Opener = Callable[..., Awaitable[Person]]


@pytest.fixture
async def person(browser: Browser, site: Site) -> AsyncIterator[Opener]:
    """``await person("kadis")``: a browser context of its own, signed in unless asked not to;
    closed at the end of the test."""
    contexts: list[BrowserContext] = []

    async def open_person(username: str, signed_in: bool = True, width: int = 1200) -> Person:
        context = await browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(context)
        someone = Person(username, context, await context.new_page(), site)
        if signed_in:
            await sign_in(someone)
        return someone

    yield open_person
    for context in contexts:
        await context.close()
