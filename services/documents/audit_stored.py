"""The documents service's own record compared with the events: for each ``DocumentIssued`` on
Kafka, the live row (``documents``) must say it was issued with that number, date and hashes,
and the stored PDF (``document_files``, what a download serves) must have the SHA-256 the event
records. A file or a row replaced behind the service's back is named."""

from collections.abc import Iterable
from typing import Any

from events.documents import DocumentIssued
from infra.db import Connection

COMPARED = ("number", "number_source", "document_date", "final", "sha256", "unsigned_sha256")
"""The columns of a live row that must be what its ``DocumentIssued`` says."""


def differences(issued: DocumentIssued, row: Any | None) -> list[str]:
    """Why the live row (with ``file_sha256``, the stored PDF's) is not what ``issued`` says;
    empty if it is."""
    if row is None:
        return ["the service has no such document"]
    if row["state"] != "ISSUED":
        return [f"the service records it as {row['state']}"]
    found = [
        f"its stored {column} is {row[column]!r}, the event's {getattr(issued, column)!r}"
        for column in COMPARED
        if row[column] != getattr(issued, column)
    ]
    if row["file_sha256"] != issued.sha256:
        found.append(
            f"the stored PDF's sha256 is {row['file_sha256']}, the issued one's {issued.sha256}"
        )
    return found


async def compare_stored(
    conn: Connection, schema: str, documents: Iterable[DocumentIssued]
) -> dict[str, list[str]]:
    """The documents whose live row or file differ from their event, with why, by id."""
    wanted = {str(d.document_id): d for d in documents}
    if not wanted:
        return {}
    rows = await conn.fetch(
        f"SELECT d.document_id::text AS id, d.state, {', '.join(f'd.{c}' for c in COMPARED)}, "
        f"encode(sha256(f.pdf), 'hex') AS file_sha256 FROM {schema}.documents d "
        f"LEFT JOIN {schema}.document_files f USING (document_id) "
        "WHERE d.document_id = ANY($1::uuid[])",
        list(wanted),
    )
    live = {r["id"]: r for r in rows}
    found = {}
    for document_id, issued in wanted.items():
        if why := differences(issued, live.get(document_id)):
            found[document_id] = why
    return found
