"""Content-addressed uploads: the bytes are stored once under their SHA-256, with their size and
media type, and who uploaded them.

Who may read an attachment: the roles that see every request, whoever uploaded the bytes, and a
requester of an OPD one of whose requests references them. Who may reference one in a submit or a
revision: whoever uploaded it, or a requester of an OPD whose request already references it. Knowing
a digest grants nothing, and an attachment one may not read is answered as not found, so that
nobody learns whether somebody else stored a given file.
"""

import hashlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

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


async def read_limited(
    chunks: AsyncIterator[bytes], declared_length: str | None, limit_bytes: int
) -> bytes:
    """The whole body, refused as soon as it is known to be over ``limit_bytes``."""
    declared = int(declared_length) if declared_length and declared_length.isdigit() else 0
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

    def _visible(self, sees_all: str, user: str, opd: str) -> str:
        s = self.schema
        return (
            f"({sees_all} OR EXISTS (SELECT 1 FROM {s}.attachment_uploads u "
            f"WHERE u.sha256 = a.sha256 AND u.user_id = {user}) "
            f"OR EXISTS (SELECT 1 FROM {s}.request_attachments ra "
            f"JOIN {s}.requests r USING (request_id) WHERE ra.sha256 = a.sha256 AND r.opd = {opd}))"
        )

    async def put(
        self, conn: Connection, user_id: str, content: bytes, content_type: str
    ) -> tuple[bool, dict[str, Any]]:
        """Store the bytes (once) and note the uploader; ``(created now, description)``."""
        described = describe(content, content_type)
        created = await conn.fetchval(
            f"INSERT INTO {self.schema}.attachments (sha256, size_bytes, media_type, content) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING RETURNING true",
            described["sha256"],
            described["size_bytes"],
            described["media_type"],
            content,
        )
        await conn.execute(
            f"INSERT INTO {self.schema}.attachment_uploads (sha256, user_id) VALUES ($1, $2) "
            "ON CONFLICT DO NOTHING",
            described["sha256"],
            user_id,
        )
        row = await conn.fetchrow(
            f"SELECT sha256, size_bytes, media_type FROM {self.schema}.attachments "
            "WHERE sha256 = $1",
            described["sha256"],
        )
        assert row is not None
        return bool(created), dict(row)

    async def read(
        self, conn: Connection, sha256: str, sees_all: bool, user_id: str, opd: str | None
    ) -> tuple[bytes, str]:
        row = await conn.fetchrow(
            f"SELECT content, media_type FROM {self.schema}.attachments a WHERE sha256 = $1 "
            f"AND {self._visible('$2', '$3', '$4')}",
            sha256,
            sees_all,
            user_id,
            opd,
        )
        if row is None:
            raise NotFound(f"Lampiran {sha256} tidak ditemukan.")
        return row["content"], row["media_type"]

    async def require_referable(
        self,
        conn: Connection,
        attachments: Sequence[Attachment] | None,
        user_id: str,
        opd: str | None,
    ) -> None:
        """Each attachment was uploaded as described and may be referenced by the caller."""
        if not attachments:
            return
        rows = await conn.fetch(
            f"SELECT sha256, size_bytes, media_type FROM {self.schema}.attachments a "
            f"WHERE sha256 = ANY($1::text[]) AND {self._visible('false', '$2', '$3')}",
            [a.sha256 for a in attachments],
            user_id,
            opd,
        )
        stored = {r["sha256"]: r for r in rows}
        for index, attachment in enumerate(attachments):
            row = stored.get(attachment.sha256)
            if row is None:
                raise InvalidInput(
                    f"Lampiran {attachment.filename} belum diunggah (POST /attachments).",
                    field=f"attachments.{index}.sha256",
                )
            for name in ("size_bytes", "media_type"):
                if row[name] != getattr(attachment, name):
                    raise InvalidInput(
                        f"Lampiran {attachment.filename}: {name} tidak sama dengan unggahannya "
                        f"({row[name]}).",
                        field=f"attachments.{index}.{name}",
                    )

    async def reference(
        self, conn: Connection, request_id: str, attachments: Sequence[Attachment]
    ) -> None:
        """Note that ``request_id`` references these attachments (who may read them)."""
        if attachments:
            await conn.execute(
                f"INSERT INTO {self.schema}.request_attachments (sha256, request_id) "
                "SELECT unnest($1::text[]), $2 ON CONFLICT DO NOTHING",
                [a.sha256 for a in attachments],
                request_id,
            )
