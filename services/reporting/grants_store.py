"""identity's grants as reporting keeps them for the notification stream (``grants``): the
projection of RoleGranted, RoleRevoked, DelegationGranted and DelegationEnded, in the consumer's
transaction, and what a stream's caller still holds."""

from collections.abc import Iterable
from datetime import datetime

from events.catalog import default_registry
from events.envelope import Envelope
from events.identity import DelegationEnded, DelegationGranted, RoleGranted, RoleRevoked
from infra.auth import Bearer
from infra.db import Connection
from infra.principal import Principal
from services.reporting.grants import Delegation, RoleChange, still_held

REGISTRY = default_registry()
PROJECTED = frozenset(
    e.event_type() for e in (RoleGranted, RoleRevoked, DelegationGranted, DelegationEnded)
)
"""identity's events this projection follows (the others change nothing a stream serves)."""


async def project_grants(conn: Connection, schema: str, envelopes: Iterable[Envelope]) -> None:
    """Keep what ``envelopes`` (any service's; only ``PROJECTED`` ones count) grant or take
    away. Idempotent, and an older change never overwrites a newer one."""
    for envelope in envelopes:
        if envelope.event_type not in PROJECTED:
            continue
        event = REGISTRY.load(envelope.event_type, envelope.schema_version, envelope.payload)
        at = envelope.occurred_at
        match event:
            case RoleGranted() | RoleRevoked():
                await conn.execute(
                    f"INSERT INTO {schema}.role_changes AS c (user_id, role, held, changed_at, "
                    "version) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, role) DO UPDATE "
                    "SET held = $3, changed_at = $4, version = $5 WHERE c.version < $5",
                    event.user_id,
                    event.role,
                    isinstance(event, RoleGranted),
                    at,
                    envelope.stream_version,
                )
            case DelegationGranted():
                await conn.execute(
                    f"INSERT INTO {schema}.delegations (delegation_id, delegate_user_id, "
                    "official_user_id, role, kind, valid_from, valid_until) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (delegation_id) DO NOTHING",
                    event.delegation_id,
                    event.delegate_user_id,
                    event.official_user_id,
                    event.role,
                    event.kind,
                    event.valid_from,
                    event.valid_until,
                )
            case DelegationEnded():
                await conn.execute(
                    f"UPDATE {schema}.delegations SET ended_at = $2 WHERE delegation_id = $1",
                    event.delegation_id,
                    at,
                )


async def held_now(conn: Connection, schema: str, token: Bearer, now: datetime) -> Principal:
    """What ``token``'s principal still holds at ``now`` (``grants.still_held``)."""
    user_id = token.principal.user_id
    roles = await conn.fetch(
        f"SELECT role, held, changed_at FROM {schema}.role_changes WHERE user_id = $1", user_id
    )
    delegations = await conn.fetch(
        f"SELECT official_user_id, role, kind, valid_from, valid_until, ended_at "
        f"FROM {schema}.delegations WHERE delegate_user_id = $1",
        user_id,
    )
    return still_held(
        token.principal,
        token.issued_at,
        [RoleChange(**dict(r)) for r in roles],
        [Delegation(**dict(r)) for r in delegations],
        now,
    )
