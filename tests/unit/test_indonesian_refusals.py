"""Every refusal a person reads is Indonesian.

The messages are gathered, not listed by hand: every command of intake, approval and
dev_tracking is decided at every state of their unit tests' walks by every kind of caller, in
valid and invalid variants (so that ``NotAllowed``, ``NotFound``, ``WrongStep`` and
``InvalidInput`` all occur); and the 422s of an app with the services' error handlers are
collected for bodies that break every kind of rule of the command models. Each message must be
free of common English words once identifiers (field paths, codes, quoted values) are set aside.
"""

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from infra.errors import DomainError, InvalidInput, NotAllowed, NotFound, WrongStep
from infra.http import install_error_handlers
from infra.limits import limit_input
from services.approval import domain as approval
from services.approval.commands import RecordMeetingData, SignMinutesData, VerifyDocumentsData
from services.dev_tracking import commands as dev_commands
from services.dev_tracking import domain as dev
from services.intake import domain as intake
from services.intake.commands import ReceiveDetails, SubmitDetails
from tests.unit import test_approval_domain as a
from tests.unit import test_available_actions as actions
from tests.unit import test_dev_tracking_domain as d
from tests.unit import test_intake_domain as i

ENGLISH = re.compile(
    r"\b(the|is|are|was|were|be|been|has|have|must|cannot|can|not|no|should|of|to|and|or|"
    r"with|for|when|while|only|this|that|field|required|value|error|invalid|valid|already|"
    r"before|after|missing|listed|twice|request|step|input|string|characters?|least|most|"
    r"allowed|unknown|expected|given|due|found|does|problem|minutes|team|period|member|signed|"
    r"meeting|sections?|rejected|accepted|withdrawn|returned|waiting|development|started|"
    r"future|progress|published|findings?|expired|please|should|item|items|greater|less|than|"
    r"equal|extra|permitted|forbidden|parsing|type)\b",
    re.IGNORECASE,
)
"""Common English words; none is an Indonesian word."""

IDENTIFIERS = re.compile(
    r"'[^']*'"  # a quoted value or choice
    r"|[A-Za-z0-9]+(?:[_.:/-][A-Za-z0-9]+)+"  # a field path, an id, a number
    r"|\b[A-Z][A-Z0-9_]+\b"  # a code: KADIS, EOFFICE, UAT
)


def english_in(message: str) -> list[str]:
    return ENGLISH.findall(IDENTIFIERS.sub(" ", message))


def refusal(decide: Callable[..., object], *args: object) -> DomainError | None:
    try:
        decide(*args)
    except DomainError as error:
        return error
    return None


# --- the deciders -------------------------------------------------------------------------------


def intake_refusals() -> Iterator[DomainError | None]:
    future = i.LETTER.model_copy(update={"date": i.NOW.date() + dt.timedelta(days=3)})
    big = i.attachment(9, size=intake.MAX_ATTACHMENT_BYTES + 1)
    commands = (
        i.receive_cmd(),
        i.revise_cmd(),
        i.revise_cmd(letter=future),
        i.revise_cmd(attachments=(big,)),
        i.withdraw_cmd(),
    )
    for name in actions.INTAKE_HISTORIES:
        state = actions.intake_state(name)
        for command in commands:
            for caller in actions.INTAKE_CALLERS:
                yield refusal(intake.decide, state, command, caller, i.NOW)
    for caller in actions.INTAKE_CALLERS:
        yield refusal(intake.decide, None, i.receive_cmd(), caller, i.NOW)
        yield refusal(intake.decide, None, i.submit_cmd(letter=future), caller, i.NOW)
        yield refusal(intake.decide, None, i.submit_cmd(attachments=(big,)), caller, i.NOW)
    yield refusal(intake.ensure_visible, None, i.REQ, i.REQUESTER)
    submitted = actions.intake_state("submitted")
    yield refusal(intake.decide, submitted, i.submit_cmd(), i.REQUESTER, i.NOW)


def approval_refusals() -> Iterator[DomainError | None]:
    meet_early = a.MEET.model_copy(update={"held_at": a.NOW + dt.timedelta(days=1)})
    twice = a.MEET.model_copy(update={"participants": (a.PARTICIPANTS[1], a.PARTICIPANTS[1])})
    assign_bad = [
        a.ASSIGN.model_copy(update={"team_members": ("u-dev1", "u-dev1")}),
        a.ASSIGN.model_copy(update={"team_lead": "u-other"}),
        a.ASSIGN.model_copy(update={"period_end": dt.date(2024, 1, 1)}),
    ]
    signs = [
        a.SignMinutes(request_id=a.REQ, signatories=signatories)
        for signatories in (
            (a.KABID,),
            (a.REQUESTER,),
            (a.KABID, a.REQUESTER, a.AUDITOR_SIG),
            (a.KABID, a.REQUESTER, a.KABID.model_copy(update={"role": "KADIS"})),
        )
    ]
    verify_bad = [
        a.VERIFY.model_copy(update={"acknowledged_missing": ("business_process.user_roles",)}),
    ]
    commands = [*a.COMMANDS, meet_early, twice, *assign_bad, *signs, *verify_bad]
    for state in a.STATES.values():
        for command in commands:
            for caller in actions.APPROVAL_CALLERS:
                yield refusal(approval.decide, state, command, caller, a.NOW)
    partial = approval.fold([a.submitted(a.PARTIAL_PROCESS), a.RECEIVED, a.DISPOSED])
    yield refusal(approval.decide, partial, a.VERIFY, a.principal("KABID_TI"), a.NOW)
    yield refusal(approval.decide, approval.INITIAL, a.DISPOSE, a.principal("KADIS"), a.NOW)
    yield refusal(approval.ensure_visible, approval.INITIAL, a.principal("KADIS"))


def dev_refusals() -> Iterator[DomainError | None]:
    field_rules = [(case[1], case[2]) for case in d.FIELD_RULES]
    out_of_order = [(case[1], case[2]) for case in d.OUT_OF_ORDER]
    for state_at, command in (*field_rules, *out_of_order):
        who = d.REQUESTER if d.required_role(command) == "PEMOHON" else d.DEV
        yield refusal(dev.decide, state_at(), command, who, d.NOW)
    for make in actions.DEV_STATES.values():
        state = make()
        for command in actions.dev_commands(state):
            for caller in actions.DEV_CALLERS:
                yield refusal(dev.decide, state, command, caller, d.NOW)
        wrong_kinds = [d.result_cmd(kind, minutes="BA-X/8") for kind in ("SYSTEM", "UNIT")]
        for command in wrong_kinds:
            yield refusal(dev.decide, state, command, d.DEV, d.NOW)
    yield refusal(dev.decide, dev.fold([]), d.START_CMD, d.DEV, d.NOW)
    yield refusal(dev.ensure_visible, dev.fold([]), d.DEV)
    unknown = d.SOLVE.model_copy(update={"problem_id": "P-9"})
    yield refusal(dev.decide, d.with_problem(), unknown, d.DEV, d.NOW)
    solved = d.run(d.run(d.with_problem(), d.PROBLEM, d.DEV), d.SOLVE, d.DEV)
    yield refusal(dev.decide, solved, d.SOLVE, d.DEV, d.NOW)


def decider_messages() -> dict[str, set[type[DomainError]]]:
    found: dict[str, set[type[DomainError]]] = {}
    for error in (*intake_refusals(), *approval_refusals(), *dev_refusals()):
        if error is not None:
            found.setdefault(error.message, set()).add(type(error))
    return found


def test_every_refusal_of_the_deciders_is_indonesian() -> None:
    messages = decider_messages()
    kinds = set().union(*messages.values())
    assert {NotAllowed, NotFound, WrongStep, InvalidInput} <= kinds
    assert len(messages) > 100, "the sweep must reach the refusals"
    english = {m: english_in(m) for m in messages if english_in(m)}
    assert english == {}


# --- the validation errors ----------------------------------------------------------------------


def validation_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    limit_input(app)
    models = {
        "meeting": RecordMeetingData,
        "sign": SignMinutesData,
        "verify": VerifyDocumentsData,
        "test": dev_commands.TestResultBody,
        "progress": dev_commands.ProgressBody,
        "uat": dev_commands.UatBody,
        "submit": SubmitDetails,
        "receive": ReceiveDetails,
    }
    for name, model in models.items():

        def route(body: Any) -> dict[str, str]:
            return {"ok": "ya"}

        route.__annotations__["body"] = model
        app.post(f"/{name}")(route)

    @app.get("/list")
    def listing(limit: int = 10, since: dt.date | None = None) -> dict[str, str]:
        return {"ok": "ya"}

    return app


BAD_BODIES: list[tuple[str, Any]] = [
    ("meeting", {}),
    (
        "meeting",
        {
            "held_at": "2024-01-01T09:00:00",
            "participants": "semua",
            "scope": "",
            "timeline": {"planned_start": "kemarin", "planned_end": 5},
            "minutes_number": "BA\n1",
            "notes": 7,
            "tambahan": True,
        },
    ),
    ("meeting", {"held_at": 1718000000, "participants": [{}] * 201}),
    ("sign", {"signatories": [{"user_id": "u 1", "name": "x" * 300, "role": "BUPATI"}]}),
    ("verify", {"acknowledged_missing": ["bukan.bagian", "bukan.bagian"]}),
    ("verify", {"acknowledged_missing": ["business_process.user_roles"] * 2}),
    (
        "test",
        {
            "kind": "SMOKE",
            "result": True,
            "minutes_number": "x" * 101,
            "findings": ["a"] * 201,
            "tested_on": "31-01-2025",
        },
    ),
    ("test", {"tested_on": "2200-01-01"}),
    ("progress", {"percent": 101, "note": "\x00"}),
    ("progress", {"percent": "separuh", "note": ["a"]}),
    ("progress", {"percent": -1, "note": " spasi "}),
    ("uat", {"result": "MAYBE", "minutes_number": None}),
    (
        "submit",
        {
            "title": "",
            "summary": 5,
            "letter": {"number": "", "date": "2024-02-30"},
            "attachments": [
                {"sha256": "xyz", "size_bytes": -1, "media_type": "", "filename": ".."},
            ],
            "submitted_via": "FAX",
        },
    ),
    ("submit", {"letter": "surat"}),
    ("receive", {"agenda_number": ""}),
    ("receive", []),
]


@pytest.fixture(scope="module")
async def answers() -> list[dict[str, Any]]:
    transport = httpx.ASGITransport(app=validation_app())
    found = []
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for route, body in BAD_BODIES:
            answer = await client.post(f"/{route}", json=body)
            assert answer.status_code == 422, (route, body, answer.text)
            found.append(answer.json())
        for raw in (b"{", b'{"percent": 1,}', b"\xff"):
            answer = await client.post(
                "/progress", content=raw, headers={"Content-Type": "application/json"}
            )
            assert answer.status_code == 422, answer.text
            found.append(answer.json())
        for params in ({"limit": "banyak"}, {"since": "kemarin"}, {"nmae": "x"}):
            answer = await client.get("/list", params=params)
            assert answer.status_code == 422, answer.text
            found.append(answer.json())
    return found


async def test_every_validation_error_is_indonesian_and_names_its_field(
    answers: list[dict[str, Any]],
) -> None:
    messages = {answer["message"] for answer in answers}
    for answer in answers:
        assert answer["errors"], answer
        for problem in answer["errors"]:
            assert problem["field"], problem
            messages.add(problem["message"])
    assert len(messages) > 40, "the bodies must break many kinds of rule"
    english = {m: english_in(m) for m in messages if english_in(m)}
    assert english == {}


async def test_a_missing_field_says_to_fill_it_in(answers: list[dict[str, Any]]) -> None:
    problems = {p["field"]: p["message"] for p in answers[0]["errors"]}
    assert problems["body.scope"] == "Isi lingkup."
    assert "body.minutes_number" not in problems  # left to the register
    assert problems["body.held_at"] == "Isi waktu rapat."
    [receive] = answers[BAD_BODIES.index(("receive", {"agenda_number": ""}))]["errors"]
    assert receive == {
        "field": "body.agenda_number",
        "message": "Isi nomor agenda.",
        "type": "string_too_short",
    }


def test_the_scan_knows_english_when_it_sees_it() -> None:
    assert english_in("cannot verify the documents: the request is at step 3 DISPOSE")
    assert english_in("Field required")
    assert english_in("String should have at most 100 characters")
    assert not english_in(
        "Pemeriksaan kelengkapan dokumen (langkah 4) tidak dapat dilakukan sekarang: permohonan "
        "sedang pada langkah 3 (Membaca surat/permintaan dan mendisposisi kepada Kepala Bidang "
        "TIK), menunggu Kepala Dinas."
    )
    assert not english_in("Isi acknowledged_missing dengan 'LOW', 'HIGH' atau 'CRITICAL'.")
