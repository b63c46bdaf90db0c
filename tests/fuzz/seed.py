"""Real things for the fuzzer to aim at, made through the API as the demo users: requests at
several steps (the e2e walk's steps, reused), an attachment, two throwaway users and a delegation
between them (never the demo users themselves, whose roles later tests rely on)."""

import datetime as dt
import uuid
from typing import Any

from services.identity.demo import DEMO_PASSWORD
from tests.e2e.sop import Jejak, User, Walk

ADMIN = "admin"
CALLERS = ("pemohon.dinkes", "pemohon.disdik", "kadis", "kabid.ti", "dev.lead", "auditor", ADMIN)
"""Whose tokens the fuzzer calls with, in turn: every role, and a requester of another OPD."""


async def log_in(j: Jejak) -> dict[str, str]:
    """Every caller logged in; their bearer tokens by username."""
    await j.login_all()
    login = await j.client.post(
        "/api/identity/login", json={"username": ADMIN, "password": DEMO_PASSWORD}
    )
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    j.users[ADMIN] = User(ADMIN, "", "Admin", None, ["ADMIN"], {"Authorization": f"Bearer {token}"})
    return {u: j[u].headers["Authorization"].removeprefix("Bearer ") for u in CALLERS}


async def requests_at_several_steps(j: Jejak) -> dict[str, list[str]]:
    """Request ids (submitted; received; returned to the requester; in development with a
    solved problem P-1) and the sha256 of an attachment the first one carries."""
    submitted = Walk(j)
    state = await submitted.submit()
    received = Walk(j)
    await received.submit()
    await received.receive()
    returned = Walk(j)
    for step in (
        returned.submit,
        returned.receive,
        returned.dispose,
        returned.return_request,
        returned.intake_sees_return,
    ):
        await step()
    developing = Walk(j)
    for step in (
        developing.submit,
        developing.receive,
        developing.dispose,
        developing.return_request,
        developing.intake_sees_return,
        developing.revise,
        developing.verify,
        developing.meeting,
        developing.sign_minutes,
        developing.assign,
        developing.handed_over,
        developing.develop,
    ):
        await step()
    walks = (submitted, received, returned, developing)
    return {
        "request_id": [w.request_id for w in walks],
        "sha256": [state["attachments"][0]["sha256"]],
        "problem_id": ["P-1"],
    }


async def throwaway_delegation(j: Jejak) -> dict[str, list[str]]:
    """Two fresh users (an official holding KABID_TI and a would-be acting official) and a
    delegation between them: ids for identity's paths."""
    tag = uuid.uuid4().hex[:8]

    async def user(name: str, roles: list[str]) -> str:
        body: dict[str, Any] = {
            "username": f"fuzz.{name}.{tag}",
            "password": "rahasia-fuzz-1",
            "full_name": f"Fuzz {name}",
            "opd": "DISKOMINFOSTANDI",
            "roles": roles,
        }
        created = await j.post(ADMIN, "/api/identity/users", body, expect=201)
        return str(created["user"]["user_id"])

    official = await user("pejabat", ["KABID_TI"])
    delegate = await user("pelaksana", [])
    now = dt.datetime.now(dt.UTC)
    granted = await j.post(
        ADMIN,
        "/api/identity/delegations",
        {
            "delegate_user_id": delegate,
            "official_user_id": official,
            "role": "KABID_TI",
            "kind": "PLH",
            "valid_from": now.isoformat(),
            "valid_until": (now + dt.timedelta(days=7)).isoformat(),
            "reason": "Surat Perintah uji fuzz.",
        },
        expect=201,
    )
    delegation_id = str(granted["delegation"]["delegation_id"])
    return {"user_id": [official, delegate], "delegation_id": [delegation_id]}
