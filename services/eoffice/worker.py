"""The delivery worker: a background task of the service that posts due deliveries.

Each round claims up to ``concurrency`` due deliveries (each of another request), posts them at
once, and writes each outcome; then it looks again at once if it found any, or else waits until
the earliest delivery is due (at most ``poll_seconds``, or until ``wake``). Everything it knows
is in PostgreSQL, so stopping it at any point loses nothing: a delivery in backoff is tried when
due by whichever worker runs then; one claimed by a worker that died is tried again once its
lease runs out (it may then reach the e-office twice, with the same delivery id).
"""

import asyncio
import datetime as dt
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from uuid import UUID

import structlog

from infra.db import DATABASE_FAILURES
from services.eoffice.backoff import RetryPolicy
from services.eoffice.delivery import Due
from services.eoffice.outbound import Poster
from services.eoffice.schedule import DeliverySchedule

log = structlog.get_logger()

MIN_WAIT = 0.02


@dataclass
class DeliveryWorker:
    schedule: DeliverySchedule
    poster: Poster | None
    """None without a callback URL: nothing is posted (deliveries are still recorded)."""
    policy: RetryPolicy
    clock: Callable[[], dt.datetime]
    poll_seconds: float
    concurrency: int
    lease_seconds: float
    _wake: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _stopping: bool = field(default=False, init=False)

    def wake(self) -> None:
        """Look for due deliveries now (after a re-send, say)."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def round(self) -> int:
        """Claim and post what is due now; returns how many were attempted."""
        if self.poster is None:
            return 0
        token, claimed = await self.schedule.claim(
            self.concurrency, self.lease_seconds, self.clock()
        )
        outcomes = await asyncio.gather(
            *(self._deliver(self.poster, token, due) for due in claimed), return_exceptions=True
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):  # its lease runs out: it is tried again
                log.error("delivery failed unexpectedly", error=repr(outcome))
        return len(claimed)

    async def _deliver(self, poster: Poster, token: UUID, due: Due) -> None:
        bound = structlog.contextvars.bound_contextvars(
            delivery_id=str(due.delivery_id),
            stream_id=due.request_id,
            correlation_id=str(due.correlation_id),
        )
        with bound:
            started = self.clock()
            result = await poster.post(due.body, due.delivery_id, due.total_attempts)
            try:
                state = await self.schedule.finish(
                    due, token, started, result, self.policy, self.clock()
                )
            except DATABASE_FAILURES as error:  # the lease runs out and the delivery is tried again
                log.warning("could not record a delivery attempt", error=str(error))
                return
            log.info(
                "delivery attempted",
                sequence=due.sequence,
                attempt=due.attempts,
                http_status=result.http_status,
                state=state or "lease lost",
            )

    async def _wait(self) -> float:
        due = await self.schedule.next_due(self.clock())
        if due is None:
            return self.poll_seconds
        ahead = (due - self.clock()).total_seconds()
        return min(self.poll_seconds, max(MIN_WAIT, ahead))

    async def run(self) -> None:
        """Deliver until ``stop``; a failed round is logged and tried again later."""
        if self.poster is None:
            log.warning("EOFFICE_CALLBACK_URL is not set: status changes are recorded, not sent")
        while not self._stopping:
            wait = self.poll_seconds
            try:
                if await self.round():
                    continue
                if self.poster is not None:
                    wait = await self._wait()
            except DATABASE_FAILURES as error:
                log.warning("delivery round failed; trying again", error=str(error))
            except Exception:  # the worker must outlive any one failure
                log.exception("delivery round failed unexpectedly; trying again")
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            self._wake.clear()
