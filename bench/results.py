"""One measured run."""

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


def split(events: int, writers: int) -> list[int]:
    """``events`` shared out over ``writers`` as evenly as possible."""
    base, extra = divmod(events, writers)
    return [base + (1 if i < extra else 0) for i in range(writers)]
