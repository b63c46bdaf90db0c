"""The whole SOP end to end: identity, intake, approval and dev_tracking each as its own process
on the session's real Kafka and PostgreSQL, behind the gateway, walked by HTTP as the demo users.

One request goes through all 14 steps with a return-and-revise loop, a failed-then-passed test
and a rejected-then-accepted UAT; then every service's events are read back from its topic. A
second request is walked while service processes are killed (SIGKILL) and started again, and the
event stores and timelines must hold each step exactly once."""

import asyncio
import itertools
import json
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from devstack.gateway import create_gateway
from devstack.process import is_alive
from devstack.services import ServiceProcess, service_processes, start_all, stop_all
from devstack.stack import Endpoints
from infra.kafka_acl import ADMIN
from infra.kafka_login import KafkaLogin
from tests.e2e.sop import (
    CONSUMED_EVENTS,
    EXPECTED_EVENTS,
    Jejak,
    Walk,
    at,
    walk_through_all_14_steps,
)
from tests.kafka_helpers import eventually, read_topic


@dataclass
class Running:
    jejak: Jejak
    processes: dict[str, ServiceProcess]
    endpoints: Endpoints
    data_dir: Path


@pytest.fixture(scope="module")
async def running(
    endpoints: Endpoints, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Running]:
    """Every service as its own process (started in parallel) and the gateway in-process."""
    data_dir = tmp_path_factory.mktemp("e2e")
    processes = service_processes(endpoints, data_dir)
    try:
        await asyncio.to_thread(start_all, processes)
        gateway = create_gateway({p.name: p.url for p in processes})
        transport = httpx.ASGITransport(app=gateway)
        async with (
            gateway.router.lifespan_context(gateway),
            httpx.AsyncClient(transport=transport, base_url="http://jejak", timeout=30) as client,
        ):
            jejak = Jejak(client)
            await jejak.login_all()
            yield Running(jejak, {p.name: p for p in processes}, endpoints, data_dir)
    finally:
        await asyncio.to_thread(stop_all, processes)


async def crash(process: ServiceProcess) -> None:
    """kill -9 the process and wait until it is gone."""
    pid = process.pid
    process.kill()

    async def gone() -> bool:
        return not is_alive(pid)

    assert await eventually(gone, timeout=10), f"{process.name} ({pid}) survived SIGKILL"


async def restart(process: ServiceProcess) -> None:
    await asyncio.to_thread(process.start)


def unique(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records in topic order, each event once (an outbox relay may publish again after a
    crash: at least once on the wire, exactly once in effect)."""
    seen: set[str] = set()
    out = []
    for record in records:
        if record["event_id"] not in seen:
            seen.add(record["event_id"])
            out.append(record)
    return out


async def on_topic(
    bootstrap: KafkaLogin, service: str, stream_id: str, count: int
) -> list[dict[str, Any]]:
    """``stream_id``'s events on ``service``'s topic from offset 0, deduplicated, once at least
    ``count`` distinct ones have arrived (the relay publishes asynchronously)."""
    found: list[dict[str, Any]] = []

    async def arrived() -> bool:
        records = await read_topic(bootstrap, f"jejak.{service}.events", 1, timeout=15)
        found[:] = unique([json.loads(r.value) for r in records if r.key == stream_id.encode()])
        return len(found) >= count

    assert await eventually(arrived, timeout=60), (
        f"{service}: {len(found)} of {count} events of {stream_id} on its topic"
    )
    return found


def in_order(events: list[dict[str, Any]], types: list[str], stream_id: str) -> None:
    """One stream's events: versions 1..n without gaps, each chained to the one before."""
    assert all(e["stream_id"] == stream_id for e in events)
    assert [e["stream_version"] for e in events] == list(range(1, len(events) + 1))
    assert [e["event_type"] for e in events] == types
    for before, after in itertools.pairwise(events):
        assert after["prev_hash"] == before["hash"], (before["event_type"], after["event_type"])


async def assert_topics(running: Running, walk: Walk) -> None:
    """Every service's events are on its topic, in order: the request's stream on intake's,
    approval's and dev_tracking's topics, and the acting users' streams on identity's."""
    bootstrap = running.endpoints.kafka_login(ADMIN)
    for service, types in EXPECTED_EVENTS.items():
        events = await on_topic(bootstrap, service, walk.request_id, len(types))
        in_order(events, types, walk.request_id)
        assert [e["event_id"] for e in events] == walk.ids[service], service
    for username in ("pemohon.dinkes", "kadis", "kabid.ti", "dev.lead", "dev.anggota"):
        user = running.jejak[username]
        stream = f"user-{user.user_id}"
        events = await on_topic(bootstrap, "identity", stream, 2)
        assert events[0]["event_type"] == "UserRegistered"
        assert events[0]["payload"]["username"] == username
        in_order(events, [e["event_type"] for e in events], stream)
        granted = {e["payload"]["role"] for e in events if e["event_type"] == "RoleGranted"}
        assert set(user.roles) <= granted, (username, user.roles, granted)


async def assert_status_changes_recorded(running: Running, walk: Walk) -> None:
    """The eoffice process (no callback URL here) scheduled every status change of the request
    that reporting emitted: numbered 1, 2, 3..., none sent, the last one COMPLETED at DONE."""
    j, rid = running.jejak, walk.request_id
    changes: list[dict[str, Any]] = []

    async def recorded() -> bool:
        listed = await j.get("admin", f"/api/eoffice/deliveries?request_id={rid}")
        assert listed["callback_configured"] is False
        items = listed["items"]
        if not items:
            return False
        last = await j.get("admin", f"/api/eoffice/deliveries/{items[-1]['delivery_id']}")
        if last["change"]["status"] != "COMPLETED":
            return False
        assert all((i["state"], i["attempts"]) == ("PENDING", 0) for i in items)
        changes[:] = [
            (await j.get("admin", f"/api/eoffice/deliveries/{i['delivery_id']}"))["change"]
            for i in items
        ]
        return True

    assert await eventually(recorded, timeout=60), f"eoffice has not recorded {rid}'s changes"
    assert [c["sequence"] for c in changes] == list(range(1, len(changes) + 1))
    moves = [(c["status"], c["step"]["code"]) for c in changes]
    assert moves[0] == ("OPEN", "RECEIVE") and moves[-1] == ("COMPLETED", "DONE")
    assert ("RETURNED", "VERIFY") in moves and ("OPEN", "UAT") in moves
    for before, after in itertools.pairwise(changes):
        assert (after["previous_status"], after["previous_step"]) == (
            before["status"],
            before["step"],
        )
    await j.send("kadis", "GET", "/api/eoffice/deliveries", expect=403)


async def test_one_request_through_all_14_steps_and_every_event_on_its_topic_in_order(
    running: Running,
) -> None:
    walk = Walk(running.jejak)
    await walk_through_all_14_steps(walk)

    done = await walk.state("dev_tracking", "kadis")
    at(done, "DONE", None)
    assert done["current_step_number"] == 14
    # approval follows the completion: no new Surat Tugas after it
    completed = await running.jejak.until("approval", walk.request_id, status="COMPLETED")
    assert completed["current_step"] == "DONE"
    intake = await walk.state("intake", "pemohon.dinkes")
    assert (intake["status"], intake["revisions"], len(intake["returns"])) == ("ASSIGNED", 1, 1)
    listed = await running.jejak.get("pemohon.dinkes", "/api/dev_tracking/requests")
    row = next(r for r in listed if r["request_id"] == walk.request_id)
    assert (row["current_step"], row["percent"]) == ("DONE", 100)

    await assert_topics(running, walk)
    await assert_status_changes_recorded(running, walk)


async def stored(conn: asyncpg.Connection, service: str, request_id: str) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            f"SELECT event_id, event_type, stream_version FROM {service}.events "
            "WHERE stream_id = $1 ORDER BY stream_version",
            request_id,
        )
    )


async def timeline(conn: asyncpg.Connection, service: str, request_id: str) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            f"SELECT event_id, event_type, own FROM {service}.timeline "
            "WHERE stream_id = $1 ORDER BY seq",
            request_id,
        )
    )


async def test_killed_services_lose_nothing_and_duplicate_nothing(
    running: Running, owner_conn: asyncpg.Connection
) -> None:
    j, processes = running.jejak, running.processes
    walk = Walk(j)
    await walk.submit()

    # An out-of-order command gets 409 naming the step, and changes nothing.
    early = await j.post(
        "pemohon.dinkes", walk.path("intake", "revise"), {"note": "Belum dikembalikan."}, expect=409
    )
    assert early["current_step"] == "RECEIVE"

    await walk.receive()
    again = await j.post("kadis", walk.path("intake", "receive"), {}, expect=409)
    assert again["current_step"] == "DISPOSE"
    too_soon = await j.post(
        "kadis",
        walk.path("approval", "assign"),
        {
            "letter_number": "800/1/X",
            "team_members": [j["dev.lead"].user_id],
            "team_lead": j["dev.lead"].user_id,
            "period_start": "2025-01-01",
            "period_end": "2025-02-01",
        },
        expect=409,
    )
    assert too_soon["current_step"] == "DISPOSE"

    # Approval dies right after the disposition was accepted, before KABID_TI acts: its relay
    # must still publish Disposed (intake learns of it) and the step must not be lost.
    await walk.dispose()
    await crash(processes["approval"])
    await restart(processes["approval"])
    at(await walk.state("approval"), "VERIFY", "KABID_TI")
    await walk.intake_follows_disposition()

    # Intake is down when KABID_TI returns the request: it must consume the return after it is
    # started again. And approval, restarted above, must consume the revision.
    await crash(processes["intake"])
    await walk.return_request()
    await on_topic(running.endpoints.kafka_login(ADMIN), "approval", walk.request_id, 2)
    await restart(processes["intake"])
    await walk.intake_sees_return()
    await walk.revise()

    await walk.verify()
    await walk.meeting()
    await walk.sign_minutes()

    # dev_tracking is down when the assignment letter is issued, so it must consume TaskAssigned
    # after it is started again.
    await crash(processes["dev_tracking"])
    await walk.assign()
    await on_topic(running.endpoints.kafka_login(ADMIN), "approval", walk.request_id, 6)
    await restart(processes["dev_tracking"])
    await walk.handed_over()

    uat_now = await j.post(
        "pemohon.dinkes",
        walk.path("dev_tracking", "uat"),
        {"result": "ACCEPTED", "minutes_number": "BA-UAT/X"},
        expect=409,
    )
    assert uat_now["current_step"] == "DEVELOP"

    await walk.develop()
    await walk.test_and_document()
    # And once more in the middle of steps 8-13: the team's next command must find everything.
    await crash(processes["dev_tracking"])
    await restart(processes["dev_tracking"])
    await walk.uat_rejected_then_accepted()
    at(await walk.state("dev_tracking"), "DONE", None)
    await j.until("approval", walk.request_id, status="COMPLETED")  # it follows the completion

    # Another OPD's requester can neither see nor touch the request.
    for service in ("intake", "approval", "dev_tracking"):
        await j.get("pemohon.disdik", walk.path(service), expect=403)
    await j.post(
        "pemohon.disdik",
        walk.path("dev_tracking", "uat"),
        {"result": "ACCEPTED", "minutes_number": "BA-UAT/DISDIK"},
        expect=403,
    )
    listed = await j.get("pemohon.disdik", "/api/intake/requests")
    assert walk.request_id not in {r["request_id"] for r in listed}

    # Each event store holds exactly one event per step, in stream order, no duplicates.
    for service, types in EXPECTED_EVENTS.items():
        rows = await stored(owner_conn, service, walk.request_id)
        assert Counter(r["event_type"] for r in rows) == Counter(types), service
        assert [r["event_type"] for r in rows] == types, service
        assert [r["stream_version"] for r in rows] == list(range(1, len(types) + 1)), service
        assert len({r["event_id"] for r in rows}) == len(rows), service
        assert [str(r["event_id"]) for r in rows] == walk.ids[service], service
        # ... and its timeline holds its own events and the ones it consumed, each once.
        seen = await timeline(owner_conn, service, walk.request_id)
        assert len({r["event_id"] for r in seen}) == len(seen), service
        assert [r["event_type"] for r in seen if r["own"]] == types, service
        consumed = [r["event_type"] for r in seen if not r["own"]]
        assert consumed == CONSUMED_EVENTS[service], service

    await assert_topics(running, walk)
