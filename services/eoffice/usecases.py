"""The admin's use cases over the delivery schedule."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from infra.db import Connection
from infra.idempotency import NO_KEY, Answer, IdempotencyKeys, Key
from infra.principal import Principal
from services.eoffice.delivery import DeliveryState
from services.eoffice.schedule import DeliverySchedule
from services.eoffice.views import DeliveryDetail, DeliveryList


@dataclass
class Deliveries:
    schedule: DeliverySchedule
    callback_configured: bool
    clock: Callable[[], dt.datetime]
    resent: Callable[[], None]
    """Called after a re-send commits (wakes the local worker)."""
    keys: IdempotencyKeys

    async def list(
        self, state: DeliveryState | None, request_id: str | None, limit: int, offset: int
    ) -> DeliveryList:
        items = await self.schedule.list(state, request_id, limit, offset)
        return DeliveryList(callback_configured=self.callback_configured, items=items)

    async def get(self, delivery_id: UUID) -> DeliveryDetail | None:
        return await self.schedule.get(delivery_id)

    async def resend(
        self, admin: Principal, delivery_id: UUID, note: str | None, key: Key = NO_KEY
    ) -> Answer:
        async def resend(conn: Connection) -> DeliveryDetail:
            actor = admin.acting_as("ADMIN")
            return await self.schedule.resend(conn, delivery_id, actor, note, self.clock())

        answer = await self.keys.once(self.schedule.pool, admin.user_id, key, note, resend)
        if not answer.replayed:
            self.resent()
        return answer
