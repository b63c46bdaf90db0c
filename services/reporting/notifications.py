"""Live notifications: who must now act on a request, and which SLA breaches to tell whom.

``notices_for_step(before, after, envelope, now)`` is pure. It compares the versions of one case
before and after one envelope (``notices_history`` steps a request's envelopes through it in
canonical order, so that the notices depend only on the set of envelopes):

* **ACTION**: when the case's *waiting point* moves, one notice to whoever must now act. The
  waiting point is ``(who_must_act, step)``, or ``(PEMOHON, RETURNED)`` while the request is
  back with the requester (so a late event that changes the step of a returned case does not
  tell the requester twice). After RequestSubmitted KADIS must receive, after RequestReceived
  KADIS must disposition, after Disposed KABID_TI must check the documents, ... the team builds
  and tests, the requester runs the UAT (the team first, while problems are open), and the
  requester revises a returned request. A closed case tells nobody. A failed test (the team
  stays at its step) or a progress report tells nobody either.
* **SLA_BREACH**: for every SlaBreached that is in ``after`` but not in ``before``, one notice
  to the responsible role and one to its supervisor role (the event's, else the step
  catalogue's ``supervisor_role``; none when the supervisor is outside the system).

Addressees: a requester's notice names the role PEMOHON and the case's OPD (only that OPD's
requesters see it; while the OPD is unknown, because approval's events came before intake's,
the requester is told nothing yet, and is told when the RequestSubmitted naming it arrives);
the team's notice names each member's user id once the assignment letter is known, else the
role; KADIS and KABID_TI are addressed by role (a Plt/Plh holding the role by delegation sees
them too, see ``notifications_api``).

``notice_id`` is a UUIDv5 of the request, the triggering event, the kind and the addressee:
replaying the same events, or a redelivery, yields the same ids, and ``store_notices`` keeps the
first (``ON CONFLICT DO NOTHING``).

``store_notices`` takes a transaction-scoped advisory lock before inserting, so the ``seq`` that
numbers the notices (and is the Server-Sent Events id) is handed out in commit order: a stream
that has delivered ``seq`` N never later finds a committed notice below N. It then NOTIFYs the
schema's channel, which PostgreSQL delivers on commit. Call it as the last write of the
consumer's transaction (it holds the lock until commit).
"""

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache
from hashlib import sha1
from typing import Any, Literal, NamedTuple, get_args
from uuid import UUID
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from events.catalog import default_registry
from events.envelope import Envelope, Role
from events.reporting import SlaBreached
from events.steps import StepCode, step
from infra.db import Connection
from services.reporting.calendar import WIB
from services.reporting.casefile_model import CaseView

__all__ = [
    "NOTICE_COLUMNS",
    "NOTICE_NAMESPACE",
    "Addressee",
    "Notice",
    "NoticeKind",
    "channel",
    "notice_id",
    "notice_values",
    "notices_for_step",
    "store_notices",
    "waiting_point",
]

NoticeKind = Literal["ACTION", "SLA_BREACH"]
"""ACTION: a request now waits on the addressee; SLA_BREACH: a step overran its standard time."""

NOTICE_NAMESPACE = UUID("6f1f7c9e-3a51-5b0e-9d8e-2c4a7b1e0a11")
"""The UUIDv5 namespace of notice ids. Never change it: replays rely on stable ids."""

_NAMESPACE_BYTES = NOTICE_NAMESPACE.bytes
_VERSION_5_BITS = (0x8000 << 48) | (5 << 76)
"""The variant (RFC 4122) and version (5) bits that ``UUID(bytes=..., version=5)`` sets."""
_VERSION_BITS_CLEARED = ~((0xC000 << 48) | (0xF000 << 64))
"""The mask that clears those bits before they are set."""
_REGISTRY = default_registry()
_SLA_BREACHED = SlaBreached.event_type()
_ZONE = ZoneInfo(WIB)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Addressee(_Frozen):
    """Who a notice is for: a user, or every holder of a role (within one OPD if set)."""

    role: Role = Field(description="The role addressed (also set when a user is named)")
    opd: str | None = Field(default=None, description="Only this OPD's holders of the role")
    user_id: str | None = Field(default=None, description="Only this user; the role is context")


class Notice(NamedTuple):
    """One notification to one addressee.

    A plain value, not a pydantic model: notices are made only here, from cases and events that
    were validated when they arrived, and the bulk replay makes one per notice of the history.
    The API serves ``notifications_api.NoticeView``, read back from the ``notices`` table.
    """

    notice_id: UUID
    """Deterministic: request, event, kind and addressee (``notice_id``)."""
    kind: NoticeKind
    """ACTION or SLA_BREACH."""
    addressee: Addressee
    """Who it is for."""
    request_id: str
    """The request it is about."""
    step: StepCode
    """The step that waits (ACTION) or overran (SLA_BREACH)."""
    message: str
    """What to tell the addressee, in Indonesian."""
    created_at: dt.datetime
    """When it was made (timezone-aware)."""
    event_id: UUID | None = None
    """The event that triggered it."""


WaitingPoint = tuple[Role, str]
"""``(role, step code)``, or ``("PEMOHON", "RETURNED")`` while returned to the requester."""


def waiting_point(case: CaseView) -> WaitingPoint | None:
    """Who the case waits on and for what; None when it waits on nobody (absent or closed).

    Also None while it waits on a requester whose OPD is not known yet (approval's events can
    arrive before intake's): a requester's notice must name the OPD, and the requester is told
    once the RequestSubmitted that names it arrives.
    """
    who = case.who_must_act
    if who is None or (who == "PEMOHON" and case.opd is None):
        return None
    return (who, "RETURNED" if case.status == "RETURNED" else case.step)


def notice_id(request_id: str, event_id: UUID, kind: NoticeKind, addressee: Addressee) -> UUID:
    """The notice's id: the same inputs give the same id, in every process, forever."""
    return _notice_id(_id_prefix(request_id, event_id, kind), addressee)


def _id_prefix(request_id: str, event_id: UUID, kind: NoticeKind) -> str:
    """The start of the name ``notice_id`` hashes, the same for every addressee of an event."""
    return f"{request_id}|{event_id}|{kind}|"


def _notice_id(prefix: str, addressee: Addressee) -> UUID:
    name = f"{prefix}{addressee.role}|{addressee.opd or ''}|{addressee.user_id or ''}"
    # ``uuid.uuid5(NOTICE_NAMESPACE, name)`` spelled out (its very steps) with the namespace's
    # bytes computed once: half its cost, and the bulk replay makes one id per notice.
    digest = sha1(_NAMESPACE_BYTES + name.encode()).digest()
    return UUID(int=int.from_bytes(digest[:16]) & _VERSION_BITS_CLEARED | _VERSION_5_BITS)


# --- messages -------------------------------------------------------------------------------

_ROLE_NAME: dict[str, str] = {
    "PEMOHON": "Pemohon",
    "KADIS": "Kepala Dinas",
    "KABID_TI": "Kepala Bidang TI",
    "TIM_PENGEMBANG": "Tim Pengembang",
    "ADMIN": "Admin",
    "AUDITOR": "Auditor",
    "SYSTEM": "Sistem",
}

_STEP_NAME: dict[str, str] = {
    "SUBMIT": "pengajuan permohonan",
    "RECEIVE": "penerimaan permohonan",
    "DISPOSE": "disposisi",
    "VERIFY": "pemeriksaan kelengkapan dokumen",
    "MEETING": "rapat pembahasan aplikasi",
    "SIGN_MINUTES": "penandatanganan Berita Acara",
    "ASSIGN": "penerbitan Surat Tugas",
    "DEVELOP": "pembangunan aplikasi",
    "SYSTEM_TEST": "System Testing",
    "UNIT_TEST": "Unit Testing",
    "INTEGRATION_TEST": "Integration Testing",
    "MANUAL": "penyusunan manual book",
    "UAT": "User Acceptance Test (UAT)",
    "DONE": "penyelesaian",
}
"""A short Indonesian name of each step, for messages (the catalogue's labels are sentences)."""

_WAITS_FOR: dict[WaitingPoint, str] = {
    ("KADIS", "RECEIVE"): "telah diajukan dan menunggu diterima",
    ("KADIS", "DISPOSE"): "menunggu disposisi Anda",
    ("KABID_TI", "VERIFY"): "menunggu pemeriksaan kelengkapan dokumen oleh Anda",
    ("KABID_TI", "MEETING"): "menunggu rapat pembahasan aplikasi",
    ("KABID_TI", "SIGN_MINUTES"): "menunggu penandatanganan Berita Acara",
    ("KADIS", "ASSIGN"): "menunggu penerbitan Surat Tugas tim oleh Anda",
    ("TIM_PENGEMBANG", "DEVELOP"): "menunggu pembangunan aplikasi oleh tim Anda",
    ("TIM_PENGEMBANG", "SYSTEM_TEST"): "menunggu System Testing oleh tim Anda",
    ("TIM_PENGEMBANG", "UNIT_TEST"): "menunggu Unit Testing oleh tim Anda",
    ("TIM_PENGEMBANG", "INTEGRATION_TEST"): "menunggu Integration Testing oleh tim Anda",
    ("TIM_PENGEMBANG", "MANUAL"): "menunggu penyusunan manual book oleh tim Anda",
    ("TIM_PENGEMBANG", "UAT"): (
        "menunggu solusi tim Anda atas masalah yang masih terbuka sebelum UAT"
    ),
    ("PEMOHON", "UAT"): "siap diuji dan menunggu User Acceptance Test (UAT) oleh Anda",
}


def _subject(case: CaseView) -> str:
    name = f'"{case.title}"' if case.title else case.request_id
    return f"Permohonan {name}" + (f" dari {case.opd}" if case.opd else "")


def _sop_number(code: str) -> str:
    return step(code).sop_number


def _action_message(case: CaseView, point: WaitingPoint, previous: WaitingPoint | None) -> str:
    role, where = point
    subject = _subject(case)
    if where == "RETURNED":
        reasons = "; ".join(case.returns[-1].reasons) if case.returns else ""
        why = f": {reasons}" if reasons else ""
        return (
            f"{subject} dikembalikan untuk dilengkapi{why}. "
            f"Mohon perbaiki dan ajukan kembali (langkah {_sop_number('VERIFY')})."
        )
    number = _sop_number(where)
    if point == ("KABID_TI", "VERIFY") and previous == ("PEMOHON", "RETURNED"):
        return (
            f"{subject} telah diperbaiki pemohon dan menunggu pemeriksaan ulang kelengkapan "
            f"dokumen oleh Anda (langkah {number})."
        )
    if point == ("TIM_PENGEMBANG", "DEVELOP") and previous is not None and previous[1] == "UAT":
        return (
            f"{subject} ditolak pada UAT dan menunggu perbaikan oleh tim Anda (langkah {number})."
        )
    waits = _WAITS_FOR.get(point)
    if waits is None:  # a waiting point the SOP does not name: say the step
        waits = f"menunggu {_STEP_NAME[where]} oleh Anda ({_ROLE_NAME[role]})"
    return f"{subject} {waits} (langkah {number})."


def _local(instant: dt.datetime) -> str:
    return instant.astimezone(_ZONE).strftime("%d-%m-%Y %H:%M WIB")


def _breach_message(case: CaseView, breach: SlaBreached, supervising: bool) -> str:
    what = f"langkah {_sop_number(breach.step)} ({_STEP_NAME[breach.step]})"
    due = _local(breach.due_at)
    subject = _subject(case)
    if supervising:
        return (
            f"Batas waktu {what} {subject} terlampaui (jatuh tempo {due}); tanggung jawab "
            f"{_ROLE_NAME[breach.responsible_role]}. Mohon dipantau."
        )
    return (
        f"Batas waktu {what} {subject} terlampaui (jatuh tempo {due}). "
        "Mohon segera ditindaklanjuti."
    )


# --- addressees -----------------------------------------------------------------------------


def _addressees(case: CaseView, role: Role) -> tuple[Addressee, ...]:
    """Who holds ``role`` for this case: the requester's OPD, the named team, or the role."""
    if role == "PEMOHON":  # never every OPD's requesters: nobody while the OPD is unknown
        return () if case.opd is None else _requesters(case.opd)
    if role == "TIM_PENGEMBANG" and case.team is not None and case.team.members:
        return _members(case.team.members)
    return _EVERY_HOLDER[role]


_EVERY_HOLDER: dict[str, tuple[Addressee, ...]] = {r: (Addressee(role=r),) for r in get_args(Role)}
"""Each role addressed as a whole. An ``Addressee`` is frozen, so one serves every notice."""


@lru_cache(maxsize=4096)
def _requesters(opd: str) -> tuple[Addressee, ...]:
    """The requesters of one OPD (cached: a request's requester is told at several steps)."""
    return (Addressee(role="PEMOHON", opd=opd),)


@lru_cache(maxsize=4096)
def _members(members: tuple[str, ...]) -> tuple[Addressee, ...]:
    """Each member of a team once (cached: a team is told at every step it owns)."""
    return tuple(Addressee(role="TIM_PENGEMBANG", user_id=m) for m in dict.fromkeys(members))


def _notices(
    case: CaseView,
    event_id: UUID,
    kind: NoticeKind,
    at_step: StepCode,
    addressed: Iterable[tuple[Addressee, str]],
    now: dt.datetime,
) -> list[Notice]:
    """One notice per addressee. The addressees of one event and kind are distinct (``_addressees``
    names each holder once, and a breach's supervisor is never its responsible role), so their
    notice ids are too."""
    prefix = _id_prefix(case.request_id, event_id, kind)
    request_id = case.request_id
    return [
        Notice(_notice_id(prefix, a), kind, a, request_id, at_step, message, now, event_id)
        for a, message in addressed
    ]


# --- the change -----------------------------------------------------------------------------


Points = tuple[WaitingPoint | None, WaitingPoint | None]
"""The waiting points of a case before and after a change."""


def _action(
    before: CaseView, after: CaseView, trigger: Envelope, now: dt.datetime, points: Points | None
) -> list[Notice]:
    previous, point = (waiting_point(before), waiting_point(after)) if points is None else points
    if point is None or point == previous:
        return []
    message = _action_message(after, point, previous)
    addressed = [(a, message) for a in _addressees(after, point[0])]
    return _notices(after, trigger.event_id, "ACTION", after.step, addressed, now)


def _breach(case: CaseView, envelope: Envelope, now: dt.datetime) -> list[Notice]:
    breach = _REGISTRY.load(envelope.event_type, envelope.schema_version, envelope.payload)
    assert isinstance(breach, SlaBreached)
    responsible = breach.responsible_role
    supervisor = breach.supervisor_role or step(breach.step).supervisor_role
    addressed = [(a, _breach_message(case, breach, False)) for a in _addressees(case, responsible)]
    if supervisor is not None and supervisor != responsible:
        addressed += [
            (a, _breach_message(case, breach, True)) for a in _addressees(case, supervisor)
        ]
    return _notices(case, envelope.event_id, "SLA_BREACH", breach.step, addressed, now)


def notices_for_step(
    before: CaseView,
    after: CaseView,
    envelope: Envelope,
    now: dt.datetime,
    *,
    points: Points | None = None,
) -> list[Notice]:
    """The notices owed because ``envelope``, one envelope new to ``before`` (the caller knows it
    is), took the case from ``before`` to ``after``. Pure. ACTION notices first (when the waiting
    point moved), then SLA_BREACH ones (when ``envelope`` is an SlaBreached). The cases may be
    ``CaseFile``s or the fold's drafts (``CaseView``); ``points``, if given, are the waiting
    points of ``before`` and ``after`` worked out already (``notices_history`` has them)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if before.request_id != after.request_id:
        raise ValueError(f"cases of two requests: {before.request_id} and {after.request_id}")
    notices = _action(before, after, envelope, now, points)
    if envelope.event_type == _SLA_BREACHED:
        notices += _breach(after, envelope, now)
    return notices


# --- storage --------------------------------------------------------------------------------


def channel(schema: str) -> str:
    """The PostgreSQL NOTIFY channel on which ``store_notices`` announces new notices."""
    return f"{schema}_notices"


NOTICE_COLUMNS = (
    "notice_id, kind, role, opd, user_id, request_id, step, message, created_at, event_id"
)


def notice_values(notice: Notice) -> tuple[Any, ...]:
    """The ``notices`` row (``NOTICE_COLUMNS``), as ``store_notices`` and the bulk replay write
    it."""
    return (
        notice.notice_id,
        notice.kind,
        notice.addressee.role,
        notice.addressee.opd,
        notice.addressee.user_id,
        notice.request_id,
        notice.step,
        notice.message,
        notice.created_at,
        notice.event_id,
    )


def _insert_sql(schema: str) -> str:
    return (
        f"INSERT INTO {schema}.notices ({NOTICE_COLUMNS}) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (notice_id) DO NOTHING"
    )


async def store_notices(conn: Connection, schema: str, notices: list[Notice]) -> None:
    """Insert ``notices`` (a notice already stored is left alone) and wake the streams.

    Runs in the caller's transaction if there is one, else in its own. The advisory lock it
    takes is held until that transaction ends, so ``seq`` follows commit order; make it the
    last write of the transaction. Two round trips: the lock with the NOTIFY (delivered only
    at commit anyway), then the inserts.
    """
    if not notices:
        return
    if not conn.is_in_transaction():
        async with conn.transaction():
            await store_notices(conn, schema, notices)
        return
    rows = [notice_values(n) for n in notices]
    # The two-key form: its own key space, apart from the one-key locks of the projector.
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext($1), 120), pg_notify($2, '')",
        schema,
        channel(schema),
    )
    await conn.executemany(_insert_sql(schema), rows)
