"""The retry schedule of a delivery: exponential backoff with jitter, and a budget. Pure.

After failed attempt ``n`` (1, 2, ...) the next waits ``min(max, initial * 2**(n-1) + U(0,
initial))`` seconds: tenacity's ``wait_exponential_jitter``, the strategy Google Cloud documents
for its own retries. After ``budget`` failed attempts the delivery is parked.
"""

from dataclasses import dataclass, field

from tenacity import RetryCallState, Retrying, wait_exponential_jitter


@dataclass(frozen=True)
class RetryPolicy:
    budget: int
    """Attempts before a delivery is parked (at least 1)."""
    initial_seconds: float
    max_seconds: float
    _wait: wait_exponential_jitter = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.budget < 1 or self.initial_seconds <= 0 or self.max_seconds < self.initial_seconds:
            raise ValueError(f"not a retry policy: {self}")
        strategy = wait_exponential_jitter(
            multiplier=self.initial_seconds, max=self.max_seconds, jitter=self.initial_seconds
        )
        object.__setattr__(self, "_wait", strategy)

    def wait_after(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based) before the next."""
        if attempt < 1:
            raise ValueError("attempts are numbered from 1")
        state = RetryCallState(Retrying(), None, (), {})
        state.attempt_number = attempt
        return float(self._wait(state))

    def bounds(self, attempt: int) -> tuple[float, float]:
        """The least and the most ``wait_after(attempt)`` can be."""
        base = self.initial_seconds * 2.0 ** min(attempt - 1, 1000)
        return min(base, self.max_seconds), min(base + self.initial_seconds, self.max_seconds)

    def exhausted(self, attempts: int) -> bool:
        """True once ``attempts`` failed attempts use up the budget: the delivery is parked."""
        return attempts >= self.budget
