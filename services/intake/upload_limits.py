"""The limits of uploads (issue 17, item 8): how many may be in progress at once, and how much
one user may upload in any 24 hours. Pure: the caller counts, these rules decide."""

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from infra.errors import DomainError

QUOTA_WINDOW = dt.timedelta(hours=24)
"""The quotas count the uploads of the last 24 hours (a sliding window, not a calendar day)."""
BUSY_RETRY_SECONDS = 5
"""What a refusal for too many uploads at once asks the client to wait."""


class TooManyUploads(DomainError):
    """An upload over a limit: 429, naming the limit, with Retry-After."""

    status = 429

    def __init__(self, message: str, limit: str, retry_after: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.retry_after = max(1, retry_after)

    def detail(self) -> dict[str, object]:
        return {"message": self.message, "limit": self.limit, "retry_after": self.retry_after}

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


@dataclass
class UploadSlots:
    """Uploads in progress in this process: at most ``per_user`` of one user and ``total`` in
    all (each holds its body in memory until it is stored)."""

    per_user: int
    total: int
    _held: Counter[str] = field(default_factory=Counter)

    @contextmanager
    def hold(self, user_id: str) -> Iterator[None]:
        """One slot for ``user_id``'s upload while the block runs, or ``TooManyUploads``."""
        if self._held.total() >= self.total:
            raise TooManyUploads(
                "Terlalu banyak unggahan sedang berjalan di server; coba lagi sebentar lagi.",
                "uploads_at_once",
                BUSY_RETRY_SECONDS,
            )
        if self._held[user_id] >= self.per_user:
            raise TooManyUploads(
                f"Anda sudah mengunggah {self.per_user} berkas bersamaan (batasnya); tunggu "
                "sampai unggahan itu selesai, lalu coba lagi.",
                "uploads_at_once_per_user",
                BUSY_RETRY_SECONDS,
            )
        self._held[user_id] += 1
        try:
            yield
        finally:
            self._held[user_id] -= 1
            if not self._held[user_id]:
                del self._held[user_id]


@dataclass(frozen=True)
class Usage:
    """What one user uploaded in the window: how many, how many bytes, and when the oldest of
    them (which leaves the window first)."""

    files: int
    size_bytes: int
    oldest: dt.datetime | None


@dataclass(frozen=True)
class DailyQuota:
    files: int
    size_bytes: int

    def check(self, used: Usage, size_bytes: int, now: dt.datetime) -> None:
        """Refuse an upload of ``size_bytes`` that would take ``used`` over the quota."""
        wait = (used.oldest + QUOTA_WINDOW - now) if used.oldest else QUOTA_WINDOW
        retry_after = math.ceil(wait.total_seconds())
        later = f"coba lagi dalam {math.ceil(retry_after / 60)} menit"
        if used.files + 1 > self.files:
            raise TooManyUploads(
                f"Kuota unggahan harian habis: paling banyak {self.files} berkas dalam 24 jam; "
                f"{later}.",
                "upload_files_per_day",
                retry_after,
            )
        if used.size_bytes + size_bytes > self.size_bytes:
            left = max(0, self.size_bytes - used.size_bytes)
            raise TooManyUploads(
                f"Kuota unggahan harian habis: paling banyak {_mib(self.size_bytes)} dalam 24 "
                f"jam, sisa {_mib(left)}, berkas ini {_mib(size_bytes)}; {later}.",
                "upload_bytes_per_day",
                retry_after,
            )


def _mib(size_bytes: int) -> str:
    return f"{size_bytes / 2**20:.1f} MiB".replace(".", ",")
