"""Start-up steps that wait for a dependency: each is tried until PostgreSQL or Kafka answers,
with exponential backoff and one log line per failed try (never a stack trace), so a service
started before its servers comes up once they do."""

from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential

from infra.db import DATABASE_UNAVAILABLE

T = TypeVar("T")

log = structlog.get_logger()

FIRST_WAIT_SECONDS = 0.25


def database_unavailable(error: BaseException) -> bool:
    return isinstance(error, DATABASE_UNAVAILABLE)


def _describe(error: BaseException | None) -> str:
    kind, text = type(error).__name__, str(error)
    return text if text.startswith(kind) else f"{kind}: {text}"


def _log_wait(dependency: str) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "waiting for dependency",
            dependency=dependency,
            attempt=state.attempt_number,
            retry_in=round(state.upcoming_sleep, 2),
            error=_describe(error),
        )

    return before_sleep


async def until_available(
    dependency: str,
    step: Callable[[], Awaitable[T]],
    unavailable: Callable[[BaseException], bool],
    max_wait: float,
) -> T:
    """``step()``'s result, trying again for as long as it fails with an error that
    ``unavailable`` says is the dependency being away; any other error is raised at once."""
    retrying = AsyncRetrying(
        retry=retry_if_exception(unavailable),
        wait=wait_exponential(multiplier=FIRST_WAIT_SECONDS, max=max_wait),
        before_sleep=_log_wait(dependency),
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            result = await step()
    if attempt.retry_state.attempt_number > 1:
        log.info("dependency available", dependency=dependency)
    return result
