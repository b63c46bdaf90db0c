"""The end-to-end walk of one request through the SOP's 14 steps, by HTTP through the gateway,
as the demo users. Each method is one step (or one part of a loop) and asserts the state the
step leaves in the service that owns it; a step that another service must learn of over Kafka is
awaited with ``until`` before the next one acts."""

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.identity.demo import DEMO_PASSWORD
from tests.kafka_helpers import eventually

WIB = dt.timezone(dt.timedelta(hours=7))
TODAY = dt.datetime.now(WIB).date()
STARTED = TODAY - dt.timedelta(days=20)
TESTED = TODAY - dt.timedelta(days=1)

USERNAMES = (
    "pemohon.dinkes",
    "pemohon.disdik",
    "kadis",
    "kabid.ti",
    "dev.lead",
    "dev.anggota",
    "auditor",
    "admin",
)

LETTER = {"number": "440/017/DINKES/2025", "date": str(TODAY - dt.timedelta(days=3))}
NEEDS = {
    "background": "Pendataan kunjungan pasien puskesmas masih di buku register.",
    "objectives": "Kunjungan tercatat sekali dan laporan bulanan otomatis.",
    "intended_users": ["Petugas pendaftaran", "Dokter", "Kepala puskesmas"],
    "features": ["Registrasi pasien", "Rekam kunjungan", "Laporan bulanan"],
    "platform": "Web, PostgreSQL, di pusat data Diskominfostandi",
}
PARTIAL_PROCESS = {
    "system_flow": "Petugas mendaftarkan pasien, dokter mencatat diagnosis.",
    "input_data": ["Identitas pasien (NIK)", "Diagnosis"],
    "output_data": ["Laporan kunjungan bulanan"],
    "validation_mechanism": "NIK 16 digit, diperiksa ganda.",
    "forms_and_reporting": "Formulir pendaftaran; laporan bulanan ke Dinkes.",
}
FULL_PROCESS = {
    **PARTIAL_PROCESS,
    "user_roles": ["Petugas", "Dokter", "Kepala puskesmas"],
    "access_rights_management": "Hak akses per peran; dokter saja yang melihat diagnosis.",
    "user_management": "Admin Dinkes membuat dan menonaktifkan akun.",
    "database_management": "Backup harian, disimpan 5 tahun.",
}
MISSING_AT_SUBMIT = [
    "business_process.user_roles",
    "business_process.access_rights_management",
    "business_process.user_management",
    "business_process.database_management",
]
RETURN_REASONS = ["Role pengguna dan manajemen hak akses, user serta database belum diisi."]
MANUAL = b"%PDF-1.7 Buku Manual SIMPUS versi 1.0"


@dataclass
class User:
    username: str
    user_id: str
    full_name: str
    opd: str | None
    roles: list[str]
    headers: dict[str, str]
    refresh_token: str | None = None
    """What renews ``headers``' access token, which lives minutes (a walk may take longer)."""


@dataclass
class Jejak:
    """The demo users, logged in through the gateway, and HTTP calls as them."""

    client: httpx.AsyncClient
    users: dict[str, User] = field(default_factory=dict)
    patience: float = 60.0
    """How long ``until`` waits for a service to learn of another's step, by default."""

    async def login_all(self) -> None:
        for username in USERNAMES:
            await self.login(username)

    async def login(self, username: str, password: str = DEMO_PASSWORD) -> User:
        login = await self.client.post(
            "/api/identity/login", json={"username": username, "password": password}
        )
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        me = await self.client.get("/api/identity/me", headers=headers)
        assert me.status_code == 200, me.text
        found = me.json()
        assert found["username"] == username
        user = User(
            username,
            found["user_id"],
            found["full_name"],
            found["opd"],
            found["roles"],
            headers,
            login.json().get("refresh_token"),
        )
        self.users[username] = user
        return user

    def __getitem__(self, username: str) -> User:
        return self.users[username]

    async def send(
        self,
        who: str,
        method: str,
        path: str,
        expect: int = 200,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        answer = await self.client.request(
            method, path, headers={**self.users[who].headers, **(headers or {})}, **kwargs
        )
        if answer.status_code == 401 and expect != 401 and await self.renew(who):
            answer = await self.client.request(  # a 401 did nothing: sending again is safe
                method, path, headers={**self.users[who].headers, **(headers or {})}, **kwargs
            )
        assert answer.status_code == expect, f"{who} {method} {path}: {answer.text}"
        return answer

    async def renew(self, who: str) -> bool:
        """A fresh access token for ``who`` from its refresh token, as the web app renews a
        session's; False when there is none or identity refuses it."""
        user = self.users[who]
        if user.refresh_token is None:
            return False
        renewed = await self.client.post(
            "/api/identity/token/refresh",
            headers={"Authorization": f"Bearer {user.refresh_token}"},
        )
        if renewed.status_code != 200:
            return False
        user.headers = {"Authorization": f"Bearer {renewed.json()['access_token']}"}
        return True

    async def post(
        self, who: str, path: str, body: Any = None, expect: int = 200, **kwargs: Any
    ) -> dict[str, Any]:
        if body is not None:
            kwargs["json"] = body
        data: dict[str, Any] = (await self.send(who, "POST", path, expect, **kwargs)).json()
        return data

    async def get(self, who: str, path: str, expect: int = 200) -> Any:
        return (await self.send(who, "GET", path, expect)).json()

    async def until(
        self,
        service: str,
        request_id: str,
        who: str = "auditor",
        timeout: float | None = None,
        **expected: Any,
    ) -> dict[str, Any]:
        """The request's state in ``service`` once it shows ``expected`` (the service learns of
        other services' steps asynchronously, over Kafka)."""
        path = f"/api/{service}/requests/{request_id}"
        last: dict[str, Any] = {}

        async def shows() -> bool:
            answer = await self.client.get(path, headers=self.users[who].headers)
            if answer.status_code != 200:
                last.update(status_code=answer.status_code, body=answer.text)
                return False
            last.clear()
            last.update(answer.json())
            return all(last.get(k) == v for k, v in expected.items())

        assert await eventually(shows, timeout=timeout or self.patience), (
            f"{service} never showed {expected} for {request_id}; last: {last}"
        )
        return dict(last)


def at(state: dict[str, Any], step: str | None, who: str | None) -> None:
    """Assert where the request stands and whom it waits on."""
    assert (state["current_step"], state["who_must_act"]) == (step, who), (
        f"expected {step}/{who}, got {state['current_step']}/{state['who_must_act']}"
    )


@dataclass
class Walk:
    """One request, walked step by step. ``ids`` keeps the event ids each service answered with,
    in order, to compare with what reaches Kafka."""

    j: Jejak
    request_id: str = ""
    ids: dict[str, list[str]] = field(
        default_factory=lambda: {"intake": [], "approval": [], "dev_tracking": []}
    )

    def path(self, service: str, command: str = "") -> str:
        tail = f"/{command}" if command else ""
        return f"/api/{service}/requests/{self.request_id}{tail}"

    async def command(
        self,
        who: str,
        service: str,
        command: str,
        body: Any,
        step: str | None,
        acts: str | None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Give a command, assert the state it answers with and that a GET shows the same."""
        answer = await self.j.post(who, self.path(service, command), body, **kwargs)
        assert answer["request_id"] == self.request_id
        assert answer["event_ids"], answer
        self.ids[service].extend(answer["event_ids"])
        state: dict[str, Any] = answer["state"]
        at(state, step, acts)
        assert await self.j.get("auditor", self.path(service)) == state
        return state

    async def state(self, service: str, who: str = "auditor") -> dict[str, Any]:
        state: dict[str, Any] = await self.j.get(who, self.path(service))
        return state

    # Steps 1 and 2: intake ----------------------------------------------------------------

    async def submit(self, retry_once: bool = True) -> dict[str, Any]:
        """Step 1: upload the request letter, submit with an Idempotency-Key and (``retry_once``)
        again with the same key, which must answer the first answer again."""
        content = b"%PDF-1.7 Surat Permohonan SIMPUS " + uuid.uuid4().bytes
        uploaded = await self.j.post(
            "pemohon.dinkes",
            "/api/intake/attachments",
            content=content,
            headers={"Content-Type": "application/pdf"},
            expect=201,
        )
        assert uploaded == {
            "sha256": hashlib.sha256(content).hexdigest(),
            "size_bytes": len(content),
            "media_type": "application/pdf",
        }
        body = {
            "title": "Sistem Informasi Puskesmas (SIMPUS)",
            "summary": "Pendaftaran pasien dan laporan kunjungan puskesmas.",
            "letter": LETTER,
            "needs_analysis": NEEDS,
            "business_process": PARTIAL_PROCESS,
            "attachments": [{**uploaded, "filename": "surat-permohonan.pdf"}],
        }
        key = {"Idempotency-Key": f"simpus-{uuid.uuid4()}"}
        first = await self.j.send(
            "pemohon.dinkes", "POST", "/api/intake/requests", 201, headers=key, json=body
        )
        if retry_once:
            again = await self.j.send(
                "pemohon.dinkes", "POST", "/api/intake/requests", 201, headers=key, json=body
            )
            assert again.headers.get("Idempotent-Replayed") == "true"
            assert "Idempotent-Replayed" not in first.headers
            assert again.json() == first.json()
        submitted = first.json()
        self.request_id = submitted["request_id"]
        assert len(submitted["event_ids"]) == 1
        self.ids["intake"].extend(submitted["event_ids"])
        state: dict[str, Any] = submitted["state"]
        at(state, "RECEIVE", "KADIS")
        assert (state["status"], state["opd"], state["step_number"]) == ("OPEN", "DINKES", 2)
        assert state["missing_sections"] == MISSING_AT_SUBMIT
        assert state["attachments"][0]["sha256"] == uploaded["sha256"]
        assert await self.state("intake", "pemohon.dinkes") == state
        return state

    async def receive(self) -> dict[str, Any]:
        """Step 2: the Head of Department's office receives it; approval opens it."""
        state = await self.command(
            "kadis", "intake", "receive", {"agenda_number": "AG/2025/0117"}, "DISPOSE", "KADIS"
        )
        assert state["received_by"] == self.j["kadis"].user_id
        opened = await self.j.until("approval", self.request_id, status="AWAITING_DISPOSITION")
        at(opened, "DISPOSE", "KADIS")
        assert (opened["opd"], opened["step_number"]) == ("DINKES", 3)
        return state

    # Steps 3 to 7: approval ---------------------------------------------------------------

    async def dispose(self) -> dict[str, Any]:
        """Step 3: KADIS dispositions the letter to KABID_TI."""
        state = await self.command(
            "kadis",
            "approval",
            "dispose",
            {"note": "Mohon diperiksa kelengkapannya.", "disposition_number": "005/117/2025"},
            "VERIFY",
            "KABID_TI",
        )
        assert state["status"] == "AWAITING_VERIFICATION"
        assert [s["section"] for s in state["missing_sections"]] == MISSING_AT_SUBMIT
        return state

    async def intake_follows_disposition(self) -> dict[str, Any]:
        """Intake learns of the disposition (it follows approval's steps)."""
        state = await self.j.until("intake", self.request_id, current_step="VERIFY")
        at(state, "VERIFY", "KABID_TI")
        assert state["status"] == "OPEN"
        return state

    async def return_request(self) -> dict[str, Any]:
        """Step 4, first pass: KABID_TI returns it with reasons."""
        state = await self.command(
            "kabid.ti", "approval", "return", {"reasons": RETURN_REASONS}, "VERIFY", "PEMOHON"
        )
        assert (state["status"], state["returns"]) == ("RETURNED", 1)
        return state

    async def intake_sees_return(self) -> dict[str, Any]:
        """Intake learns of the return: the requester must act."""
        back = await self.j.until("intake", self.request_id, status="RETURNED")
        at(back, "VERIFY", "PEMOHON")
        assert back["returns"] == [
            {"reasons": RETURN_REASONS, "missing_sections": MISSING_AT_SUBMIT}
        ]
        return back

    async def revise(self) -> dict[str, Any]:
        """The requester completes the business-process document; approval sees the revision."""
        state = await self.command(
            "pemohon.dinkes",
            "intake",
            "revise",
            {"business_process": FULL_PROCESS, "note": "Bagian yang kurang sudah dilengkapi."},
            "VERIFY",
            "KABID_TI",
        )
        assert (state["status"], state["revisions"], state["missing_sections"]) == ("OPEN", 1, [])
        seen = await self.j.until("approval", self.request_id, revisions=1)
        at(seen, "VERIFY", "KABID_TI")
        assert (seen["status"], seen["missing_sections"]) == ("AWAITING_VERIFICATION", [])
        assert (
            seen["business_process"]["database_management"] == FULL_PROCESS["database_management"]
        )
        return seen

    async def verify(self) -> dict[str, Any]:
        """Step 4: KABID_TI finds the revised documents complete."""
        state = await self.command(
            "kabid.ti",
            "approval",
            "verify",
            {"acknowledged_missing": [], "note": "Lengkap."},
            "MEETING",
            "KABID_TI",
        )
        assert state["verification"]["missing_sections"] == []
        return state

    def meeting_body(self) -> dict[str, Any]:
        """Step 5's draft minutes: KABID_TI, the requester and the team lead met."""
        requester, kabid = self.j["pemohon.dinkes"], self.j["kabid.ti"]
        return {
            "held_at": (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).isoformat(),
            "participants": [
                {
                    "name": kabid.full_name,
                    "position": "Kepala Bidang TI",
                    "organisation": "DISKOMINFOSTANDI",
                    "user_id": kabid.user_id,
                },
                {
                    "name": requester.full_name,
                    "position": "Pemohon",
                    "organisation": "DINKES",
                    "user_id": requester.user_id,
                },
                {
                    "name": self.j["dev.lead"].full_name,
                    "position": "Ketua Tim Pengembang",
                    "organisation": "DISKOMINFOSTANDI",
                    "user_id": self.j["dev.lead"].user_id,
                },
            ],
            "scope": "Registrasi pasien, rekam kunjungan dan laporan bulanan.",
            "timeline": {
                "planned_start": str(STARTED),
                "planned_end": str(STARTED + dt.timedelta(days=45)),
            },
            "minutes_number": "BA/117/DISKOMINFOSTANDI/2025",
        }

    async def meeting(self) -> dict[str, Any]:
        """Step 5: the meeting, recorded as draft minutes."""
        body = self.meeting_body()
        state = await self.command(
            "kabid.ti", "approval", "meeting", body, "SIGN_MINUTES", "KABID_TI"
        )
        assert state["meeting"]["minutes_number"] == body["minutes_number"]
        return state

    def signatories(self) -> list[dict[str, str]]:
        """Who signs the minutes: KABID_TI and the requester."""
        requester, kabid = self.j["pemohon.dinkes"], self.j["kabid.ti"]
        return [
            {"user_id": kabid.user_id, "name": kabid.full_name, "role": "KABID_TI"},
            {"user_id": requester.user_id, "name": requester.full_name, "role": "PEMOHON"},
        ]

    async def sign_minutes(self) -> dict[str, Any]:
        """Step 6: the minutes signed by KABID_TI and the requester (their real user ids)."""
        requester, kabid = self.j["pemohon.dinkes"], self.j["kabid.ti"]
        body = {"signatories": self.signatories()}
        state = await self.command("kabid.ti", "approval", "sign-minutes", body, "ASSIGN", "KADIS")
        signed = state["minutes"]["signatories"]
        assert [(s["user_id"], s["role"]) for s in signed] == [
            (kabid.user_id, "KABID_TI"),
            (requester.user_id, "PEMOHON"),
        ]
        return state

    def assignment_body(self) -> dict[str, Any]:
        """Step 7's Surat Tugas: dev.lead (lead) and dev.anggota."""
        lead, member = self.j["dev.lead"], self.j["dev.anggota"]
        return {
            "letter_number": "800/117/DISKOMINFOSTANDI/2025",
            "team_members": [lead.user_id, member.user_id],
            "team_lead": lead.user_id,
            "period_start": str(STARTED),
            "period_end": str(STARTED + dt.timedelta(days=45)),
        }

    async def assign(self) -> dict[str, Any]:
        """Step 7: KADIS issues the assignment letter to dev.lead (lead) and dev.anggota."""
        lead = self.j["dev.lead"]
        body = self.assignment_body()
        state = await self.command("kadis", "approval", "assign", body, "DEVELOP", "TIM_PENGEMBANG")
        assert state["status"] == "ASSIGNED"
        assert (state["assignment"]["team_lead"], state["assignment"]["opd"]) == (
            lead.user_id,
            "DINKES",
        )
        return state

    async def handed_over(self) -> dict[str, Any]:
        """dev_tracking (and intake) learn of the assignment letter over Kafka."""
        state = await self.j.until(
            "dev_tracking", self.request_id, who="dev.lead", current_step="DEVELOP"
        )
        at(state, "DEVELOP", "TIM_PENGEMBANG")
        assert (state["opd"], state["team_lead"], state["started_on"]) == (
            "DINKES",
            self.j["dev.lead"].user_id,
            None,
        )
        assert sorted(state["team_members"]) == sorted(
            [self.j["dev.lead"].user_id, self.j["dev.anggota"].user_id]
        )
        intake = await self.j.until("intake", self.request_id, status="ASSIGNED")
        at(intake, "DEVELOP", "TIM_PENGEMBANG")
        return state

    # Steps 8 to 14: dev_tracking -----------------------------------------------------------

    async def develop(self) -> dict[str, Any]:
        """Step 8: start, progress, a problem and its solution."""
        dev = "dev_tracking"
        state = await self.command(
            "dev.lead", dev, "start", {"started_on": str(STARTED)}, "DEVELOP", "TIM_PENGEMBANG"
        )
        assert state["started_on"] == str(STARTED)
        state = await self.command(
            "dev.anggota",
            dev,
            "progress",
            {"percent": 60, "note": "Registrasi dan rekam kunjungan selesai."},
            "DEVELOP",
            "TIM_PENGEMBANG",
        )
        assert state["progress"]["percent"] == 60
        state = await self.command(
            "dev.lead",
            dev,
            "problems",
            {"description": "Server uji belum tersedia.", "severity": "HIGH"},
            "DEVELOP",
            "TIM_PENGEMBANG",
        )
        assert state["open_problems"] == ["P-1"]
        state = await self.command(
            "dev.anggota",
            dev,
            "problems/P-1/solve",
            {"solution": "Memakai VM dari pusat data."},
            "DEVELOP",
            "TIM_PENGEMBANG",
        )
        assert state["open_problems"] == []
        assert state["problems"][0]["solution"] == "Memakai VM dari pusat data."
        return state

    async def test_run(
        self,
        who: str,
        kind: str,
        result: str,
        number: str,
        step: str,
        acts: str | None,
        findings: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        body = {
            "kind": kind,
            "result": result,
            "minutes_number": number,
            "findings": list(findings),
            "tested_on": str(TESTED),
        }
        return await self.command(who, "dev_tracking", "tests", body, step, acts)

    async def test_and_document(self) -> dict[str, Any]:
        """Steps 9 to 12: system test failed then passed, unit, integration, the manual."""
        team = "TIM_PENGEMBANG"
        state = await self.test_run(
            "dev.lead",
            "SYSTEM",
            "FAILED",
            "BA-UJI/117/1",
            "SYSTEM_TEST",
            team,
            ("Login gagal untuk NIK berawalan 0",),
        )
        assert state["next_test"] == "SYSTEM"
        await self.test_run("dev.lead", "SYSTEM", "PASSED", "BA-UJI/117/2", "UNIT_TEST", team)
        await self.test_run(
            "dev.anggota", "UNIT", "PASSED", "BA-UJI/117/3", "INTEGRATION_TEST", team
        )
        await self.test_run("dev.lead", "INTEGRATION", "PASSED", "BA-UJI/117/4", "MANUAL", team)
        document = {
            "sha256": hashlib.sha256(MANUAL).hexdigest(),
            "size_bytes": len(MANUAL),
            "media_type": "application/pdf",
            "filename": "manual-simpus.pdf",
        }
        state = await self.command(
            "dev.lead",
            "dev_tracking",
            "manual",
            {"title": "Buku Manual SIMPUS", "document": document, "version": "1.0"},
            "UAT",
            "PEMOHON",
        )
        assert state["manual"] == {"title": "Buku Manual SIMPUS", "version": "1.0"}
        return state

    async def uat_rejected_then_accepted(self) -> dict[str, Any]:
        """Step 13 twice, with the fix between; step 14: done."""
        findings = ["Laporan bulanan belum bisa diunduh sebagai Excel."]
        state = await self.command(
            "pemohon.dinkes",
            "dev_tracking",
            "uat",
            {"result": "REJECTED", "minutes_number": "BA-UAT/117/1", "findings": findings},
            "DEVELOP",
            "TIM_PENGEMBANG",
        )
        assert (state["uat_rejections"], state["last_uat_findings"]) == (1, findings)
        assert state["next_test"] == "INTEGRATION"  # what the domain requires again
        await self.command(
            "dev.anggota",
            "dev_tracking",
            "progress",
            {"percent": 100, "note": "Unduh laporan Excel ditambahkan."},
            "DEVELOP",
            "TIM_PENGEMBANG",
        )
        await self.test_run("dev.lead", "INTEGRATION", "PASSED", "BA-UJI/117/5", "UAT", "PEMOHON")
        state = await self.command(
            "pemohon.dinkes",
            "dev_tracking",
            "uat",
            {
                "result": "ACCEPTED",
                "minutes_number": "BA-UAT/117/2",
                "notes": "Diterima; siap dipakai.",
            },
            "DONE",
            None,
        )
        assert state["accepted_by"] == self.j["pemohon.dinkes"].user_id
        # today in WIB as the service saw it (the walk may have crossed midnight since TODAY)
        assert state["completed_on"] in {str(TODAY), str(dt.datetime.now(WIB).date())}
        assert [(t["kind"], t["passed"]) for t in state["test_runs"]] == [
            ("SYSTEM", False),
            ("SYSTEM", True),
            ("UNIT", True),
            ("INTEGRATION", True),
            ("INTEGRATION", True),
        ]
        return state


async def walk_through_all_14_steps(walk: Walk, retry_once: bool = True) -> None:
    """Every step, with a return and its revision, a failed system test and its retest, and a
    rejected UAT before the accepted one (``EXPECTED_EVENTS``)."""
    await walk.submit(retry_once)  # 1
    await walk.receive()  # 2
    await walk.dispose()  # 3
    await walk.intake_follows_disposition()
    await walk.return_request()  # 4, returned
    await walk.intake_sees_return()
    await walk.revise()
    await walk.verify()  # 4, complete
    await walk.meeting()  # 5
    await walk.sign_minutes()  # 6
    await walk.assign()  # 7
    await walk.handed_over()
    await walk.develop()  # 8
    await walk.test_and_document()  # 9 to 12
    await walk.uat_rejected_then_accepted()  # 13, 14


EXPECTED_EVENTS: dict[str, list[str]] = {
    "intake": ["RequestSubmitted", "RequestReceived", "RequestRevised"],
    "approval": [
        "Disposed",
        "RequestReturned",
        "DocumentsVerified",
        "MeetingHeld",
        "BAsigned",
        "TaskAssigned",
    ],
    "dev_tracking": [
        "DevelopmentStarted",
        "ProgressReported",
        "ProblemRecorded",
        "ProblemSolved",
        "TestFailed",
        "TestPassed",
        "TestPassed",
        "TestPassed",
        "ManualPublished",
        "UATRejected",
        "ProgressReported",
        "TestPassed",
        "UATAccepted",
        "RequestCompleted",
    ],
}
"""Each service's own events for the walked request, in stream order."""

CONSUMED_EVENTS: dict[str, list[str]] = {
    "intake": EXPECTED_EVENTS["approval"],
    "approval": [*EXPECTED_EVENTS["intake"], "RequestCompleted"],
    "dev_tracking": ["TaskAssigned"],
}
"""The other services' events each one records in its timeline for the walked request."""
