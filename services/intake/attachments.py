"""Content-addressed uploads: the bytes are stored once under their SHA-256, with their size,
and who uploaded them with which media type.

A digest alone grants nothing (issue 17, item 4). Who may read an attachment: whoever uploaded
the bytes; the roles that see every request, once a request references them; and a requester of
an OPD one of whose requests references them *with proof*: a submit or revision may reference
only bytes that its caller uploaded, or that a request of the caller's OPD already references with
proof, and only such references are recorded (``reference``). An e-office letter's attachments are
metadata whose bytes intake never received: they are recorded in the request's events but grant
nobody anything, and a revision may keep them in its list without proving them (they still grant
nothing).

An attachment one may not read is answered as not found, and an upload is answered 201 with the
caller's own description whether or not the bytes were stored before, so that nobody learns
whether somebody else stored a given file.
"""

import hashlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from pydantic import ValidationError

from events.intake import Attachment
from infra.db import Connection
from infra.errors import DomainError, InvalidInput, NotFound
from services.intake.domain import MAX_ATTACHMENT_BYTES

MAX_UPLOAD_BYTES = MAX_ATTACHMENT_BYTES
"""The largest upload accepted (25 MiB): the domain's limit for one attachment, so that every
upload can be referenced."""


class UploadTooLarge(DomainError):
    """The upload is over the limit: 413, naming the limit."""

    status = 413

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(
            f"Lampiran melebihi batas {limit_bytes} byte ({limit_bytes / 2**20:g} MiB)."
        )
        self.limit_bytes = limit_bytes

    def detail(self) -> dict[str, object]:
        return {"message": self.message, "field": "body", "limit_bytes": self.limit_bytes}


def declared_size(declared_length: str | None) -> int:
    """The body's length as its Content-Length declares it, 0 if it declares none."""
    return int(declared_length) if declared_length and declared_length.isdigit() else 0


async def read_limited(
    chunks: AsyncIterator[bytes], declared_length: str | None, limit_bytes: int
) -> bytes:
    """The whole body, refused as soon as it is known to be over ``limit_bytes``."""
    declared = declared_size(declared_length)
    if declared > limit_bytes:
        raise UploadTooLarge(limit_bytes)
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit_bytes:
            raise UploadTooLarge(limit_bytes)
        parts.append(chunk)
    return b"".join(parts)


def describe(content: bytes, content_type: str) -> dict[str, Any]:
    """``{sha256, size_bytes, media_type}`` of an upload, or ``InvalidInput`` naming the part."""
    if not content:
        raise InvalidInput("Lampiran kosong.", field="body")
    media_type = content_type.split(";", 1)[0].strip().lower()
    digest = hashlib.sha256(content).hexdigest()
    try:
        Attachment(sha256=digest, size_bytes=len(content), media_type=media_type, filename="x")
    except ValidationError:
        raise InvalidInput(
            f"Content-Type {content_type!r} bukan media type yang sah (mis. application/pdf).",
            field="header.content-type",
        ) from None
    return {"sha256": digest, "size_bytes": len(content), "media_type": media_type}


@dataclass(frozen=True)
class Attachments:
    schema: str
    limit_bytes: int = MAX_UPLOAD_BYTES

    def _own_type(self, user: str) -> str:
        """The media type ``user`` uploaded ``a``'s bytes with, or NULL."""
        return (
            f"(SELECT u.media_type FROM {self.schema}.attachment_uploads u "
            f"WHERE u.sha256 = a.sha256 AND u.user_id = {user})"
        )

    def _granted(self, opd: str) -> str:
        """Whether a request of ``opd`` references ``a`` (every recorded reference is proven)."""
        s = self.schema
        return (
            f"EXISTS (SELECT 1 FROM {s}.request_attachments ra JOIN {s}.requests r "
            f"USING (request_id) WHERE ra.sha256 = a.sha256 AND r.opd = {opd})"
        )

    def _referenced(self) -> str:
        """Whether any request references ``a`` (an upload nobody referenced yet is its
        uploader's alone, even for the roles that see every request)."""
        return (
            f"EXISTS (SELECT 1 FROM {self.schema}.request_attachments ra "
            "WHERE ra.sha256 = a.sha256)"
        )

    async def put(
        self, conn: Connection, user_id: str, content: bytes, described: Mapping[str, Any]
    ) -> None:
        """Store the bytes (once) as ``described`` (``describe``), note the uploader and its
        media type, and move the bytes' last upload to now, under the row's lock: a concurrent
        orphan sweep either removed them before, and they are stored anew, or waits."""
        await conn.execute(
            f"INSERT INTO {self.schema}.attachments (sha256, size_bytes, media_type, content) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO UPDATE SET last_uploaded_at = now()",
            described["sha256"],
            described["size_bytes"],
            described["media_type"],
            content,
        )
        await conn.execute(
            f"INSERT INTO {self.schema}.attachment_uploads (sha256, user_id, media_type) "
            "VALUES ($1, $2, $3) ON CONFLICT (sha256, user_id) DO UPDATE SET "
            "uploaded_at = now(), media_type = EXCLUDED.media_type",
            described["sha256"],
            user_id,
            described["media_type"],
        )

    async def read(
        self, conn: Connection, sha256: str, sees_all: bool, user_id: str, opd: str | None
    ) -> tuple[bytes, str]:
        """The bytes and the media type to serve them with: the caller's own upload's, else the
        stored one if a request references them and the caller's role sees every request, or
        one of its OPD's does; else ``NotFound``."""
        row = await conn.fetchrow(
            f"SELECT a.content, coalesce({self._own_type('$3')}, CASE WHEN ($2 AND "
            f"{self._referenced()}) OR {self._granted('$4')} THEN a.media_type END) AS media_type "
            f"FROM {self.schema}.attachments a WHERE a.sha256 = $1",
            sha256,
            sees_all,
            user_id,
            opd,
        )
        if row is None or row["media_type"] is None:
            raise NotFound(f"Lampiran {sha256} tidak ditemukan.")
        return row["content"], row["media_type"]

    async def require_referable(
        self,
        conn: Connection,
        attachments: Sequence[Attachment] | None,
        user_id: str,
        opd: str | None,
        kept: Sequence[Attachment] = (),
    ) -> list[Attachment]:
        """Check that the caller may reference each attachment, as uploaded; the ones it proved
        (all but those in ``kept``, the request's current ones, which a revision may keep as
        they are). The proven ones are locked (``FOR KEY SHARE``) until the transaction ends,
        so that no orphan sweep removes them before they are referenced."""
        unchanged = {_identity(a) for a in kept}
        proving = [(i, a) for i, a in enumerate(attachments or ()) if _identity(a) not in unchanged]
        if not proving:
            return []
        rows = await conn.fetch(
            f"SELECT a.sha256, a.size_bytes, a.media_type, {self._own_type('$2')} AS own_type, "
            f"{self._granted('$3')} AS granted FROM {self.schema}.attachments a "
            "WHERE a.sha256 = ANY($1::text[]) FOR KEY SHARE OF a",
            [a.sha256 for _, a in proving],
            user_id,
            opd,
        )
        stored = {r["sha256"]: r for r in rows}
        for index, attachment in proving:
            _check_referable(index, attachment, stored.get(attachment.sha256))
        return [a for _, a in proving]

    async def reference(
        self, conn: Connection, request_id: str, attachments: Sequence[Attachment]
    ) -> None:
        """Note that ``request_id`` references these attachments, which its submitter proved
        (``require_referable``): its OPD may read them from now on."""
        if attachments:
            await conn.execute(
                f"INSERT INTO {self.schema}.request_attachments (sha256, request_id) "
                "SELECT unnest($1::text[]), $2 ON CONFLICT DO NOTHING",
                [a.sha256 for a in attachments],
                request_id,
            )


def _identity(attachment: Attachment) -> tuple[str, int, str]:
    return attachment.sha256, attachment.size_bytes, attachment.media_type


def _check_referable(index: int, attachment: Attachment, row: asyncpg.Record | None) -> None:
    """Refuse ``attachment`` (at ``index`` of the list) unless the caller uploaded its bytes or
    its OPD was granted them, with its size and one of the media types the caller knows."""
    types = set()
    if row is not None and row["own_type"] is not None:
        types.add(row["own_type"])
    if row is not None and row["granted"]:
        types.add(row["media_type"])
    if row is None or not types:
        raise InvalidInput(
            f"Lampiran {attachment.filename} belum diunggah (POST /attachments).",
            field=f"attachments.{index}.sha256",
        )
    if row["size_bytes"] != attachment.size_bytes:
        raise InvalidInput(
            f"Lampiran {attachment.filename}: size_bytes tidak sama dengan unggahannya "
            f"({row['size_bytes']}).",
            field=f"attachments.{index}.size_bytes",
        )
    if attachment.media_type not in types:
        raise InvalidInput(
            f"Lampiran {attachment.filename}: media_type tidak sama dengan unggahannya "
            f"({', '.join(sorted(types))}).",
            field=f"attachments.{index}.media_type",
        )
