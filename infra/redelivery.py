"""The pause before a consumer lets a record that failed transiently be delivered again."""

import asyncio
from dataclasses import dataclass
from typing import Any

import structlog

log = structlog.get_logger()

FIRST_PAUSE_SECONDS = 0.5
LONGEST_PAUSE_SECONDS = 10.0


@dataclass
class RedeliveryPause:
    """One consumer's run of transient failures (a record or a batch that outlasted its
    retries, e.g. while the database is down) and the pause before each redelivery: ``first``
    seconds after the first failure, doubling up to ``longest``.

    Without it, a consumer whose database is down goes through its retries and a redelivery
    several times a second, logging a warning each time, for as long as the outage lasts; with
    it, once every ``longest`` seconds. The first success ends the run and says so in the log.
    """

    first: float = FIRST_PAUSE_SECONDS
    longest: float = LONGEST_PAUSE_SECONDS
    failures: int = 0

    def next_pause(self) -> float:
        """The pause after the failure that makes ``failures``."""
        return min(self.longest, self.first * 2.0 ** min(self.failures - 1, 32))

    async def after_failure(self, message: str, **context: Any) -> None:
        """Log the failure (``message``, with ``context``) and wait before the redelivery."""
        self.failures += 1
        pause = self.next_pause()
        log.warning(message, failures=self.failures, pause_seconds=pause, **context)
        await asyncio.sleep(pause)

    def after_success(self) -> None:
        """The consumer got through to the database again: the next failure starts afresh."""
        if self.failures:
            log.info("transient failures over", failures=self.failures)
            self.failures = 0
