"""The whole role-by-command matrix of ``events.policy``, against the real services.

The seven services run in-process over HTTP on the real PostgreSQL and Kafka, under a tenant of
their own. Users are registered in identity and log in there, so every token is identity's own;
one request is walked through intake and approval to development (its events crossing Kafka to
approval, dev_tracking and reporting). Then every rule of the policy is tried by each principal
below: a requester of the request's OPD and one of another OPD, KADIS, KABID_TI, a developer on
the request's team and one outside it, ADMIN, AUDITOR, and a Plt KADIS inside its window and a
Plh KADIS outside it (granted by identity; neither holds a role of its own).

What each cell expects is computed from the policy's data (``expected``), never from the code
that enforces it: a refused cell gets 403 (or 404 where the rule hides what is out of scope, 401
for a bearer token on a webhook) and changes nothing in any store; an allowed cell gets past
authorization (a query answers 200; a command is at most refused by the request's step or by its
own rules). Rules run in the policy's order, so an allowed command's success shows in the cells
after it, which changes what they answer but never whether they are authorized.
"""

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from events import policy
from events.identity import GrantableRole
from events.topics import SERVICES, Service
from infra.access import Target
from infra.auth import TokenIssuer, development_keys
from infra.principal import Principal
from infra.settings import Settings
from services.approval.bootstrap import create_app as create_approval
from services.dev_tracking.bootstrap import create_app as create_dev_tracking
from services.dev_tracking.usecases import WIB
from services.documents.bootstrap import create_app as create_documents
from services.documents.config import DocumentsConfig
from services.eoffice.bootstrap import create_app as create_eoffice
from services.identity.bootstrap import create_app as create_identity
from services.intake.bootstrap import create_app as create_intake
from services.reporting.bootstrap import create_app as create_reporting
from tests.kafka_helpers import eventually

RUN = uuid.uuid4().hex[:6].upper()
TENANT = f"matrix-{RUN.lower()}"
OPD, OTHER_OPD, DEPT = f"DINKES-{RUN}", f"DISDIK-{RUN}", f"DISKOMINFO-{RUN}"
PASSWORD = "kata-sandi-matriks"
TODAY = dt.datetime.now(WIB).date()
CALENDAR_DAY = "2030-06-04"  # a Tuesday: an admin may make it a day off, and undo that


@dataclass(frozen=True)
class Who:
    """One column of the matrix: a user identity knows, as the policy sees it now."""

    name: str
    roles: tuple[GrantableRole, ...]
    opd: str | None
    delegated: tuple[GrantableRole, ...] = ()
    """The roles it holds now as Plt/Plh: the policy checks it against these too."""

    @property
    def username(self) -> str:
        return f"m{RUN.lower()}.{self.name}"

    @property
    def holds(self) -> set[GrantableRole]:
        return {*self.roles, *self.delegated}


REQUESTER = Who("pemohon", ("PEMOHON",), OPD)
STRANGER = Who("pemohon-lain", ("PEMOHON",), OTHER_OPD)
KADIS = Who("kadis", ("KADIS",), DEPT)
KABID = Who("kabid", ("KABID_TI",), DEPT)
TEAM = Who("tim", ("TIM_PENGEMBANG",), DEPT)
OUTSIDER = Who("luar-tim", ("TIM_PENGEMBANG",), DEPT)
ADMIN = Who("admin", ("ADMIN",), DEPT)
AUDITOR = Who("auditor", ("AUDITOR",), None)
PLT_INSIDE = Who("plt-kadis", (), DEPT, delegated=("KADIS",))
PLH_OUTSIDE = Who("plh-kadis", (), DEPT)
EVERYONE = (
    REQUESTER,
    STRANGER,
    KADIS,
    KABID,
    TEAM,
    OUTSIDER,
    ADMIN,
    AUDITOR,
    PLT_INSIDE,
    PLH_OUTSIDE,
)


@dataclass(frozen=True)
class Probe:
    """How to call one rule's route: on what, with what."""

    path: str
    target: Target | None = None
    """What the call touches (None: a list, or something new)."""
    json: Any = None
    params: dict[str, str] | None = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body_of: Callable[[Who], Any] | None = None
    """A body that depends on the caller (the login)."""


@dataclass
class World:
    clients: dict[Service, httpx.AsyncClient]
    db: asyncpg.Connection
    tokens: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    probes: dict[tuple[str, str], Probe] = field(default_factory=dict)
    answers: dict[tuple[tuple[str, str], str], int] = field(default_factory=dict)
    """The status each cell got, as the matrix ran."""

    def bearer(self, who: Who) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who.name]}"}

    async def call(self, rule: policy.Rule, who: Who) -> httpx.Response:
        probe = self.probes[rule.key]
        body = probe.body_of(who) if probe.body_of else probe.json
        return await self.clients[rule.service].request(
            rule.method,
            probe.path,
            json=body,
            params=probe.params,
            content=probe.content,
            headers={**self.bearer(who), **probe.headers},
        )

    async def ok(self, service: Service, who: Who, method: str, path: str, **kw: Any) -> Any:
        headers = {**self.bearer(who), **kw.pop("headers", {})}
        answer = await self.clients[service].request(method, path, headers=headers, **kw)
        assert answer.status_code in (200, 201), (service, method, path, answer.text)
        return answer.json()

    async def until(
        self, service: Service, who: Who, path: str, check: Callable[[Any], bool]
    ) -> None:
        """Wait until ``GET path`` answers 200 with what ``check`` wants (consumers catch up
        through Kafka)."""
        seen: list[str] = []

        async def arrived() -> bool:
            answer = await self.clients[service].get(path, headers=self.bearer(who))
            seen[:] = [answer.text[:300]]
            return answer.status_code == 200 and check(answer.json())

        assert await eventually(arrived, timeout=90), (service, path, seen)

    async def stores(self) -> tuple[Any, ...]:
        """Everything a command of any service writes, for this tenant (or in all: the tables
        without a tenant, which no other test writes meanwhile)."""
        row = await self.db.fetchrow(
            "SELECT "
            "(SELECT count(*) FROM identity.events WHERE tenant = $1), "
            "(SELECT count(*) FROM identity.credentials), "
            "(SELECT count(*) FROM identity.opds), "
            "(SELECT count(*) FROM identity.delegations), "
            "(SELECT count(*) FROM intake.events WHERE tenant = $1), "
            "(SELECT count(*) FROM intake.attachments), "
            "(SELECT count(*) FROM intake.attachment_uploads), "
            "(SELECT count(*) FROM intake.idempotency_keys), "
            "(SELECT count(*) FROM intake.eoffice_letters), "
            "(SELECT count(*) FROM intake.webhook_signatures), "
            "(SELECT count(*) FROM approval.events WHERE tenant = $1), "
            "(SELECT count(*) FROM approval.eoffice_dispositions), "
            "(SELECT count(*) FROM approval.webhook_signatures), "
            "(SELECT count(*) FROM dev_tracking.events WHERE tenant = $1), "
            "(SELECT md5(coalesce(string_agg(d::text, ',' ORDER BY day), '')) "
            " FROM reporting.calendar_days d WHERE tenant = $1), "
            "(SELECT count(*) FROM reporting.notice_reads), "
            "(SELECT count(*) FROM eoffice.events WHERE tenant = $1), "
            "(SELECT md5(d::text) FROM eoffice.deliveries d WHERE delivery_id = $2::uuid)",
            TENANT,
            self.ids["delivery"],  # the one a re-send could change; others arrive meanwhile
        )
        assert row is not None
        return tuple(row)


def expected(rule: policy.Rule, who: Who, user_id: str, target: Target | None) -> int | None:
    """What the policy's data says ``who`` (user ``user_id``) gets: None (past authorization)
    or the refusal."""
    if rule.authentication == "WEBHOOK":
        return 401  # a bearer token is no signature
    if rule.authentication in ("PUBLIC", "SESSION"):
        return None
    grants = [g for g in rule.grants if g.role is None or g.role in who.holds]
    if not grants:
        return 403
    if target is None:
        wide = any(g.scope != "OWN_OPD" for g in grants)
        return None if wide or who.opd is not None else 403
    for grant in grants:
        if (
            grant.scope in ("ANY", "NONE")
            or (grant.scope == "OWN_OPD" and who.opd is not None and who.opd == target.opd)
            or (grant.scope == "TEAM" and user_id in target.team)
            or (grant.scope == "SELF" and user_id in target.owners)
        ):
            return None
    return 404 if rule.hides_out_of_scope else 403


# --- the world ---------------------------------------------------------------------------------


def _apps(settings: Settings, signing: Path) -> dict[Service, FastAPI]:
    return {
        "identity": create_identity(settings),  # seeds the demo users if there are none yet
        "intake": create_intake(settings),
        "approval": create_approval(settings),
        "dev_tracking": create_dev_tracking(settings),
        "reporting": create_reporting(settings),
        "eoffice": create_eoffice(settings),  # no callback URL: deliveries wait, none is sent
        "documents": create_documents(settings, DocumentsConfig(signing_dir=str(signing))),
    }


async def _people(w: World, admin: dict[str, str]) -> None:
    identity = w.clients["identity"]
    for code in (OPD, OTHER_OPD, DEPT):
        answer = await identity.post(
            "/opds", headers=admin, json={"code": code, "name": f"Dinas {code}"}
        )
        assert answer.status_code == 201, answer.text
    for n, who in enumerate((*EVERYONE, Who("cadangan", ("AUDITOR",), DEPT))):
        answer = await identity.post(
            "/users",
            headers=admin,
            json={
                "username": who.username,
                "password": PASSWORD,
                "full_name": f"Pegawai {who.name}",
                "nip": f"19800101200501{n:04d}",  # the documents' signature blocks need it
                "opd": who.opd,
                "roles": list(who.roles),
            },
        )
        assert answer.status_code == 201, answer.text
        w.user_ids[who.name] = answer.json()["user"]["user_id"]
    now = dt.datetime.now(dt.UTC)

    async def delegate(delegate: str, start: dt.timedelta, end: dt.timedelta) -> str:
        answer = await identity.post(
            "/delegations",
            headers=admin,
            json={
                "delegate_user_id": w.user_ids[delegate],
                "official_user_id": w.user_ids["kadis"],
                "role": "KADIS",
                "kind": "PLT" if delegate == "plt-kadis" else "PLH",
                "valid_from": (now + start).isoformat(),
                "valid_until": (now + end).isoformat(),
                "reason": "Kadis dinas luar; Surat Perintah 800/12/2024",
            },
        )
        assert answer.status_code == 201, answer.text
        return str(answer.json()["delegation"]["delegation_id"])

    hour = dt.timedelta(hours=1)
    w.ids["delegation"] = await delegate("plt-kadis", -hour, 2 * hour)
    await delegate("plh-kadis", 3 * hour, 4 * hour)  # outside its window throughout the test
    w.ids["spare_delegation"] = await delegate("cadangan", 30 * 24 * hour, 31 * 24 * hour)
    for who in EVERYONE:
        answer = await identity.post(
            "/login", json={"username": who.username, "password": PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        w.tokens[who.name] = answer.json()["access_token"]
    inside = await w.ok("identity", PLT_INSIDE, "GET", "/me")
    assert [d["role"] for d in inside["delegations"]] == ["KADIS"]
    assert (await w.ok("identity", PLH_OUTSIDE, "GET", "/me"))["delegations"] == []


async def _request(w: World) -> None:
    """One request of OPD, walked to development with TEAM (and a colleague) on its letter."""
    pdf = b"%PDF-1.4 surat permohonan " + RUN.encode()
    upload = await w.ok(
        "intake",
        REQUESTER,
        "POST",
        "/attachments",
        content=pdf,
        headers={"Content-Type": "application/pdf"},
    )
    w.ids["sha256"] = upload["sha256"]
    submitted = await w.ok(
        "intake",
        REQUESTER,
        "POST",
        "/requests",
        json={
            "title": "SIMPUS",
            "summary": "Sistem informasi puskesmas.",
            "letter": {"number": f"440/1/{OPD}/2024", "date": "2024-02-01"},
            "attachments": [{**upload, "filename": "surat.pdf"}],
        },
    )
    rid = w.ids["request"] = submitted["request_id"]
    await w.ok("intake", KADIS, "POST", f"/requests/{rid}/receive", json={})
    await w.until("approval", KABID, f"/requests/{rid}", lambda s: s["current_step"] == "DISPOSE")
    await w.ok("approval", KADIS, "POST", f"/requests/{rid}/dispose", json={"note": "Proses."})
    state = await w.ok("approval", KABID, "GET", f"/requests/{rid}")
    gaps = [m["section"] for m in state["missing_sections"]]
    await w.ok(
        "approval", KABID, "POST", f"/requests/{rid}/verify", json={"acknowledged_missing": gaps}
    )
    await w.ok("approval", KABID, "POST", f"/requests/{rid}/meeting", json=MEETING)
    await w.ok(
        "approval",
        KABID,
        "POST",
        f"/requests/{rid}/sign-minutes",
        json={
            "signatories": [
                {"user_id": w.user_ids["kabid"], "name": "Kabid", "role": "KABID_TI"},
                {"user_id": w.user_ids["pemohon"], "name": "Pemohon", "role": "PEMOHON"},
            ]
        },
    )
    team = [w.user_ids["tim"], "u-rekan-tim"]
    await w.ok(
        "approval",
        KADIS,
        "POST",
        f"/requests/{rid}/assign",
        json={
            "letter_number": f"800/{RUN}/2024",
            "team_members": team,
            "team_lead": team[0],
            "period_start": str(TODAY),
            "period_end": str(TODAY + dt.timedelta(days=45)),
        },
    )
    w.ids["team"] = ",".join(team)
    await w.until(
        "dev_tracking", TEAM, f"/requests/{rid}", lambda s: s["current_step"] == "DEVELOP"
    )
    await w.until(
        "reporting", AUDITOR, f"/cases/{rid}", lambda c: c["current_step"]["code"] == "DEVELOP"
    )

    async def noticed() -> bool:
        listed = await w.ok("reporting", TEAM, "GET", "/notifications")
        mine = [n for n in listed["items"] if n["request_id"] == rid and n["step"] == "DEVELOP"]
        if mine:
            w.ids["notice"] = mine[0]["notice_id"]
            w.ids["notice_user"] = mine[0]["addressee"]["user_id"]
        return bool(mine)

    assert await eventually(noticed, timeout=60), "the team was not told"
    assert w.ids["notice_user"] == w.user_ids["tim"]

    async def scheduled() -> bool:
        listed = await w.ok("eoffice", AUDITOR, "GET", "/deliveries", params={"request_id": rid})
        if listed["items"]:
            w.ids["delivery"] = listed["items"][0]["delivery_id"]
        return bool(listed["items"])

    assert await eventually(scheduled, timeout=60), "no status change reached eoffice"

    async def receipt_issued() -> bool:
        listed = await w.ok("documents", AUDITOR, "GET", f"/requests/{rid}/documents")
        issued = [d for d in listed["documents"] if d["kind"] == "TANDA_TERIMA"]
        if issued and issued[0]["state"] == "ISSUED":
            w.ids["document"] = issued[0]["document_id"]
        return "document" in w.ids

    assert await eventually(receipt_issued, timeout=60), "no Tanda Terima was issued"


MEETING = {
    "held_at": (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).isoformat(),
    "participants": [{"name": "Kabid", "position": "Kepala Bidang TI", "organisation": DEPT}],
    "scope": "Registrasi pasien.",
    "timeline": {"planned_start": str(TODAY), "planned_end": str(TODAY + dt.timedelta(days=45))},
    "minutes_number": f"BA/{RUN}/2024",
}


def _probes(w: World) -> dict[tuple[str, str], Probe]:
    rid, sha, user = w.ids["request"], w.ids["sha256"], w.user_ids["pemohon"]
    spare = w.user_ids["cadangan"]
    request = Target(opd=OPD, team=frozenset(w.ids["team"].split(",")))
    on = f"/requests/{rid}"
    started = str(TODAY - dt.timedelta(days=1))
    later = dt.datetime.now(dt.UTC)
    letter = {
        "letter_id": f"SRK-{RUN}",
        "letter_number": "440/1/2024",
        "letter_date": "2024-06-10",
        "sender_opd": OPD,
        "subject": "Permohonan aplikasi",
    }
    manual = {
        "sha256": sha,
        "size_bytes": 10,
        "media_type": "application/pdf",
        "filename": "manual.pdf",
    }
    probes = {
        ("identity", "Login"): Probe(
            "/login", body_of=lambda who: {"username": who.username, "password": PASSWORD}
        ),
        ("identity", "RefreshToken"): Probe("/token/refresh"),
        ("identity", "PublicKey"): Probe("/public-key"),
        ("identity", "Me"): Probe("/me"),
        ("identity", "ListOpds"): Probe("/opds"),
        ("identity", "RegisterOpd"): Probe("/opds", json={"code": f"BARU-{RUN}", "name": "Baru"}),
        ("identity", "ListUsers"): Probe("/users"),
        ("identity", "ListColleagues"): Probe("/colleagues"),
        ("identity", "RegisterUser"): Probe(
            "/users",
            json={
                "username": f"m{RUN.lower()}.baru",
                "password": PASSWORD,
                "full_name": "Baru",
                "opd": DEPT,
                "roles": ["AUDITOR"],
            },
        ),
        ("identity", "GetUser"): Probe(f"/users/{user}", Target(owners=frozenset({user}))),
        ("identity", "UpdateProfile"): Probe(
            f"/users/{spare}/profile",
            Target(),
            json={"full_name": "Cadangan, S.Kom.", "rank": "Penata (III/c)"},
        ),
        ("identity", "GrantRole"): Probe(
            f"/users/{spare}/roles", Target(), json={"role": "TIM_PENGEMBANG"}
        ),
        ("identity", "RevokeRole"): Probe(
            f"/users/{spare}/roles/revoke",
            Target(),
            json={"role": "TIM_PENGEMBANG", "reason": "Selesai bertugas"},
        ),
        ("identity", "UnlockLogin"): Probe(f"/users/{spare}/unlock", Target()),
        ("identity", "GrantDelegation"): Probe(
            "/delegations",
            json={
                "delegate_user_id": spare,
                "official_user_id": w.user_ids["kabid"],
                "role": "KABID_TI",
                "kind": "PLH",
                "reason": "Kabid cuti",
                "valid_from": (later + dt.timedelta(days=40)).isoformat(),
                "valid_until": (later + dt.timedelta(days=41)).isoformat(),
            },
        ),
        ("identity", "ListDelegations"): Probe("/delegations"),
        ("identity", "EndDelegation"): Probe(
            f"/delegations/{w.ids['spare_delegation']}/end",
            Target(),
            json={"reason": "Kadis kembali"},
        ),
        ("identity", "GetDelegation"): Probe(
            f"/delegations/{w.ids['delegation']}",
            Target(owners=frozenset({w.user_ids["plt-kadis"], w.user_ids["kadis"]})),
        ),
        ("intake", "UploadAttachment"): Probe(
            "/attachments",
            content=b"lampiran " + RUN.encode(),
            headers={"Content-Type": "application/pdf"},
        ),
        ("intake", "DownloadAttachment"): Probe(f"/attachments/{sha}", request),
        ("intake", "SubmitRequest"): Probe(
            "/requests",
            json={
                "title": "Aplikasi lain",
                "summary": "Permohonan kedua.",
                "letter": {"number": "440/2/2024", "date": "2024-02-02"},
            },
        ),
        ("intake", "ListRequests"): Probe("/requests"),
        ("intake", "GetRequest"): Probe(on, request),
        ("intake", "AvailableActions"): Probe(f"{on}/actions", request),
        ("intake", "ReceiveRequest"): Probe(f"{on}/receive", request, json={}),
        ("intake", "ReviseRequest"): Probe(f"{on}/revise", request, json={"note": "Ubah."}),
        ("intake", "WithdrawRequest"): Probe(f"{on}/withdraw", request, json={"reason": "Batal."}),
        ("intake", "AcceptLetter"): Probe("/eoffice/letters", json=letter),
        ("approval", "Dispose"): Probe(f"{on}/dispose", request, json={"note": "Proses."}),
        ("approval", "VerifyDocuments"): Probe(f"{on}/verify", request, json={}),
        ("approval", "ReturnRequest"): Probe(
            f"{on}/return", request, json={"reasons": ["Belum lengkap"]}
        ),
        ("approval", "RecordMeeting"): Probe(f"{on}/meeting", request, json=MEETING),
        ("approval", "SignMinutes"): Probe(
            f"{on}/sign-minutes",
            request,
            json={
                "signatories": [
                    {"user_id": "u-x", "name": "X", "role": "KADIS"},
                    {"user_id": "u-y", "name": "Y", "role": "PEMOHON"},
                ]
            },
        ),
        ("approval", "AssignTeam"): Probe(  # in development: a new letter, the same team
            f"{on}/assign",
            request,
            json={
                "letter_number": "800/2/2024",
                "team_members": w.ids["team"].split(","),
                "team_lead": w.user_ids["tim"],
                "period_start": str(TODAY),
                "period_end": str(TODAY + dt.timedelta(days=60)),
            },
        ),
        ("approval", "RejectRequest"): Probe(f"{on}/reject", request, json={"reason": "Tolak."}),
        ("approval", "GetRequest"): Probe(on, request),
        ("approval", "AvailableActions"): Probe(f"{on}/actions", request),
        ("approval", "ListRequests"): Probe("/requests"),
        ("approval", "AcceptDisposition"): Probe(
            "/eoffice/dispositions",
            json={
                "disposition_id": f"DSP-{RUN}",
                "request_id": rid,
                "disposed_by": "u-kadis",
                "note": "Proses.",
                "disposed_at": later.isoformat(),
            },
        ),
        ("dev_tracking", "ListRequests"): Probe("/requests"),
        ("dev_tracking", "GetRequest"): Probe(on, request),
        ("dev_tracking", "AvailableActions"): Probe(f"{on}/actions", request),
        ("dev_tracking", "StartDevelopment"): Probe(
            f"{on}/start", request, json={"started_on": started}
        ),
        ("dev_tracking", "ReportProgress"): Probe(
            f"{on}/progress", request, json={"percent": 10, "note": "Rancangan basis data"}
        ),
        ("dev_tracking", "RecordProblem"): Probe(
            f"{on}/problems",
            request,
            json={"description": "API belum dibuka", "severity": "MEDIUM"},
        ),
        ("dev_tracking", "SolveProblem"): Probe(
            f"{on}/problems/P-1/solve", request, json={"solution": "Akses diminta"}
        ),
        ("dev_tracking", "RecordTestResult"): Probe(
            f"{on}/tests",
            request,
            json={
                "kind": "SYSTEM",
                "result": "PASSED",
                "minutes_number": f"BA-S/{RUN}",
                "findings": [],
                "tested_on": started,
            },
        ),
        ("dev_tracking", "PublishManual"): Probe(
            f"{on}/manual", request, json={"title": "Manual", "document": manual, "version": "1.0"}
        ),
        ("dev_tracking", "RecordUat"): Probe(
            f"{on}/uat", request, json={"result": "ACCEPTED", "minutes_number": f"BA-UAT/{RUN}"}
        ),
        ("reporting", "ListCases"): Probe("/cases"),
        ("reporting", "GetCase"): Probe(f"/cases/{rid}", request),
        ("reporting", "Timeline"): Probe(f"/cases/{rid}/timeline", request),
        ("reporting", "CaseAsOf"): Probe(
            f"/cases/{rid}/as-of", request, params={"at": later.isoformat()}
        ),
        ("reporting", "ExportJson"): Probe(f"/cases/{rid}/export.json", request),
        ("reporting", "ExportCsv"): Probe(f"/cases/{rid}/export.csv", request),
        ("reporting", "SlaReport"): Probe(
            "/reports/sla",
            params={
                "submitted_from": "2026-01-01T00:00:00+07:00",
                "submitted_to": "2027-01-01T00:00:00+07:00",
            },
        ),
        ("reporting", "ShowCalendar"): Probe("/calendar/days", params={"year": "2030"}),
        ("reporting", "EditCalendarDay"): Probe(
            "/calendar/days",
            Target(),
            json={"day": CALENDAR_DAY, "off": True, "note": "Libur daerah"},
        ),
        ("reporting", "RemoveCalendarDay"): Probe(f"/calendar/days/{CALENDAR_DAY}", Target()),
        ("reporting", "ListNotifications"): Probe("/notifications"),
        ("reporting", "MarkNoticeRead"): Probe(
            f"/notifications/{w.ids['notice']}/read",
            Target(owners=frozenset({w.ids["notice_user"]})),
        ),
        # An open stream never ends: a bad Last-Event-ID makes an authorized call answer 422.
        ("reporting", "NotificationStream"): Probe(
            "/notifications/stream", headers={"Last-Event-ID": "bukan-angka"}
        ),
        ("eoffice", "ListDeliveries"): Probe("/deliveries", params={"request_id": rid}),
        ("eoffice", "GetDelivery"): Probe(f"/deliveries/{w.ids['delivery']}", Target()),
        # still waiting (no callback URL): an authorized re-send is 409, never a change
        ("eoffice", "ResendDelivery"): Probe(
            f"/deliveries/{w.ids['delivery']}/resend", Target(), json={"note": "Coba lagi"}
        ),
    }
    document = w.ids["document"]
    pdf = b"%PDF-1.7 bukan dokumen asli"
    probes |= {
        ("documents", "ListRequestDocuments"): Probe(f"/requests/{rid}/documents", request),
        ("documents", "DownloadDocument"): Probe(f"/documents/{document}.pdf", request),
        ("documents", "ListRegister"): Probe("/register"),
        ("documents", "ListFailedDocuments"): Probe("/failures"),
        # issued, not failed: an authorized retry is 409, never a change
        ("documents", "RetryDocument"): Probe(f"/documents/{document}/retry", Target()),
        ("documents", "VerifyDocument"): Probe(f"/verify/{document}"),
        ("documents", "CheckDocument"): Probe(
            f"/verify/{document}", content=pdf, headers={"Content-Type": "application/pdf"}
        ),
    }
    for service in SERVICES:
        probes[service, "Health"] = Probe("/health")
    return probes


@pytest.fixture(scope="module")
async def world(
    settings: Settings, owner_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    keys = tmp_path_factory.mktemp("keys")
    private, _ = development_keys(keys)
    configured = settings.model_copy(update={"jwt_key_dir": str(keys), "tenant": TENANT})
    async with AsyncExitStack() as running:
        clients: dict[Service, httpx.AsyncClient] = {}
        signing = tmp_path_factory.mktemp("signing") / "dev"
        for service, app in _apps(configured, signing).items():
            await running.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app, client=(f"10.9.{len(clients)}.1", 4000))
            clients[service] = await running.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url=f"http://{service}")
            )
        db = await asyncpg.connect(owner_settings.database_url)
        running.push_async_callback(db.close)
        w = World(clients, db)
        seed = Principal("u-matrix-seed", "Seed", frozenset({"ADMIN"}), DEPT)
        admin = {"Authorization": f"Bearer {TokenIssuer(private).issue(seed)}"}
        await _people(w, admin)
        await _request(w)
        w.probes = _probes(w)
        yield w


async def test_every_rule_has_a_probe(world: World) -> None:
    """A new rule (a new route) fails here until the matrix tries it."""
    assert set(world.probes) == {r.key for r in policy.POLICY}


@pytest.mark.parametrize("rule", policy.POLICY, ids=lambda r: f"{r.service}.{r.name}")
async def test_every_rule_in_every_role(world: World, rule: policy.Rule) -> None:
    probe = world.probes[rule.key]
    wrong: list[str] = []
    for who in EVERYONE:
        want = expected(rule, who, world.user_ids[who.name], probe.target)
        before = await world.stores()
        answer = await world.call(rule, who)
        got = world.answers[rule.key, who.name] = answer.status_code
        if want is None:
            refused = got in (401, 403) or got >= 500
            if refused or (
                rule.kind == "query" and rule.name != "NotificationStream" and got != 200
            ):
                wrong.append(f"{who.name}: allowed by the policy, got {got} {answer.text[:200]}")
        else:
            if got != want:
                wrong.append(f"{who.name}: the policy says {want}, got {got} {answer.text[:200]}")
            elif await world.stores() != before:
                wrong.append(f"{who.name}: refused with {got}, but a store changed")
    assert wrong == [], f"{rule.service}.{rule.name}:\n" + "\n".join(wrong)


ACTED: dict[tuple[tuple[str, str], str], int] = {
    (("intake", "SubmitRequest"), "pemohon"): 201,
    (("intake", "SubmitRequest"), "pemohon-lain"): 201,
    (("identity", "RegisterUser"), "admin"): 201,
    (("identity", "GrantDelegation"), "admin"): 201,
    (("identity", "EndDelegation"), "admin"): 200,
    (("dev_tracking", "StartDevelopment"), "tim"): 200,
    (("dev_tracking", "RecordProblem"), "tim"): 200,
    (("reporting", "EditCalendarDay"), "admin"): 200,
    (("reporting", "MarkNoticeRead"), "tim"): 200,
    (("intake", "ReceiveRequest"), "plt-kadis"): 409,
    (("approval", "Dispose"), "plt-kadis"): 409,
    (("eoffice", "ResendDelivery"), "admin"): 409,
}
"""Allowed cells that did act (or got as far as the request's step), as the matrix ran them."""


async def test_the_matrix_is_not_vacuous(world: World) -> None:
    """Allowed cells act, not only pass; every refusal the policy knows occurs (403, 404 hidden,
    401 webhook); and the Plt inside its window may do exactly what KADIS may, the Plh outside
    it nothing of it."""
    by_name = {who.name: who for who in EVERYONE}
    for (key, name), status in ACTED.items():
        if (key, name) not in world.answers:  # this test run alone: try the cell now
            rule = policy.rule(*key)  # type: ignore[arg-type]
            world.answers[key, name] = (await world.call(rule, by_name[name])).status_code
        assert world.answers[key, name] == status, (key, name)

    def outcome(rule: policy.Rule, who: Who) -> int | None:
        return expected(rule, who, world.user_ids[who.name], world.probes[rule.key].target)

    seen = {outcome(rule, who) for rule in policy.POLICY for who in EVERYONE}
    assert seen == {None, 401, 403, 404}
    for who in EVERYONE:
        outcomes = {outcome(rule, who) for rule in policy.POLICY}
        assert None in outcomes and 403 in outcomes, who.name
    gained = {
        rule.key
        for rule in policy.POLICY
        if outcome(rule, PLT_INSIDE) is None and outcome(rule, PLH_OUTSIDE) is not None
    }
    kadis = {rule.key for rule in policy.POLICY if "KADIS" in rule.roles}
    assert gained == kadis | {("identity", "GetDelegation")}  # the delegation probed is its own
