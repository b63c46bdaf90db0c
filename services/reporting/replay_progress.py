"""What the audit replay reports as it goes (to the command's progress bar)."""

from collections.abc import Callable

Progress = Callable[[str, int], None]
"""``("total", n)`` once, then ``("read", n)`` and ``("projected", n)`` as records are done;
``("tables", n)`` once the comparison starts, then ``("compared", 1)`` per table."""


def quiet(kind: str, count: int) -> None:
    """A ``Progress`` that tells nobody."""
    return None
