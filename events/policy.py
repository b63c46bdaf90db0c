"""Who may do what: the one access-control policy of Jejak, as data.

Every HTTP route of every service is one ``Rule`` here: the command or query it serves, how its
caller is authenticated, the roles it is granted to (the responsible role of its SOP step first)
and, for each role, the scope of what that role may touch. ``infra.access`` enforces it, and each
service's domain or use case asks it with the rule of the command at hand; nothing else in the
code decides who may do what. ``docs/access_control_gen.py`` prints it as ``docs/access-control.md``
and ``tests/services/test_access_matrix.py`` tries every rule in every role against the real
services.

**Why here.** A service may import ``events`` and ``infra``, never another service. The policy is a
contract shared by all of them and by the docs, like the SOP's step catalogue (``events.steps``):
pure data that names roles, steps and services and decides nothing by itself, so it sits beside
the catalogue whose step actors it must agree with. Its enforcement needs ``Principal`` and
``NotAllowed``, which are ``infra``'s, so the pure checks live in ``infra.access``.

**Scopes.** ``ANY``: every request (or user record) of every OPD. ``OWN_OPD``: only the requests of
the caller's own OPD; a caller without an OPD gets none. ``TEAM``: only the requests whose latest
assignment letter (Surat Tugas) names the caller. ``SELF``: only what is the caller's own (its user
record, a delegation it is party to, the notices addressed to it). ``NONE``: the rule is about no
OPD's data (the OPD register, the working calendar). A grant whose ``role`` is ``None`` holds for
every signed-in user, whatever roles it has.

**Acting officials.** ``Principal.has_role`` counts a role held as Plt/Plh by a delegation that the
token carries; identity puts a delegation in a token only inside its window, so a delegate is
checked against this same policy, inside its window as the official and outside it as itself.

Decisions
---------

The services' own tables disagreed before this policy; each difference is settled here by least
privilege and the SOP (``sop/SOP-in-English.md``), and the matrix test holds every service to it.

- **ADMIN sees no request.** ADMIN manages users, roles, delegations and the working calendar and
  is no party to the SOP. approval, dev_tracking and reporting's case list, detail and SLA report
  let ADMIN read every request, while intake and reporting's audit views did not: now none does.
  An admin who must also read requests holds a second role (AUDITOR) that says so.
- **The readers of a request are the same in every service**: KADIS, KABID_TI, TIM_PENGEMBANG and
  AUDITOR see every request, a PEMOHON its own OPD's; the list, the detail, the audit timeline,
  the as-of view, the exports, the SLA report and the attachments follow one rule. The team reads
  every request, not only its own: it takes part in the meeting of step 5, before the Surat Tugas
  names it.
- **Each step's command is granted to the step's responsible role** (``events.steps`` actor_role,
  listed first), and to others only where the SOP names them: the minutes (step 6) are recorded by
  KABID_TI or KADIS, who both sign; the requester's signature is part of the minutes, not a second
  recorder. Returning incomplete documents is KABID_TI's (step 4), rejecting a request KADIS's, a
  revision or withdrawal the requester's.
- **The team acts only on its own assignments** (``TEAM``): a developer not named in the request's
  latest Surat Tugas reads the request but records nothing on it, and a new letter that changes
  the team takes the old team's right away.
- **The requester acts only for its own OPD** (``OWN_OPD``) and only at its steps: it submits,
  revises, withdraws and runs the UAT; a request it submits belongs to its own OPD, never one it
  names.
- **The role is checked before anything is looked up**: a caller without a role the rule grants
  gets 403 whether or not the request exists (queries included, so that a refused caller learns
  nothing); then 404; then the scope (403, or 404 where the rule hides what is out of scope: an
  attachment one may not read, a notice addressed to someone else); then the step (409).
- **Users and delegations**: only ADMIN changes them; AUDITOR reads every user and delegation; any
  user reads its own record and the delegations it is party to, delegate or official.
- **Everyone signed in** sees the OPD register and the working calendar (the calendar decides every
  due date shown to them) and its own notices; only ADMIN edits the calendar.
- **The e-office webhooks take no bearer token**: a delivery is authenticated by its HMAC-SHA256
  signature with the tenant's secret, a fresh timestamp and a signature never seen before
  (``infra.webhook``); what it carries is then decided by the same domain rules, as the roles the
  rule's note names.
- **AUDITOR changes nothing** and reads everything a request leaves behind.
- **The e-office deliveries are operations**: ADMIN runs the integration, so it lists the status
  notices sent to the e-office and re-sends a parked one; AUDITOR reads them too. A notice carries
  what the e-office is told anyway (step, status, document numbers), not the request's documents,
  so this does not undo "ADMIN sees no request".
"""

from dataclasses import dataclass
from functools import partial
from typing import Literal, get_args

from events.identity import GrantableRole
from events.steps import StepCode
from events.topics import SERVICES, Service

Scope = Literal["ANY", "OWN_OPD", "TEAM", "SELF", "NONE"]
"""What a grant reaches; see the module docstring."""

Authentication = Literal["BEARER", "SESSION", "WEBHOOK", "PUBLIC"]
"""How a caller proves who it is: an access token identity signed (``BEARER``); a token of a
session still open, whatever its roles (``SESSION``: the refresh); the e-office's signed webhook
(``WEBHOOK``); nothing (``PUBLIC``)."""

Kind = Literal["command", "query"]

Method = Literal["GET", "POST", "DELETE"]

ROLES: tuple[GrantableRole, ...] = get_args(GrantableRole)
"""The roles a user can hold, in the order the tables show them."""

DEPARTMENT: tuple[GrantableRole, ...] = ("KADIS", "KABID_TI", "TIM_PENGEMBANG")
"""The IT department's roles in the SOP."""


@dataclass(frozen=True)
class Grant:
    """One role's right under a rule; ``role=None`` is every signed-in user."""

    role: GrantableRole | None
    scope: Scope


@dataclass(frozen=True)
class Rule:
    """One route: what it does, who may call it and how far each grant reaches."""

    service: Service
    name: str
    """The command's class name (e.g. ``Dispose``), or the query's name: unique per service."""
    kind: Kind
    method: Method
    path: str
    """The route as the service declares it (without the gateway's ``/api/<service>`` prefix)."""
    label: str
    """What it is, in Indonesian: refusals name it."""
    grants: tuple[Grant, ...] = ()
    """In order of preference: a principal acts in the first role it holds."""
    authentication: Authentication = "BEARER"
    steps: tuple[StepCode, ...] = ()
    """The SOP steps the command performs; their responsible role is granted first."""
    hides_out_of_scope: bool = False
    """Out of scope is answered 404 (as if absent) instead of 403."""
    note: str = ""
    """What the table should add, in English."""

    @property
    def key(self) -> tuple[Service, str]:
        return self.service, self.name

    @property
    def roles(self) -> tuple[GrantableRole, ...]:
        """The roles granted by name (not counting a grant to every signed-in user)."""
        return tuple(g.role for g in self.grants if g.role is not None)

    @property
    def responsible_role(self) -> GrantableRole:
        """The role a command is exercised in by default: the first granted."""
        if not self.roles:
            raise LookupError(f"{self.service}.{self.name} grants no role by name")
        return self.roles[0]

    def grant_of(self, role: GrantableRole) -> Grant | None:
        """The scope ``role`` has here: its own grant, else the one of every signed-in user."""
        own = next((g for g in self.grants if g.role == role), None)
        return own or next((g for g in self.grants if g.role is None), None)


def _grants(scope: Scope, *roles: GrantableRole) -> tuple[Grant, ...]:
    return tuple(Grant(role, scope) for role in roles)


SIGNED_IN_SELF = (Grant(None, "SELF"),)
SIGNED_IN = (Grant(None, "NONE"),)
READERS = (*_grants("ANY", *DEPARTMENT, "AUDITOR"), *_grants("OWN_OPD", "PEMOHON"))
"""Who reads a request: the department and the auditor every one, a requester its OPD's."""
DIRECTORY = _grants("ANY", "ADMIN", "AUDITOR")
ADMIN = _grants("ANY", "ADMIN")
TEAM = _grants("TEAM", "TIM_PENGEMBANG")
REQUESTER = _grants("OWN_OPD", "PEMOHON")


def _rule(
    kind: Kind,
    service: Service,
    name: str,
    route: str,
    label: str,
    grants: tuple[Grant, ...],
    *steps: StepCode,
    authentication: Authentication = "BEARER",
    hides_out_of_scope: bool = False,
    note: str = "",
) -> Rule:
    method, path = route.split(" ", 1)
    verb = next(m for m in get_args(Method) if m == method)
    return Rule(
        service=service,
        name=name,
        kind=kind,
        method=verb,
        path=path,
        label=label,
        grants=grants,
        authentication=authentication,
        steps=steps,
        hides_out_of_scope=hides_out_of_scope,
        note=note,
    )


_cmd = partial(_rule, "command")
_query = partial(_rule, "query")

ACTIONS_NOTE = (
    "The caller's own commands on the request now, by this policy and the request's step; "
    "seen by whoever may read the request."
)

_HEALTH = tuple(
    _query(
        s,
        "Health",
        "GET /health",
        "Kesehatan layanan",
        (),
        authentication="PUBLIC",
        note="Up and database reachable; says nothing about any request.",
    )
    for s in SERVICES
)

_IDENTITY: tuple[Rule, ...] = (
    _cmd(
        "identity",
        "Login",
        "POST /login",
        "Masuk",
        (),
        authentication="PUBLIC",
        note="Username and password; throttled per username and per address (see below).",
    ),
    _cmd(
        "identity",
        "RefreshToken",
        "POST /token/refresh",
        "Perbarui token",
        (),
        authentication="SESSION",
        note="A valid token of a session younger than the session limit; the new token carries "
        "the roles and Plt/Plh delegations held now.",
    ),
    _query(
        "identity",
        "PublicKey",
        "GET /public-key",
        "Kunci publik token",
        (),
        authentication="PUBLIC",
        note="The Ed25519 key every service verifies tokens with.",
    ),
    _query("identity", "Me", "GET /me", "Data diri", SIGNED_IN_SELF),
    _query("identity", "ListOpds", "GET /opds", "Daftar OPD", SIGNED_IN),
    _cmd("identity", "RegisterOpd", "POST /opds", "Pendaftaran OPD", _grants("NONE", "ADMIN")),
    _query("identity", "ListUsers", "GET /users", "Daftar pengguna", DIRECTORY),
    _query(
        "identity",
        "ListColleagues",
        "GET /colleagues",
        "Daftar nama pegawai",
        SIGNED_IN,
        note="Names, OPDs and roles only (no username, NIP or history): what the step forms "
        "offer to pick (meeting participants, signatories, the team) and the timeline shows.",
    ),
    _cmd("identity", "RegisterUser", "POST /users", "Pembuatan pengguna", ADMIN),
    _query(
        "identity",
        "GetUser",
        "GET /users/{user_id}",
        "Data pengguna",
        DIRECTORY + SIGNED_IN_SELF,
        note="Anyone may read its own record.",
    ),
    _cmd(
        "identity",
        "UpdateProfile",
        "POST /users/{user_id}/profile",
        "Perubahan data kepegawaian (nama, NIP, pangkat, jabatan)",
        ADMIN,
    ),
    _cmd("identity", "GrantRole", "POST /users/{user_id}/roles", "Pemberian peran", ADMIN),
    _cmd(
        "identity",
        "RevokeRole",
        "POST /users/{user_id}/roles/revoke",
        "Pencabutan peran",
        ADMIN,
        note="An ADMIN cannot revoke its own ADMIN role.",
    ),
    _cmd(
        "identity",
        "UnlockLogin",
        "POST /users/{user_id}/unlock",
        "Pembukaan kunci akun (setelah percobaan masuk yang gagal)",
        ADMIN,
        note="Lifts the lock and forgets the failed logins, so the next lock starts at the "
        "shortest again; the per-address hold is not lifted.",
    ),
    _cmd(
        "identity",
        "GrantDelegation",
        "POST /delegations",
        "Penugasan Plt/Plh",
        ADMIN,
        note="Only KADIS or KABID_TI may be delegated, for a window of at most 92 days.",
    ),
    _query(
        "identity", "ListDelegations", "GET /delegations", "Daftar penugasan Plt/Plh", DIRECTORY
    ),
    _cmd(
        "identity",
        "EndDelegation",
        "POST /delegations/{delegation_id}/end",
        "Pengakhiran penugasan Plt/Plh",
        ADMIN,
    ),
    _query(
        "identity",
        "GetDelegation",
        "GET /delegations/{delegation_id}",
        "Data penugasan Plt/Plh",
        DIRECTORY + SIGNED_IN_SELF,
        note="The delegate and the official it stands in for may read it.",
    ),
)

_INTAKE: tuple[Rule, ...] = (
    _cmd(
        "intake",
        "UploadAttachment",
        "POST /attachments",
        "Unggah lampiran",
        REQUESTER + TEAM,
        note="Stored for the uploader's own submit or revision, or by the team for the manual "
        "book it publishes (step 12).",
    ),
    _query(
        "intake",
        "DownloadAttachment",
        "GET /attachments/{sha256}",
        "Unduh lampiran",
        READERS,
        hides_out_of_scope=True,
        note="Anyone reads what it uploaded; a requester also what its OPD's requests "
        "reference with proof (never an e-office letter's digests), the other readers what "
        "any request references; anything else is 404, so that a digest reveals nothing.",
    ),
    _cmd(
        "intake",
        "SubmitRequest",
        "POST /requests",
        "Pengajuan permohonan (langkah 1)",
        REQUESTER,
        "SUBMIT",
        note="The request belongs to the caller's own OPD.",
    ),
    _query("intake", "ListRequests", "GET /requests", "Daftar permohonan", READERS),
    _query("intake", "GetRequest", "GET /requests/{request_id}", "Keadaan permohonan", READERS),
    _query(
        "intake",
        "AvailableActions",
        "GET /requests/{request_id}/actions",
        "Tindakan yang tersedia",
        READERS,
        note=ACTIONS_NOTE,
    ),
    _cmd(
        "intake",
        "ReceiveRequest",
        "POST /requests/{request_id}/receive",
        "Penerimaan permohonan (langkah 2)",
        _grants("ANY", "KADIS"),
        "RECEIVE",
    ),
    _cmd(
        "intake",
        "ReviseRequest",
        "POST /requests/{request_id}/revise",
        "Perbaikan permohonan yang dikembalikan",
        REQUESTER,
    ),
    _cmd(
        "intake",
        "WithdrawRequest",
        "POST /requests/{request_id}/withdraw",
        "Penarikan permohonan",
        REQUESTER,
    ),
    _cmd(
        "intake",
        "AcceptLetter",
        "POST /eoffice/letters",
        "Surat masuk dari e-office",
        (),
        "SUBMIT",
        "RECEIVE",
        authentication="WEBHOOK",
        note="Decided as PEMOHON of the sender OPD (step 1) and KADIS's incoming register "
        "(step 2); one request per e-office letter id.",
    ),
)

_APPROVAL: tuple[Rule, ...] = (
    _cmd(
        "approval",
        "Dispose",
        "POST /requests/{request_id}/dispose",
        "Disposisi kepada Kabid TI (langkah 3)",
        _grants("ANY", "KADIS"),
        "DISPOSE",
    ),
    _cmd(
        "approval",
        "VerifyDocuments",
        "POST /requests/{request_id}/verify",
        "Pemeriksaan kelengkapan dokumen (langkah 4)",
        _grants("ANY", "KABID_TI"),
        "VERIFY",
    ),
    _cmd(
        "approval",
        "ReturnRequest",
        "POST /requests/{request_id}/return",
        "Pengembalian permohonan kepada pemohon (langkah 4)",
        _grants("ANY", "KABID_TI"),
        "VERIFY",
    ),
    _cmd(
        "approval",
        "RecordMeeting",
        "POST /requests/{request_id}/meeting",
        "Pencatatan rapat (langkah 5)",
        _grants("ANY", "KABID_TI"),
        "MEETING",
    ),
    _cmd(
        "approval",
        "SignMinutes",
        "POST /requests/{request_id}/sign-minutes",
        "Penandatanganan berita acara (langkah 6)",
        _grants("ANY", "KABID_TI", "KADIS"),
        "SIGN_MINUTES",
        note="The signatories must include the requester and KADIS or KABID_TI.",
    ),
    _cmd(
        "approval",
        "AssignTeam",
        "POST /requests/{request_id}/assign",
        "Penerbitan surat tugas (langkah 7)",
        _grants("ANY", "KADIS"),
        "ASSIGN",
        note="Again while the request is in development (steps 8-13): a new Surat Tugas that "
        "extends the team's period (the team acts only within it and a grace of working days).",
    ),
    _cmd(
        "approval",
        "RejectRequest",
        "POST /requests/{request_id}/reject",
        "Penolakan permohonan",
        _grants("ANY", "KADIS"),
        note="At any step before step 7.",
    ),
    _query("approval", "GetRequest", "GET /requests/{request_id}", "Keadaan permohonan", READERS),
    _query(
        "approval",
        "AvailableActions",
        "GET /requests/{request_id}/actions",
        "Tindakan yang tersedia",
        READERS,
        note=ACTIONS_NOTE,
    ),
    _query("approval", "ListRequests", "GET /requests", "Daftar permohonan", READERS),
    _cmd(
        "approval",
        "AcceptDisposition",
        "POST /eoffice/dispositions",
        "Disposisi dari e-office",
        (),
        "DISPOSE",
        authentication="WEBHOOK",
        note="Decided as the named official, who must hold KADIS at disposed_at or act for a "
        "holder then as Plt/Plh (identity's facts); one per e-office disposition id.",
    ),
)

_DEV_TRACKING: tuple[Rule, ...] = (
    _query("dev_tracking", "ListRequests", "GET /requests", "Daftar permohonan", READERS),
    _query(
        "dev_tracking", "GetRequest", "GET /requests/{request_id}", "Keadaan pengembangan", READERS
    ),
    _query(
        "dev_tracking",
        "AvailableActions",
        "GET /requests/{request_id}/actions",
        "Tindakan yang tersedia",
        READERS,
        note=ACTIONS_NOTE,
    ),
    _cmd(
        "dev_tracking",
        "StartDevelopment",
        "POST /requests/{request_id}/start",
        "Mulai pembangunan (langkah 8)",
        TEAM,
        "DEVELOP",
    ),
    _cmd(
        "dev_tracking",
        "ReportProgress",
        "POST /requests/{request_id}/progress",
        "Laporan kemajuan (langkah 8)",
        TEAM,
        "DEVELOP",
    ),
    _cmd(
        "dev_tracking",
        "RecordProblem",
        "POST /requests/{request_id}/problems",
        "Pencatatan masalah",
        TEAM,
    ),
    _cmd(
        "dev_tracking",
        "SolveProblem",
        "POST /requests/{request_id}/problems/{problem_id}/solve",
        "Pencatatan solusi masalah",
        TEAM,
    ),
    _cmd(
        "dev_tracking",
        "RecordTestResult",
        "POST /requests/{request_id}/tests",
        "Hasil pengujian (langkah 9-11)",
        TEAM,
        "SYSTEM_TEST",
        "UNIT_TEST",
        "INTEGRATION_TEST",
    ),
    _cmd(
        "dev_tracking",
        "PublishManual",
        "POST /requests/{request_id}/manual",
        "Penerbitan buku manual (langkah 12)",
        TEAM,
        "MANUAL",
    ),
    _cmd(
        "dev_tracking",
        "RecordUat",
        "POST /requests/{request_id}/uat",
        "Hasil UAT (langkah 13)",
        REQUESTER,
        "UAT",
    ),
)

_REPORTING: tuple[Rule, ...] = (
    _query("reporting", "ListCases", "GET /cases", "Daftar permohonan", READERS),
    _query("reporting", "GetCase", "GET /cases/{request_id}", "Rincian permohonan", READERS),
    _query("reporting", "Timeline", "GET /cases/{request_id}/timeline", "Riwayat audit", READERS),
    _query(
        "reporting",
        "CaseAsOf",
        "GET /cases/{request_id}/as-of",
        "Keadaan permohonan pada saat lampau",
        READERS,
    ),
    _query(
        "reporting",
        "ExportJson",
        "GET /cases/{request_id}/export.json",
        "Ekspor riwayat (JSON)",
        READERS,
    ),
    _query(
        "reporting",
        "ExportCsv",
        "GET /cases/{request_id}/export.csv",
        "Ekspor riwayat (CSV)",
        READERS,
    ),
    _query(
        "reporting",
        "SlaReport",
        "GET /reports/sla",
        "Laporan SLA",
        READERS,
        note="A requester's report covers its own OPD only.",
    ),
    _query("reporting", "ShowCalendar", "GET /calendar/days", "Kalender kerja", SIGNED_IN),
    _cmd(
        "reporting",
        "EditCalendarDay",
        "POST /calendar/days",
        "Perubahan kalender kerja",
        _grants("NONE", "ADMIN"),
        note="Due dates are recomputed in the same transaction.",
    ),
    _cmd(
        "reporting",
        "RemoveCalendarDay",
        "DELETE /calendar/days/{day}",
        "Pembatalan perubahan kalender kerja",
        _grants("NONE", "ADMIN"),
    ),
    _query(
        "reporting",
        "ListNotifications",
        "GET /notifications",
        "Notifikasi saya",
        SIGNED_IN_SELF,
        note="Notices naming the caller, or one of its roles (own or as "
        "Plt/Plh) and no OPD or its OPD.",
    ),
    _cmd(
        "reporting",
        "MarkNoticeRead",
        "POST /notifications/{notice_id}/read",
        "Tandai notifikasi dibaca",
        SIGNED_IN_SELF,
        hides_out_of_scope=True,
    ),
    _query(
        "reporting",
        "NotificationStream",
        "GET /notifications/stream",
        "Aliran notifikasi",
        SIGNED_IN_SELF,
        note="Closed at the token's expiry and when a role or Plt/Plh delegation it serves is "
        "taken away; at most REPORTING_STREAMS_PER_USER open per user (429 above).",
    ),
)

_EOFFICE: tuple[Rule, ...] = (
    _query(
        "eoffice",
        "ListDeliveries",
        "GET /deliveries",
        "Daftar pengiriman status ke e-office",
        _grants("ANY", "ADMIN", "AUDITOR"),
        note="Operations: the status notices sent to the e-office (step, status, document "
        "numbers), which the e-office receives anyway; not the request's documents.",
    ),
    _query(
        "eoffice",
        "GetDelivery",
        "GET /deliveries/{delivery_id}",
        "Rincian pengiriman status ke e-office",
        _grants("ANY", "ADMIN", "AUDITOR"),
        note="One delivery with every attempt and its answer.",
    ),
    _cmd(
        "eoffice",
        "ResendDelivery",
        "POST /deliveries/{delivery_id}/resend",
        "Pengiriman ulang status ke e-office",
        ADMIN,
        note="Only a parked delivery (409 otherwise); recorded with who re-sent it.",
    ),
)

_DOCUMENTS: tuple[Rule, ...] = (
    _query(
        "documents",
        "ListRequestDocuments",
        "GET /requests/{request_id}/documents",
        "Daftar dokumen permohonan",
        READERS,
        note="The same readers as the case.",
    ),
    _query(
        "documents",
        "DownloadDocument",
        "GET /documents/{document_id}.pdf",
        "Unduh dokumen",
        READERS,
        note="Only an issued document; the readers of its request.",
    ),
    _query(
        "documents",
        "ListRegister",
        "GET /register",
        "Buku Agenda dokumen",
        _grants("ANY", "KADIS", "ADMIN", "AUDITOR"),
        note="Number, date, kind, request and signers of every final document: the register "
        "the Head of Department keeps, which the admin runs and the auditor checks; no "
        "document's content.",
    ),
    _query(
        "documents",
        "ListFailedDocuments",
        "GET /failures",
        "Dokumen yang gagal dibuat",
        _grants("ANY", "ADMIN", "AUDITOR"),
        note="Operations: which document failed and why (a template, a signer's data).",
    ),
    _cmd(
        "documents",
        "RetryDocument",
        "POST /documents/{document_id}/retry",
        "Pembuatan ulang dokumen yang gagal",
        ADMIN,
        note="Only a FAILED document (409 otherwise); no number was taken by the failure.",
    ),
    _query(
        "documents",
        "VerifyDocument",
        "GET /verify/{document_id}",
        "Verifikasi dokumen",
        (),
        authentication="PUBLIC",
        note="For whoever holds the paper (its QR code): kind, number, date, signers' names "
        "and the sha256, nothing of the request's content.",
    ),
    _query(
        "documents",
        "CheckDocument",
        "POST /verify/{document_id}",
        "Pencocokan berkas dokumen",
        (),
        authentication="PUBLIC",
        note="A PDF uploaded is compared with the issued one by its sha256; nothing is kept.",
    ),
)

POLICY: tuple[Rule, ...] = (
    *_IDENTITY,
    *_INTAKE,
    *_APPROVAL,
    *_DEV_TRACKING,
    *_REPORTING,
    *_EOFFICE,
    *_DOCUMENTS,
    *_HEALTH,
)
"""Every route of every service, exactly once."""

_BY_KEY: dict[tuple[str, str], Rule] = {r.key: r for r in POLICY}
_BY_ROUTE: dict[tuple[str, str, str], Rule] = {(r.service, r.method, r.path): r for r in POLICY}


class UnknownRule(LookupError):
    """No rule by that name or route: a route or command the policy does not declare."""


def rule(service: Service, name: str) -> Rule:
    """The rule of ``service``'s command or query ``name``, e.g. ``rule("approval", "Dispose")``."""
    try:
        return _BY_KEY[service, name]
    except KeyError:
        raise UnknownRule(f"no access rule {service}.{name}") from None


def rule_for_route(service: Service, method: str, path: str) -> Rule:
    """The rule of ``service``'s route ``method path`` (the path as the route declares it)."""
    try:
        return _BY_ROUTE[service, method.upper(), path]
    except KeyError:
        raise UnknownRule(f"no access rule for {service} {method} {path}") from None


def rules_of(service: Service) -> tuple[Rule, ...]:
    """``service``'s rules, in the order of the tables."""
    return tuple(r for r in POLICY if r.service == service)
