"""``GET /requests/{id}/actions`` against what the services then let each user do, along a walk.

identity, intake, approval and dev_tracking run in-process on the session's real Kafka and
PostgreSQL, under one address (``/api/<service>/...``, as the gateway serves them). The demo users
and a Plt KADIS (a user with no role of its own, delegated KADIS now) log in there. One request is
walked through the SOP (``tests/e2e/sop.py``) with a return and its revision, the Plt disposing
for the KADIS, a failed system test and its retest, and a rejected UAT. After every move, for
every user and every per-request command of intake, approval and dev_tracking:

- the actions route answers as ``GET /requests/{id}`` does (200, or the same 403 or 404);
- a command it does not list is refused when given with a valid body (403, or 409 naming the
  step; 404 only where the service does not know the request) and nothing changes anywhere;
- a command it lists succeeds with a valid body: the walk's own next move does; every other one
  is given on a twin request walked to the same point (once per equivalent point: the same
  step and status in that service and the same actions listed to that user).
"""

import asyncio
import datetime as dt
import hashlib
import itertools
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from infra.settings import Settings
from services.approval.bootstrap import create_app as create_approval
from services.dev_tracking.bootstrap import create_app as create_dev_tracking
from services.identity.bootstrap import create_app as create_identity
from services.intake.bootstrap import create_app as create_intake
from services.intake.config import IntakeConfig
from tests.e2e.sop import (
    FULL_PROCESS,
    MANUAL,
    RETURN_REASONS,
    STARTED,
    TESTED,
    USERNAMES,
    Jejak,
    Walk,
)

PLT = "plt.kadis"
PEOPLE = (*USERNAMES, PLT)
SERVICES = ("intake", "approval", "dev_tracking")
TWINS_AT_ONCE = 6
"""How many twin requests are walked at the same time."""

SERIAL = itertools.count(1)
MANUAL_FILE = {
    "sha256": hashlib.sha256(MANUAL).hexdigest(),
    "size_bytes": len(MANUAL),
    "media_type": "application/pdf",
    "filename": "manual-simpus.pdf",
}

State = dict[str, Any] | None


@dataclass(frozen=True)
class Ctx:
    """What a valid body is built from: the request, each service's state of it (as the
    auditor reads it) and the action listed for the command, if any."""

    walk: Walk
    states: dict[str, State]
    action: dict[str, Any] | None

    def of(self, service: str) -> dict[str, Any]:
        return self.states[service] or {}


@dataclass(frozen=True)
class Command:
    service: str
    name: str
    path: Callable[[Ctx], str]
    body: Callable[[Ctx], dict[str, Any]]


def fixed(tail: str) -> Callable[[Ctx], str]:
    return lambda _: tail


def _missing(ctx: Ctx) -> dict[str, Any]:
    return {"acknowledged_missing": [m["section"] for m in ctx.of("approval")["missing_sections"]]}


def _problem(ctx: Ctx) -> str:
    if ctx.action is not None:
        return f"problems/{ctx.action['problem_ids'][0]}/solve"
    problems = ctx.of("dev_tracking").get("problems") or [{"problem_id": "P-1"}]
    return f"problems/{problems[-1]['problem_id']}/solve"


def _test(ctx: Ctx) -> dict[str, Any]:
    due = ctx.action["test_kind"] if ctx.action else ctx.of("dev_tracking").get("next_test")
    return {
        "kind": due or "SYSTEM",
        "result": "PASSED",
        "minutes_number": f"BA-UJI/ALT/{next(SERIAL)}",
        "findings": [],
        "tested_on": str(TESTED),
    }


def _progress(ctx: Ctx) -> dict[str, Any]:
    last = (ctx.of("dev_tracking").get("progress") or {}).get("percent")
    return {"percent": last or 10, "note": "Kemajuan dilaporkan lagi."}


def _uat(ctx: Ctx) -> dict[str, Any]:
    result = ctx.action["uat_results"][0] if ctx.action else "ACCEPTED"
    minutes = f"BA-UAT/ALT/{next(SERIAL)}"
    if result == "REJECTED":
        return {"result": result, "minutes_number": minutes, "findings": ["Perlu diubah."]}
    return {"result": result, "minutes_number": minutes}


COMMANDS: dict[str, tuple[Command, ...]] = {
    "intake": (
        Command(
            "intake",
            "ReceiveRequest",
            fixed("receive"),
            lambda _: {"agenda_number": f"AG/ALT/{next(SERIAL)}"},
        ),
        Command(
            "intake",
            "ReviseRequest",
            fixed("revise"),
            lambda _: {"business_process": FULL_PROCESS, "note": "Dilengkapi."},
        ),
        Command("intake", "WithdrawRequest", fixed("withdraw"), lambda _: {"reason": "Dialihkan."}),
    ),
    "approval": (
        Command("approval", "Dispose", fixed("dispose"), lambda _: {"note": "Mohon diperiksa."}),
        Command("approval", "VerifyDocuments", fixed("verify"), _missing),
        Command(
            "approval", "ReturnRequest", fixed("return"), lambda _: {"reasons": RETURN_REASONS}
        ),
        Command("approval", "RecordMeeting", fixed("meeting"), lambda c: c.walk.meeting_body()),
        Command(
            "approval",
            "SignMinutes",
            fixed("sign-minutes"),
            lambda c: {"signatories": c.walk.signatories()},
        ),
        Command("approval", "AssignTeam", fixed("assign"), lambda c: c.walk.assignment_body()),
        Command("approval", "RejectRequest", fixed("reject"), lambda _: {"reason": "Ditolak."}),
    ),
    "dev_tracking": (
        Command(
            "dev_tracking",
            "StartDevelopment",
            fixed("start"),
            lambda _: {"started_on": str(STARTED)},
        ),
        Command("dev_tracking", "ReportProgress", fixed("progress"), _progress),
        Command(
            "dev_tracking",
            "RecordProblem",
            fixed("problems"),
            lambda _: {"description": "Sertifikat server kedaluwarsa.", "severity": "LOW"},
        ),
        Command(
            "dev_tracking", "SolveProblem", _problem, lambda _: {"solution": "Sudah diperbarui."}
        ),
        Command("dev_tracking", "RecordTestResult", fixed("tests"), _test),
        Command(
            "dev_tracking",
            "PublishManual",
            fixed("manual"),
            lambda _: {
                "title": "Buku Manual SIMPUS",
                "document": MANUAL_FILE,
                "version": f"2.{next(SERIAL)}",
            },
        ),
        Command("dev_tracking", "RecordUat", fixed("uat"), _uat),
    ),
}
BY_NAME = {c.name: c for commands in COMMANDS.values() for c in commands}


# --- the moves of the walk ----------------------------------------------------------------------


Move = Callable[[Walk], Awaitable[Any]]


async def submit(w: Walk) -> None:
    await w.submit()
    await w.j.until("approval", w.request_id, status="SUBMITTED")


async def receive(w: Walk) -> None:
    await w.receive()


async def dispose_by_plt(w: Walk) -> None:
    body = {"note": "Mohon diperiksa kelengkapannya.", "disposition_number": "005/117/2025"}
    await w.command(PLT, "approval", "dispose", body, "VERIFY", "KABID_TI")
    await w.intake_follows_disposition()


async def return_request(w: Walk) -> None:
    await w.return_request()
    await w.intake_sees_return()


async def revise(w: Walk) -> None:
    await w.revise()


async def verify(w: Walk) -> None:
    await w.verify()
    await w.j.until("intake", w.request_id, current_step="MEETING")


async def meeting(w: Walk) -> None:
    await w.meeting()
    await w.j.until("intake", w.request_id, current_step="SIGN_MINUTES")


async def sign(w: Walk) -> None:
    await w.sign_minutes()
    await w.j.until("intake", w.request_id, current_step="ASSIGN")


async def assign(w: Walk) -> None:
    await w.assign()
    await w.handed_over()


def dev(who: str, command: str, body: dict[str, Any], step: str, acts: str | None) -> Move:
    async def move(w: Walk) -> None:
        await w.command(who, "dev_tracking", command, body, step, acts)

    return move


async def solve_first_problem(w: Walk) -> None:
    state = await w.state("dev_tracking")
    [open_problem] = state["open_problems"]
    await w.command(
        "dev.anggota",
        "dev_tracking",
        f"problems/{open_problem}/solve",
        {"solution": "Memakai VM dari pusat data."},
        "DEVELOP",
        "TIM_PENGEMBANG",
    )


def trial(who: str, kind: str, result: str, number: str, step: str, acts: str | None) -> Move:
    findings = ("Login gagal untuk NIK berawalan 0",) if result == "FAILED" else ()

    async def move(w: Walk) -> None:
        await w.test_run(who, kind, result, number, step, acts, findings)

    return move


async def accept_uat(w: Walk) -> None:
    """The accepted UAT completes the request; approval follows (no Surat Tugas after it)."""
    body = {"result": "ACCEPTED", "minutes_number": "BA-UAT/117/2"}
    await w.command("pemohon.dinkes", "dev_tracking", "uat", body, "DONE", None)
    await w.j.until("approval", w.request_id, status="COMPLETED")


TEAM = "TIM_PENGEMBANG"
WALK: tuple[tuple[Move, tuple[str, str] | None], ...] = (
    (submit, None),
    (receive, ("kadis", "ReceiveRequest")),
    (dispose_by_plt, (PLT, "Dispose")),
    (return_request, ("kabid.ti", "ReturnRequest")),
    (revise, ("pemohon.dinkes", "ReviseRequest")),
    (verify, ("kabid.ti", "VerifyDocuments")),
    (meeting, ("kabid.ti", "RecordMeeting")),
    (sign, ("kabid.ti", "SignMinutes")),
    (assign, ("kadis", "AssignTeam")),
    (
        dev("dev.lead", "start", {"started_on": str(STARTED)}, "DEVELOP", TEAM),
        ("dev.lead", "StartDevelopment"),
    ),
    (
        dev(
            "dev.anggota",
            "progress",
            {"percent": 60, "note": "Registrasi selesai."},
            "DEVELOP",
            TEAM,
        ),
        ("dev.anggota", "ReportProgress"),
    ),
    (
        dev(
            "dev.lead",
            "problems",
            {"description": "Server uji belum tersedia.", "severity": "HIGH"},
            "DEVELOP",
            TEAM,
        ),
        ("dev.lead", "RecordProblem"),
    ),
    (solve_first_problem, ("dev.anggota", "SolveProblem")),
    (
        trial("dev.lead", "SYSTEM", "FAILED", "BA-UJI/117/1", "SYSTEM_TEST", TEAM),
        ("dev.lead", "RecordTestResult"),
    ),
    (
        trial("dev.lead", "SYSTEM", "PASSED", "BA-UJI/117/2", "UNIT_TEST", TEAM),
        ("dev.lead", "RecordTestResult"),
    ),
    (
        trial("dev.anggota", "UNIT", "PASSED", "BA-UJI/117/3", "INTEGRATION_TEST", TEAM),
        ("dev.anggota", "RecordTestResult"),
    ),
    (
        trial("dev.lead", "INTEGRATION", "PASSED", "BA-UJI/117/4", "MANUAL", TEAM),
        ("dev.lead", "RecordTestResult"),
    ),
    (
        dev(
            "dev.lead",
            "manual",
            {"title": "Buku Manual SIMPUS", "document": MANUAL_FILE, "version": "1.0"},
            "UAT",
            "PEMOHON",
        ),
        ("dev.lead", "PublishManual"),
    ),
    (
        dev(
            "pemohon.dinkes",
            "uat",
            {
                "result": "REJECTED",
                "minutes_number": "BA-UAT/117/1",
                "findings": ["Laporan bulanan belum bisa diunduh sebagai Excel."],
            },
            "DEVELOP",
            TEAM,
        ),
        ("pemohon.dinkes", "RecordUat"),
    ),
    (
        dev("dev.anggota", "progress", {"percent": 100, "note": "Unduh Excel."}, "DEVELOP", TEAM),
        ("dev.anggota", "ReportProgress"),
    ),
    (
        trial("dev.lead", "INTEGRATION", "PASSED", "BA-UJI/117/5", "UAT", "PEMOHON"),
        ("dev.lead", "RecordTestResult"),
    ),
    (accept_uat, ("pemohon.dinkes", "RecordUat")),
)
"""Each move, and the (user, command) it gives: every one must have been listed to that user
at the point before it."""


# --- the stack ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def jejak(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Jejak]:
    """The four services behind one address, the demo users and a Plt KADIS logged in."""
    keys = tmp_path_factory.mktemp("keys")
    configured = settings.model_copy(update={"jwt_key_dir": str(keys)})
    apps = {
        "identity": create_identity(configured),  # seeds the demo users if there are none yet
        # the twins walk as one requester at once: more uploads at a time than a person makes
        "intake": create_intake(configured, IntakeConfig(uploads_at_once_per_user=64)),
        "approval": create_approval(configured),
        "dev_tracking": create_dev_tracking(configured),
    }
    gateway = Starlette(routes=[Mount(f"/api/{name}", app=app) for name, app in apps.items()])
    async with AsyncExitStack() as running:
        for app in apps.values():
            await running.enter_async_context(app.router.lifespan_context(app))
        client = await running.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=gateway), base_url="http://jejak", timeout=60
            )
        )
        j = Jejak(client)
        await j.login_all()
        await _plt_kadis(j)
        yield j


async def _plt_kadis(j: Jejak) -> None:
    """A user with no role of its own, Plt of the demo KADIS from an hour ago to three hours on."""
    username = f"plt.kadis.{uuid.uuid4().hex[:8]}"
    password = "kata-sandi-plt-kadis"
    created = await j.post(
        "admin",
        "/api/identity/users",
        {
            "username": username,
            "password": password,
            "full_name": "Plt. Kepala Dinas",
            "opd": "DISKOMINFOSTANDI",
            "roles": [],
        },
        expect=201,
    )
    now = dt.datetime.now(dt.UTC)
    await j.post(
        "admin",
        "/api/identity/delegations",
        {
            "delegate_user_id": created["user"]["user_id"],
            "official_user_id": j["kadis"].user_id,
            "role": "KADIS",
            "kind": "PLT",
            "valid_from": (now - dt.timedelta(hours=1)).isoformat(),
            "valid_until": (now + dt.timedelta(hours=3)).isoformat(),
            "reason": "Kadis dinas luar; Surat Perintah 800/12/2025",
        },
        expect=201,
    )
    j.users[PLT] = await j.login(username, password)


# --- one point of the walk ------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """A command listed to a user at a point of the walk."""

    point: int
    user: str
    command: str
    action: dict[str, Any]
    key: str
    """What makes two offers equivalent: the service's step and status, the user's actions."""


async def states(w: Walk) -> dict[str, State]:
    found: dict[str, State] = {}
    for service in SERVICES:
        answer = await w.j.client.get(w.path(service), headers=w.j["auditor"].headers)
        assert answer.status_code in (200, 404), answer.text
        found[service] = answer.json() if answer.status_code == 200 else None
    return found


async def listed(w: Walk, user: str, service: str) -> tuple[int, dict[str, dict[str, Any]]]:
    """The actions route's answer to ``user``, checked against the request's GET."""
    headers = w.j[user].headers
    seen = await w.j.client.get(w.path(service), headers=headers)
    answer = await w.j.client.get(w.path(service, "actions"), headers=headers)
    assert answer.status_code == seen.status_code, (user, service, answer.text, seen.text)
    if answer.status_code != 200:
        return answer.status_code, {}
    body = answer.json()
    assert body["request_id"] == w.request_id
    return 200, {a["command"]: a for a in body["actions"]}


async def give(w: Walk, user: str, command: Command, ctx: Ctx) -> httpx.Response:
    return await w.j.client.post(
        w.path(command.service, command.path(ctx)),
        json=command.body(ctx),
        headers=w.j[user].headers,
    )


async def point(w: Walk, number: int) -> list[Offer]:
    """Check every user's actions at this point; the offers to prove."""
    before = await states(w)
    offers: list[Offer] = []
    for user in PEOPLE:
        for service in SERVICES:
            seen, actions = await listed(w, user, service)
            shape = before[service] or {}
            key = json.dumps(
                [service, shape.get("current_step"), shape.get("status"), user, actions],
                sort_keys=True,
            )
            for command in COMMANDS[service]:
                action = actions.get(command.name)
                if action is not None:
                    assert action["label"] and action["role"], action
                    offers.append(Offer(number, user, command.name, action, key + command.name))
                    continue
                answer = await give(w, user, command, Ctx(w, before, None))
                refusals = {403, 409} | ({404} if seen == 404 else set())
                assert answer.status_code in refusals, (
                    f"point {number}: {user} {command.name} not listed, got "
                    f"{answer.status_code} {answer.text}"
                )
                if answer.status_code == 409:
                    assert answer.json()["current_step"], answer.text
    assert await states(w) == before, f"point {number}: a refused command changed something"
    return offers


async def twin_at(j: Jejak, number: int) -> Walk:
    twin = Walk(j)
    for move, _ in WALK[: number + 1]:
        await move(twin)
    return twin


async def prove(j: Jejak, offer: Offer, gate: asyncio.Semaphore) -> None:
    """Give the offered command on a twin walked to the same point: it succeeds."""
    async with gate:
        twin = await twin_at(j, offer.point)
        command = BY_NAME[offer.command]
        _, actions = await listed(twin, offer.user, command.service)
        action = actions.get(offer.command)
        assert action == offer.action, (offer, actions)
        answer = await give(twin, offer.user, command, Ctx(twin, await states(twin), action))
        assert answer.status_code == 200, (offer.point, offer.user, offer.command, answer.text)


@pytest.mark.timeout(900)
async def test_every_listed_action_succeeds_and_every_other_command_is_refused(
    jejak: Jejak,
) -> None:
    walk = Walk(jejak)
    proven: set[str] = set()
    to_prove: dict[str, Offer] = {}
    offers: list[Offer] = []
    for number, (move, gives) in enumerate(WALK):
        if gives is not None:
            user, name = gives
            taken = next((o for o in offers if (o.user, o.command) == gives), None)
            assert taken is not None, f"move {number}: {user} {name} was not listed"
            proven.add(taken.key)
        await move(walk)
        for offer in offers:
            if offer.key not in proven:
                to_prove.setdefault(offer.key, offer)
        offers = await point(walk, number)
        if number == 1:  # the Plt disposes next, as the KADIS it stands in for
            plt = next(o.action for o in offers if (o.user, o.command) == (PLT, "Dispose"))
            assert plt["role"] == "KADIS"
            assert plt["on_behalf_of"] == {
                "user_id": jejak["kadis"].user_id,
                "role": "KADIS",
                "kind": "PLT",
            }
    assert offers == [], "nothing is left to do once the request is done"
    pending = [o for key, o in to_prove.items() if key not in proven]
    assert len(pending) > 20, "the twins must prove the other offers"
    gate = asyncio.Semaphore(TWINS_AT_ONCE)
    await asyncio.gather(*(prove(jejak, offer, gate) for offer in pending))


async def test_the_walks_client_renews_a_refused_access_token(jejak: Jejak) -> None:
    """Access tokens live minutes and a long walk (the fault suite's) outlives them: a 401 is
    answered by a refresh and the call is sent again."""
    kadis = jejak["kadis"]
    kadis.headers = {"Authorization": "Bearer no-longer-valid"}

    me = await jejak.get("kadis", "/api/identity/me")

    assert me["username"] == "kadis"
    assert kadis.headers["Authorization"] != "Bearer no-longer-valid"
