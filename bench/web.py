"""``python -m bench.web``: the web app's pages under 20 concurrent users, and what each page
costs a browser with an empty cache.

Every service and the web app run as their own processes (``devstack.services``) on a
throwaway Kafka and PostgreSQL (``bench.stack.servers``). The benchmark submits requests as the
demo requester and walks some of them to later steps (received, disposed), so that inboxes,
lists and request pages have something to show. Then ``--users`` signed-in users (the demo
users in turn, each with its own session cookie) each ask for one page after another, straight
to the web app's process, for ``--seconds``; every page is the web app's whole work for it,
the services' calls included. Between two pages a user reads for a while: ``--think`` seconds
on average (exponentially distributed, seeded), run once per value given: 0 is a closed loop
(each user asks again the moment a page arrives: the machine's capacity), 1 is twenty people
who each click about once a second, several times faster than anyone reads a page.

Printed per run and page: count, p50, p95 and p99 in milliseconds (the target: p95 under
100 ms), the pages per second, and the CPU each page cost all the system's processes together
(the services, the web app, PostgreSQL and Kafka, from ``/proc``; the load generator apart).
And once, the first-load transfer size: the page and every script and style sheet it names,
gzip-compressed as a browser asks for them (target: under 150 KB).
"""

import asyncio
import datetime as dt
import itertools
import math
import random
import re
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Annotated

import asyncpg
import httpx
import typer
from rich.table import Table

from bench import report
from bench.cpu import Watched, cpu_seconds
from bench.latency import watch
from bench.stack import servers
from devstack.services import service_processes, start_all, stop_all, web_process
from devstack.stack import Endpoints
from services.identity.demo import DEMO_PASSWORD

app = typer.Typer(add_completion=False, pretty_exceptions_show_locals=False)
READERS = ("kadis", "kabid.ti", "pemohon.dinkes", "dev.lead", "auditor")
ASSET = re.compile(r'(?:src|href)="(/static/[^"]+)"')


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


async def sign_in(web: str, username: str) -> httpx.AsyncClient:
    """A client holding ``username``'s session cookie (the login form, as a browser sends it)."""
    client = httpx.AsyncClient(base_url=web, timeout=30, headers={"Accept-Encoding": "gzip"})
    form = await client.get("/masuk")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, "the login form has no CSRF token"
    answer = await client.post(
        "/masuk",
        data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token[1]},
    )
    assert answer.status_code == 303, answer.text
    return client


def keyed(headers: dict[str, str]) -> dict[str, str]:
    """``headers`` with a new Idempotency-Key, as every client of the commands sends."""
    return {**headers, "Idempotency-Key": str(uuid.uuid4())}


async def seed(apis: dict[str, str], requests: int) -> list[str]:
    """``requests`` submitted; a third received, a third received and disposed."""
    async with httpx.AsyncClient(timeout=30) as http:

        async def bearer(username: str) -> dict[str, str]:
            answer = await http.post(
                f"{apis['identity']}/login",
                json={"username": username, "password": DEMO_PASSWORD},
            )
            return {"Authorization": f"Bearer {answer.json()['access_token']}"}

        requester, kadis = await bearer("pemohon.dinkes"), await bearer("kadis")
        ids = []
        for i in range(requests):
            body = {
                "title": f"Aplikasi Uji Beban {i + 1}",
                "summary": "Permohonan untuk mengukur halaman web.",
                "letter": {"number": f"440/{i + 1}/DINKES/2026", "date": str(dt.date.today())},
                "needs_analysis": {"background": "Uji beban.", "features": ["A", "B"]},
            }
            answer = await http.post(
                f"{apis['intake']}/requests", json=body, headers=keyed(requester)
            )
            answer.raise_for_status()
            request_id = answer.json()["request_id"]
            ids.append(request_id)
            if i % 3:
                path = f"{apis['intake']}/requests/{request_id}/receive"
                (
                    await http.post(path, json={"agenda_number": f"AG/{i}"}, headers=keyed(kadis))
                ).raise_for_status()
        for i, request_id in enumerate(ids):
            if i % 3 == 2:
                path = f"{apis['approval']}/requests/{request_id}/dispose"
                once = keyed(kadis)  # one command, however often it is tried
                for _ in range(100):  # approval learns of the receipt over Kafka
                    answer = await http.post(path, json={"note": "Tindak lanjuti."}, headers=once)
                    if answer.status_code != 404 and answer.status_code != 409:
                        break
                    await asyncio.sleep(0.1)
                answer.raise_for_status()
        return ids


def pages_for(request_ids: list[str]) -> list[tuple[str, str]]:
    some = request_ids[len(request_ids) // 2]
    return [
        ("Kotak Masuk", "/"),
        ("Daftar Permohonan", "/permohonan"),
        ("Detail Permohonan", f"/permohonan/{some}"),
        ("Jejak Audit", f"/permohonan/{some}/audit"),
        ("Laporan SLA", "/laporan/sla"),
        ("Permohonan Baru", "/permohonan/baru"),
    ]


async def first_load(client: httpx.AsyncClient, path: str) -> int:
    """Bytes on the wire for the page and the assets it names, gzip as a browser asks."""
    page = await client.get(path)
    total = page.num_bytes_downloaded
    for asset in sorted(set(ASSET.findall(page.text))):
        total += (await client.get(asset)).num_bytes_downloaded
    return total


async def load(
    clients: list[httpx.AsyncClient], pages: list[tuple[str, str]], seconds: float, think: float
) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    stop_at = time.perf_counter() + seconds
    cycle = itertools.cycle(pages)
    reading = random.Random(15)

    async def user(client: httpx.AsyncClient, offset: int) -> None:
        for _ in range(offset):
            next(cycle)
        if think:
            await asyncio.sleep(reading.uniform(0, think))  # not all at once
        while time.perf_counter() < stop_at:
            name, path = next(cycle)
            started = time.perf_counter()
            answer = await client.get(path)
            timings[name].append((time.perf_counter() - started) * 1000)
            if answer.status_code not in (200, 403):
                errors.append(f"{name}: {answer.status_code}")
            if think:
                await asyncio.sleep(reading.expovariate(1 / think))

    await asyncio.gather(*(user(c, i) for i, c in enumerate(clients)))
    if errors:
        report.console.print(f"[red]{len(errors)} errors[/red], e.g. {errors[:3]}")
    return timings


async def measured(
    clients: list[httpx.AsyncClient],
    pages: list[tuple[str, str]],
    seconds: float,
    think: float,
    watched: dict[str, Watched],
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """The timings of a run, and the CPU milliseconds per page of each watched process (the
    load generator's apart)."""
    before = cpu_seconds(watched)
    timings = await load(clients, pages, seconds, think)
    after = cpu_seconds(watched)
    count = max(1, sum(len(v) for v in timings.values()))
    return timings, {k: (after[k] - before[k]) * 1000 / count for k in watched}


def printed(
    timings: dict[str, list[float]],
    pages: list[tuple[str, str]],
    sizes: dict[str, int],
    title: str,
) -> None:
    table = Table(title=title)
    for column in ("page", "count", "p50 ms", "p95 ms", "p99 ms", "first load KB"):
        table.add_column(column, justify="left" if column == "page" else "right")
    for name, _ in pages:
        values = timings[name]
        table.add_row(
            name,
            str(len(values)),
            f"{percentile(values, 50):.1f}",
            f"{percentile(values, 95):.1f}",
            f"{percentile(values, 99):.1f}",
            f"{sizes[name] / 1024:.1f}",
        )
    report.console.print(table)


async def run(
    endpoints: Endpoints,
    folder: str,
    users: int,
    seconds: float,
    requests: int,
    thinks: list[float],
) -> None:
    services = service_processes(endpoints, Path(folder), with_prefix=False)
    web = web_process(services, Path(folder))
    processes = [*services, web]
    admin = await asyncpg.connect(endpoints.database_url)
    try:
        await asyncio.to_thread(start_all, processes)
        watched = await watch(admin, processes)
        ids = await seed({p.name: p.url for p in services}, requests)
        await asyncio.sleep(2)  # reporting catches up
        clients = [await sign_in(web.url, READERS[i % len(READERS)]) for i in range(users)]
        pages = pages_for(ids)
        requester = await sign_in(web.url, "pemohon.dinkes")  # sees every page
        sizes = {name: await first_load(requester, path) for name, path in pages}
        await requester.aclose()
        await load(clients, pages, min(5.0, seconds), 0)  # warm-up
        for think in thinks:
            timings, cpu_ms = await measured(clients, pages, seconds, think, watched)
            count = sum(len(v) for v in timings.values())
            every = [t for v in timings.values() for t in v]
            system = {k: v for k, v in cpu_ms.items() if k != "benchmark"}
            printed(
                timings,
                pages,
                sizes,
                f"Web pages, {users} users, think {think:g} s, {seconds:g} s: "
                f"{count / seconds:.1f} pages/s, all pages p95 {percentile(every, 95):.1f} ms",
            )
            report.console.print(
                f"CPU per page: {sum(system.values()):.1f} ms for the system ("
                + ", ".join(f"{k} {v:.1f}" for k, v in sorted(system.items(), key=lambda i: -i[1]))
                + f"); the load generator {cpu_ms['benchmark']:.1f} ms"
            )
        for client in clients:
            await client.aclose()
    finally:
        await admin.close()
        await asyncio.to_thread(stop_all, processes)


@app.command()
def main(
    users: Annotated[int, typer.Option(help="Signed-in users asking at once")] = 20,
    seconds: Annotated[float, typer.Option(help="How long they ask")] = 30.0,
    requests: Annotated[int, typer.Option(help="Requests seeded before")] = 60,
    think: Annotated[
        list[float] | None,
        typer.Option(help="Mean seconds a user reads a page before the next (0: closed loop)"),
    ] = None,
) -> None:
    """The web app's server time per page (p95 target 100 ms) and first-load size."""
    with (  # the stack is started outside the event loop (it runs loops of its own)
        servers(None) as endpoints,
        tempfile.TemporaryDirectory(prefix="jejak-bench-web-") as folder,
    ):
        asyncio.run(run(endpoints, folder, users, seconds, requests, think or [1.0, 0.0]))


if __name__ == "__main__":
    app()
