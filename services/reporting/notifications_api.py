"""The notifications API: the caller's notices, read marks, and a Server-Sent Events stream.

* ``GET /notifications?unread=true``: the caller's notices, newest first, with ``last_seq``
  (open the stream with ``?after=last_seq`` to continue from the list without a gap).
* ``POST /notifications/{notice_id}/read``: marks one notice read for the caller (404 for a
  notice that is unknown or not the caller's). Idempotent.
* ``GET /notifications/stream``: ``event: notice`` with ``id: <seq>`` and the notice as JSON,
  in ``seq`` order. It resumes after the ``Last-Event-ID`` header (what a browser's EventSource
  sends when it reconnects), else after ``?after=``, else from now. The first event,
  ``event: ready`` with ``id:`` = the starting point, lets a client that sees no notice before
  it drops still resume from where it connected. Keep-alive comments every ``ping_seconds``.

A stream ends with its token: it closes at the token's expiry (a client reconnects with a
fresh token and its ``Last-Event-ID``, so nothing is missed or repeated). It serves the roles
and Plt/Plh delegations of its token that identity has not taken away since the token was
issued (``grants``), checks them again every ``recheck_seconds`` and closes when one was taken
away. One user holds at most ``streams_per_user`` streams open in this process; one more is
answered 429.

A notice is the caller's if it names the caller's user id, or names no user and one of the
caller's roles, own or held as Plt/Plh (``Principal.has_role``), and either no OPD or the
caller's OPD.

Why no notice is skipped or repeated: ``store_notices`` hands out ``seq`` in commit order (an
advisory lock held until commit), so once a notice with ``seq`` N is visible, every notice below
N is too; the stream only ever reads ``seq > cursor``. New notices arrive by LISTEN/NOTIFY (the
NOTIFY is in the storing transaction, so it fires on commit): one listening connection per
router, shared by all open streams (``NotificationHub``), and each stream also polls every
``poll_seconds`` (every second while the hub is not listening), so a lost connection delays
notices but never loses them.
"""

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import asyncpg
import structlog
from fastapi import APIRouter, Depends, Header, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse, ServerSentEvent

from events.steps import StepCode
from infra.auth import Bearer
from infra.db import Connection
from infra.errors import InvalidInput, NotFound
from infra.limits import MAX_SEQ
from infra.metrics import SSE_CONNECTIONS
from infra.principal import Principal
from services.reporting.grants import lost_anything
from services.reporting.grants_store import held_now
from services.reporting.notifications import Addressee, NoticeKind, channel
from services.reporting.stream_slots import Slot, StreamSlots

log = structlog.get_logger()

PoolSource = asyncpg.Pool | Callable[[], asyncpg.Pool]
"""The pool, or a function that returns it once it exists (the runtime opens it at startup)."""


class NoticeView(BaseModel):
    """One notice as its addressee sees it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seq: int = Field(description="Its place in the notices' order; the stream's event id")
    notice_id: UUID = Field(description="The notice's id")
    kind: NoticeKind = Field(description="ACTION (a request waits on you) or SLA_BREACH")
    addressee: Addressee = Field(description="Who it is addressed to")
    request_id: str = Field(description="The request it is about")
    step: StepCode = Field(description="The step that waits or overran")
    message: str = Field(description="The message, in Indonesian")
    created_at: datetime = Field(description="When it was made")
    event_id: UUID | None = Field(description="The event that triggered it")
    read: bool = Field(description="True once the caller marked it read")
    read_at: datetime | None = Field(description="When the caller marked it read")


class NoticeList(BaseModel):
    """The caller's notices, newest first."""

    items: list[NoticeView] = Field(description="The notices asked for, newest first")
    unread: int = Field(description="How many of the caller's notices are unread, in all")
    last_seq: int = Field(
        description="The latest seq when this list was read: stream with ?after=last_seq"
    )


def _roles(caller: Principal) -> list[str]:
    """Every role ``caller.has_role`` accepts: its own and those it holds as Plt/Plh."""
    return sorted({*caller.roles, *(d.role for d in caller.delegations)})


class NoticeReader:
    """The queries, always limited to the caller's notices."""

    def __init__(self, schema: str) -> None:
        self.schema = schema
        s = schema
        self._select = (
            "SELECT n.seq, n.notice_id, n.kind, n.role, n.opd, n.user_id, n.request_id, n.step, "
            "n.message, n.created_at, n.event_id, r.read_at "
            f"FROM {s}.notices n LEFT JOIN {s}.notice_reads r "
            "ON r.notice_id = n.notice_id AND r.user_id = $1 "
            "WHERE (n.user_id = $1 OR (n.user_id IS NULL AND n.role = ANY($2::text[]) "
            "AND (n.opd IS NULL OR n.opd = $3)))"
        )

    @staticmethod
    def _who(caller: Principal) -> tuple[str, list[str], str | None]:
        return caller.user_id, _roles(caller), caller.opd

    @staticmethod
    def _view(row: asyncpg.Record) -> NoticeView:
        return NoticeView(
            seq=row["seq"],
            notice_id=row["notice_id"],
            kind=row["kind"],
            addressee=Addressee(role=row["role"], opd=row["opd"], user_id=row["user_id"]),
            request_id=row["request_id"],
            step=row["step"],
            message=row["message"],
            created_at=row["created_at"],
            event_id=row["event_id"],
            read=row["read_at"] is not None,
            read_at=row["read_at"],
        )

    async def last_seq(self, conn: Connection) -> int:
        return int(await conn.fetchval(f"SELECT coalesce(max(seq), 0) FROM {self.schema}.notices"))

    async def listing(
        self, conn: Connection, caller: Principal, unread: bool, limit: int, before: int | None
    ) -> NoticeList:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            rows = await conn.fetch(
                f"{self._select} AND ($4::bigint IS NULL OR n.seq < $4) "
                "AND (NOT $5 OR r.read_at IS NULL) ORDER BY n.seq DESC LIMIT $6",
                *self._who(caller),
                before,
                unread,
                limit,
            )
            count = await conn.fetchval(
                f"SELECT count(*) FROM ({self._select} AND r.read_at IS NULL) AS mine",
                *self._who(caller),
            )
            last = await self.last_seq(conn)
        return NoticeList(items=[self._view(r) for r in rows], unread=count, last_seq=last)

    async def after(
        self, conn: Connection, caller: Principal, cursor: int, limit: int
    ) -> list[NoticeView]:
        rows = await conn.fetch(
            f"{self._select} AND n.seq > $4 ORDER BY n.seq LIMIT $5",
            *self._who(caller),
            cursor,
            limit,
        )
        return [self._view(r) for r in rows]

    async def one(self, conn: Connection, caller: Principal, notice_id: UUID) -> NoticeView | None:
        row = await conn.fetchrow(
            f"{self._select} AND n.notice_id = $4", *self._who(caller), notice_id
        )
        return None if row is None else self._view(row)

    async def mark_read(self, conn: Connection, caller: Principal, notice_id: UUID) -> NoticeView:
        async with conn.transaction():
            view = await self.one(conn, caller, notice_id)
            if view is None:
                raise NotFound(f"Notifikasi {notice_id} tidak dikenal")
            if view.read:
                return view
            await conn.execute(
                f"INSERT INTO {self.schema}.notice_reads (notice_id, user_id) VALUES ($1, $2) "
                "ON CONFLICT (notice_id, user_id) DO NOTHING",
                notice_id,
                caller.user_id,
            )
            marked = await self.one(conn, caller, notice_id)
        assert marked is not None
        return marked


class NotificationHub:
    """Wakes every open stream when ``store_notices`` NOTIFYs.

    One connection LISTENs while at least one stream is open, and goes back to the pool when the
    last one closes. If it cannot listen (or its connection drops) it retries every
    ``retry_seconds``; the streams poll meanwhile.
    """

    def __init__(self, pool: Callable[[], asyncpg.Pool], channel: str, retry_seconds: float = 1.0):
        self._pool = pool
        self.channel = channel
        self.retry_seconds = retry_seconds
        self._waiters: set[asyncio.Event] = set()
        self._task: asyncio.Task[None] | None = None
        self.listening = False

    @property
    def subscribers(self) -> int:
        return len(self._waiters)

    @property
    def running(self) -> bool:
        """True while the listening task exists (it ends when the last stream closes)."""
        return self._task is not None and not self._task.done()

    @asynccontextmanager
    async def subscription(self) -> AsyncIterator[asyncio.Event]:
        """An event set whenever notices may have been stored (clear it before reading)."""
        wake = asyncio.Event()
        self._waiters.add(wake)
        if not self.running:
            self._task = asyncio.get_running_loop().create_task(self._listen())
        try:
            yield wake
        finally:
            self._waiters.discard(wake)
            if not self._waiters and self._task is not None:
                self._task.cancel()
                self._task = None

    def _wake_all(self, *_: object) -> None:
        for wake in self._waiters:
            wake.set()

    async def _listen(self) -> None:
        while True:
            try:
                await self._listen_once()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("notification listener failed; streams poll", error=str(error))
            await asyncio.sleep(self.retry_seconds)

    async def _listen_once(self) -> None:
        async with self._pool().acquire() as conn:
            closed = asyncio.Event()

            def on_close(_: object) -> None:
                closed.set()

            conn.add_termination_listener(on_close)
            try:
                await conn.add_listener(self.channel, self._wake_all)
                self.listening = True
                self._wake_all()  # whatever was stored before the LISTEN took effect
                await closed.wait()
            finally:
                self.listening = False
                # the pool's reset drops LISTENs, not termination listeners
                conn.remove_termination_listener(on_close)
                if not conn.is_closed():
                    with suppress(Exception):
                        await conn.remove_listener(self.channel, self._wake_all)


class NotificationsRouter(APIRouter):
    """The notifications router, with its hub and its streams' slots (for operators' and tests'
    eyes)."""

    hub: NotificationHub
    slots: StreamSlots


class SlottedStream(EventSourceResponse):
    """A stream that gives its slot back when it ends, however it ends (even if its body never
    started: the client left before the answer's head was sent)."""

    def __init__(self, slot: Slot, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slot = slot

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.slot.release()


_SEQ = re.compile(r"^[0-9]{1,19}$")


def _cursor(last_event_id: str | None, after: int | None) -> int | None:
    if last_event_id is not None and last_event_id.strip():
        text = last_event_id.strip()
        # ASCII digits only: str.isdigit() also takes '²', which int() refuses
        if not _SEQ.match(text) or int(text) > MAX_SEQ:
            raise InvalidInput(
                f"Last-Event-ID harus berupa seq notifikasi (bilangan 0 sampai {MAX_SEQ}), "
                f"bukan {text!r}",
                "Last-Event-ID",
            )
        return int(text)
    return after


def build_notifications_router(
    pool: PoolSource,
    schema: str,
    bearer_dependency: Callable[..., Awaitable[Bearer]],
    *,
    ping_seconds: float = 15.0,
    poll_seconds: float = 5.0,
    retry_ms: int = 2000,
    batch: int = 200,
    recheck_seconds: float = 60.0,
    streams_per_user: int = 5,
) -> APIRouter:
    """The ``/notifications`` routes over ``schema``'s notices (see the module docstring)."""

    def get_pool() -> asyncpg.Pool:
        return pool if isinstance(pool, asyncpg.Pool) else pool()

    reader = NoticeReader(schema)
    hub = NotificationHub(get_pool, channel(schema))
    router = NotificationsRouter(prefix="/notifications", tags=["notifikasi"])
    router.hub = hub
    router.slots = StreamSlots(streams_per_user)
    Token = Annotated[Bearer, Depends(bearer_dependency)]

    async def principal_of(token: Token) -> Principal:
        return token.principal

    Caller = Annotated[Principal, Depends(principal_of)]

    @router.get(
        "",
        summary="Notifikasi saya (terbaru dulu)",
        description="Notifikasi untuk peran pemanggil (termasuk sebagai Plt/Plh), untuk OPD-nya, "
        "atau untuk user-nya. last_seq: lanjutkan dengan GET /notifications/stream?after=last_seq.",
        responses={401: {"description": "Tanpa token atau token tidak sah"}},
    )
    async def list_notices(
        caller: Caller,
        unread: Annotated[bool, Query(description="Hanya yang belum dibaca")] = False,
        limit: Annotated[int, Query(ge=1, le=500, description="Paling banyak")] = 100,
        before: Annotated[
            int | None,
            Query(ge=1, le=MAX_SEQ, description="Hanya seq di bawah ini (halaman berikutnya)"),
        ] = None,
    ) -> NoticeList:
        async with get_pool().acquire() as conn:
            return await reader.listing(conn, caller, unread, limit, before)

    @router.post(
        "/{notice_id}/read",
        summary="Tandai notifikasi sudah dibaca",
        responses={
            401: {"description": "Tanpa token atau token tidak sah"},
            404: {"description": "Notifikasi tidak dikenal atau bukan untuk pemanggil"},
        },
    )
    async def mark_read(
        notice_id: Annotated[UUID, Path(description="Id notifikasi")], caller: Caller
    ) -> NoticeView:
        async with get_pool().acquire() as conn:
            return await reader.mark_read(conn, caller, notice_id)

    async def events(
        token: Bearer, served: Principal, cursor: int
    ) -> AsyncIterator[ServerSentEvent]:
        yield ServerSentEvent(
            data=json.dumps({"after": cursor}), event="ready", id=str(cursor), retry=retry_ms
        )
        loop = asyncio.get_running_loop()
        ends = loop.time() + (token.expires_at - datetime.now(UTC)).total_seconds()
        recheck = loop.time() + recheck_seconds
        with SSE_CONNECTIONS.labels("reporting").track_inprogress():
            async with hub.subscription() as wake:
                while loop.time() < ends:
                    wake.clear()
                    async with get_pool().acquire() as conn:
                        if loop.time() >= recheck:
                            held = await held_now(conn, schema, token, datetime.now(UTC))
                            if lost_anything(served, held):
                                log.info(
                                    "notification stream closed: access taken away",
                                    user_id=served.user_id,
                                )
                                return
                            recheck = loop.time() + recheck_seconds
                        found = await reader.after(conn, served, cursor, batch)
                    for view in found:
                        yield ServerSentEvent(
                            data=view.model_dump_json(), event="notice", id=str(view.seq)
                        )
                        cursor = view.seq
                    if len(found) < batch:
                        poll = poll_seconds if hub.listening else min(poll_seconds, 1.0)
                        wait = min(poll, ends - loop.time(), recheck - loop.time())
                        with suppress(TimeoutError):
                            async with asyncio.timeout(max(wait, 0)):
                                await wake.wait()

    stream_doc: dict[int | str, dict[str, Any]] = {
        200: {
            "description": "text/event-stream: event ready (id = titik mulai), lalu event notice "
            "(id = seq, data = NoticeView JSON)",
            "content": {"text/event-stream": {}},
        },
        401: {"description": "Tanpa token atau token tidak sah"},
        422: {"description": "Last-Event-ID atau after tidak valid"},
        429: {"description": "Terlalu banyak aliran terbuka untuk pengguna ini"},
    }

    @router.get(
        "/stream",
        summary="Aliran notifikasi langsung (Server-Sent Events)",
        description="Melanjutkan setelah header Last-Event-ID, atau setelah ?after=, atau dari "
        "sekarang. Tanpa celah dan tanpa pengulangan. Aliran ditutup saat token berakhir atau "
        "saat peran/penugasan Plt/Plh yang dilayaninya dicabut; sambungkan lagi dengan token baru.",
        response_class=EventSourceResponse,
        responses=stream_doc,
    )
    async def stream(
        token: Token,
        after: Annotated[
            int | None,
            Query(ge=0, le=MAX_SEQ, description="Lanjutkan setelah seq ini (tanpa Last-Event-ID)"),
        ] = None,
        last_event_id: Annotated[
            str | None,
            Header(alias="Last-Event-ID", max_length=32, description="Seq terakhir yang diterima"),
        ] = None,
    ) -> EventSourceResponse:
        cursor = _cursor(last_event_id, after)
        slot = router.slots.take(token.principal.user_id)  # before any use of the pool
        try:
            async with get_pool().acquire() as conn:
                served = await held_now(conn, schema, token, datetime.now(UTC))
                if cursor is None:
                    cursor = await reader.last_seq(conn)
        except BaseException:
            slot.release()
            raise
        return SlottedStream(slot, events(token, served, cursor), ping=ping_seconds)

    return router
