"""Measured runs and their summary."""

import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Run:
    """``events`` events written (or relayed) by ``writers`` concurrent writers in ``seconds``."""

    label: str
    writers: int
    events: int
    seconds: float

    @property
    def rate(self) -> float:
        """Events per second."""
        return self.events / self.seconds if self.seconds > 0 else float("inf")


@dataclass(frozen=True)
class Figure:
    """Repeated runs of one kind: their median rate and range."""

    label: str
    writers: int
    runs: tuple[Run, ...]

    @property
    def rate(self) -> float:
        return statistics.median(run.rate for run in self.runs)

    @property
    def low(self) -> float:
        return min(run.rate for run in self.runs)

    @property
    def high(self) -> float:
        return max(run.rate for run in self.runs)


def figure(runs: list[Run]) -> Figure:
    return Figure(runs[0].label, runs[0].writers, tuple(runs))


def split(events: int, writers: int) -> list[int]:
    """``events`` shared out over ``writers`` as evenly as possible."""
    base, extra = divmod(events, writers)
    return [base + (1 if i < extra else 0) for i in range(writers)]
