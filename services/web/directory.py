"""Who works here (names, OPDs, roles), for the pages that name people or let one pick them:
read from identity's ``/colleagues`` at most once per ``ttl_seconds`` and shared by every
signed-in user (identity shows every one of them the same list). A user added or renamed
appears on the pages within that time."""

import time
from dataclasses import dataclass, field
from typing import Any

from services.web.backend import Backend

Colleagues = dict[str, dict[str, Any]]
"""user_id -> ``{user_id, full_name, opd, roles}``."""


@dataclass
class Directory:
    backend: Backend
    ttl_seconds: float = 30.0
    _read: tuple[float, Colleagues] | None = field(default=None, init=False)

    async def colleagues(self, token: str) -> Colleagues:
        """The list as identity gave it to ``token``'s user at most ``ttl_seconds`` ago."""
        now = time.monotonic()
        if self._read is None or now - self._read[0] > self.ttl_seconds:
            users = await self.backend.get(token, "identity", "/colleagues")
            self._read = (now, {u["user_id"]: u for u in users})
        return self._read[1]
