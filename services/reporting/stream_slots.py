"""How many notification streams each user holds open in this process, with a cap: one user
cannot take every connection of reporting's pool by opening streams."""

from collections import Counter
from dataclasses import dataclass, field

from infra.errors import DomainError


class TooManyStreams(DomainError):
    """The user already holds the most streams allowed: 429."""

    status = 429


@dataclass
class Slot:
    """One open stream's place; ``release`` gives it back (once, however often it is called)."""

    slots: "StreamSlots"
    user_id: str
    released: bool = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.slots.give_back(self.user_id)


@dataclass
class StreamSlots:
    per_user: int
    _open: Counter[str] = field(default_factory=Counter)

    def take(self, user_id: str) -> Slot:
        """A slot for one more stream of ``user_id`` (``TooManyStreams`` above the cap)."""
        if self._open[user_id] >= self.per_user:
            raise TooManyStreams(
                f"Terlalu banyak aliran notifikasi terbuka untuk akun Anda (paling banyak "
                f"{self.per_user}). Tutup tab Jejak yang lain, lalu coba lagi."
            )
        self._open[user_id] += 1
        return Slot(self, user_id)

    def give_back(self, user_id: str) -> None:
        self._open[user_id] -= 1
        if self._open[user_id] <= 0:
            del self._open[user_id]

    def held(self, user_id: str) -> int:
        return self._open[user_id]
