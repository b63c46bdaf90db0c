"""Versioned SQL migrations, applied once each, in name order, under an advisory lock."""

from pathlib import Path

import asyncpg

CORE_SQL = Path(__file__).parent / "sql"


async def ensure_role(conn: asyncpg.Connection, role: str, password: str | None) -> None:
    """``role`` exists and logs in with ``password``. Without one, a new role cannot log in (a
    group role, granted to other roles) and an existing one is left as it is."""
    exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
    if exists and password is None:
        return
    verb = "ALTER" if exists else "CREATE"
    quoted = None if password is None else password.replace("'", "''")
    login = "NOLOGIN" if quoted is None else f"LOGIN PASSWORD '{quoted}'"
    await conn.execute(f'{verb} ROLE "{role}" {login}')


async def migrate(
    owner_url: str, schema: str, app_role: str, app_password: str, *extra_dirs: Path
) -> list[str]:
    """Create ``schema`` and ``app_role`` and apply the core and ``extra_dirs`` SQL files not
    yet applied. Returns the names applied now."""
    conn = await asyncpg.connect(owner_url)
    try:
        await conn.execute("SELECT pg_advisory_lock(hashtext('jejak.migrate'))")
        try:
            await ensure_role(conn, app_role, app_password)
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {schema}.schema_migrations "
                "(name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {
                r["name"] for r in await conn.fetch(f"SELECT name FROM {schema}.schema_migrations")
            }
            applied = []
            files = sorted(p for d in (CORE_SQL, *extra_dirs) for p in d.glob("*.sql"))
            for path in sorted(files, key=lambda p: p.name):
                if path.name in done:
                    continue
                sql = path.read_text().format(schema=schema, app_role=app_role)
                async with conn.transaction():
                    await conn.execute(sql)
                    await conn.execute(
                        f"INSERT INTO {schema}.schema_migrations (name) VALUES ($1)", path.name
                    )
                applied.append(path.name)
            await conn.execute(f'GRANT SELECT ON {schema}.schema_migrations TO "{app_role}"')
            return applied
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtext('jejak.migrate'))")
    finally:
        await conn.close()
