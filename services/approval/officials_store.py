"""identity's role grants and delegations as approval keeps them (``officials``): recorded from
``jejak.identity.events`` in the consumer's transaction, and read back for one user when the
e-office names it as the official of a disposition."""

from dataclasses import dataclass
from datetime import datetime

from events.catalog import default_registry
from events.envelope import Envelope, Role
from events.identity import DelegationEnded, DelegationGranted, RoleGranted, RoleRevoked
from infra.db import Connection
from infra.principal import Principal
from services.approval.officials import Delegation, RoleChange, acting_official

REGISTRY = default_registry()
RECORDED = frozenset(
    e.event_type() for e in (RoleGranted, RoleRevoked, DelegationGranted, DelegationEnded)
)
"""identity's events approval keeps (the others say nothing about who may dispose)."""


@dataclass(frozen=True)
class Officials:
    schema: str

    async def record(self, conn: Connection, envelope: Envelope) -> None:
        """Keep ``envelope`` if it is one of ``RECORDED`` (idempotent: the consumer records each
        event once, and a repeat changes nothing)."""
        if envelope.event_type not in RECORDED:
            return
        event = REGISTRY.load(envelope.event_type, envelope.schema_version, envelope.payload)
        match event:
            case RoleGranted() | RoleRevoked():
                await conn.execute(
                    f"INSERT INTO {self.schema}.role_changes (event_id, tenant, user_id, role, "
                    "held, changed_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                    "ON CONFLICT (event_id) DO NOTHING",
                    envelope.event_id,
                    envelope.tenant,
                    event.user_id,
                    event.role,
                    isinstance(event, RoleGranted),
                    envelope.occurred_at,
                    envelope.stream_version,
                )
            case DelegationGranted():
                await conn.execute(
                    f"INSERT INTO {self.schema}.delegations (delegation_id, tenant, "
                    "delegate_user_id, role, granted) VALUES ($1, $2, $3, $4, $5) "
                    "ON CONFLICT (delegation_id) DO NOTHING",
                    event.delegation_id,
                    envelope.tenant,
                    event.delegate_user_id,
                    event.role,
                    envelope.payload,
                )
            case DelegationEnded():
                await conn.execute(
                    f"UPDATE {self.schema}.delegations SET ended_at = $2 "
                    "WHERE delegation_id = $1 AND tenant = $3",
                    event.delegation_id,
                    envelope.occurred_at,
                    envelope.tenant,
                )

    async def acting(
        self, conn: Connection, tenant: str, user_id: str, name: str, role: Role, at: datetime
    ) -> Principal | None:
        """``user_id`` as a principal that may act in ``role`` at ``at``
        (``officials.acting_official``), from what approval has recorded so far."""
        delegations = [
            Delegation(DelegationGranted.model_validate(r["granted"]), r["ended_at"])
            for r in await conn.fetch(
                f"SELECT granted, ended_at FROM {self.schema}.delegations "
                "WHERE tenant = $1 AND delegate_user_id = $2 AND role = $3",
                tenant,
                user_id,
                role,
            )
        ]
        users = [user_id, *(d.granted.official_user_id for d in delegations)]
        changes = [
            RoleChange(**dict(r))
            for r in await conn.fetch(
                f"SELECT user_id, role, held, changed_at, version FROM {self.schema}.role_changes "
                "WHERE tenant = $1 AND user_id = ANY($2::text[]) AND role = $3",
                tenant,
                users,
                role,
            )
        ]
        return acting_official(user_id, name, role, at, changes, delegations)
