"""The inspectors' database role, ``jejak_auditor``: it reads what ``jejak audit verify`` and
``jejak audit documents`` compare (every service's event store, the documents' stored rows and
PDFs) and writes nothing. ``python -m infra.migrate_all`` makes it and grants it, after each
run, every table of ``AUDITED_TABLES``.

It logs in with ``AUDITOR_DB_PASSWORD``; made without one it is a group role (NOLOGIN) that
the operator grants to each inspector's own login role (``GRANT jejak_auditor TO siti``), so
each inspector's session is named in PostgreSQL's log (a run without the variable leaves an
existing role's login as it was). ``jejak audit replay`` is no auditor's tool:
it builds a fresh schema, which needs the owner."""

import asyncpg

from events.topics import SERVICES
from infra.migrations import ensure_role

AUDITOR_ROLE = "jejak_auditor"
AUDITED_TABLES: tuple[str, ...] = (
    *(f"{service}.events" for service in SERVICES),
    *(f"{service}.relay_position" for service in SERVICES),
    "documents.documents",
    "documents.document_files",
)
"""What the inspectors' commands read, ``schema.table``; nothing else (not identity's
password hashes, not the webhooks' replay stores)."""


async def grant_auditor(owner_url: str, password: str | None) -> None:
    """``jejak_auditor`` exists (logging in with ``password``, if given) and may SELECT every
    table of ``AUDITED_TABLES``, nothing more."""
    conn = await asyncpg.connect(owner_url)
    try:
        await ensure_role(conn, AUDITOR_ROLE, password)
        for schema in sorted({table.partition(".")[0] for table in AUDITED_TABLES}):
            await conn.execute(f'GRANT USAGE ON SCHEMA {schema} TO "{AUDITOR_ROLE}"')
        await conn.execute(f'GRANT SELECT ON {", ".join(AUDITED_TABLES)} TO "{AUDITOR_ROLE}"')
    finally:
        await conn.close()
