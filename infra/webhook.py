"""Signed webhooks between Jejak and a tenant's e-office, in both directions (the contract:
``docs/eoffice-webhook.md``).

A delivery carries three headers:

- ``X-Jejak-Timestamp``: the sender's clock when it signed, in unix seconds;
- ``X-Jejak-Signature``: ``v2=<hex>``, the lower-case hex HMAC-SHA256 with the tenant's shared
  secret over the bytes ``f"{timestamp}\\n{path}\\n".encode() + raw_body``, where ``path`` is the
  full public path the delivery is posted to (``public_path``: the gateway's prefix included,
  e.g. ``/api/intake/eoffice/letters``; no query), so a signature made for one endpoint is no
  good at another; several comma-separated entries may be sent (one per secret while a secret is
  rotated) and one matching ``v2`` entry is enough. ``v1`` (no path) is retired: a header with
  only ``v1`` entries is refused as such;
- ``X-Jejak-Delivery`` (optional): the sender's id of this attempt, for logs and support.

The receiver checks, in this order: both headers are present and well formed; a ``v2`` signature
matches, with any of its secrets (the current one and those being rotated out,
``secrets_from``), in constant time; the timestamp is within ``max_skew_seconds`` of its own clock
either way; the signature was not accepted before. Seen signatures are kept (as the SHA-256 of
the signed message, so that the same delivery is a replay whichever of its entries matched) in
the service's PostgreSQL schema until their timestamp leaves the window, after which the timestamp
check alone refuses them. A signature is spent only by a delivery that was accepted, in the
transaction of its effect. A retry sends the same body signed with its own (current) timestamp.
Nothing of the body is parsed before it is authenticated.

Refusals: 401 (``code`` and the ``header`` at fault), 409 for a replayed signature, 413 for a
body over the limit.
"""

import datetime as dt
import hashlib
import hmac
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
import structlog
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from infra.db import Connection
from infra.errors import DomainError
from infra.limits import MAX_BODY_BYTES, BodyTooLarge
from infra.settings import ProductionConfigError, Settings

TIMESTAMP_HEADER = "X-Jejak-Timestamp"
SIGNATURE_HEADER = "X-Jejak-Signature"
DELIVERY_HEADER = "X-Jejak-Delivery"
SCHEME = "v2"
RETIRED_SCHEMES = frozenset({"v1"})
"""Schemes no longer accepted: ``v1`` signed ``timestamp + "." + body`` without the path."""

DEVELOPMENT_SECRET = "jejak-development-eoffice-secret-do-not-use-in-production"
"""The e-office secret when ``EOFFICE_SECRET`` is unset outside production (documented, public:
never accepted in production)."""

MIN_SECRET_LENGTH = 32
"""The shortest secret production accepts (characters)."""

MAX_PREVIOUS_SECRETS = 3
"""How many secrets being rotated out ``EOFFICE_PREVIOUS_SECRETS`` may hold (so that a signature
header with one entry per secret stays within its eight entries)."""

_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_HEX_SIGNATURE = re.compile(r"^[0-9a-f]{64}$")
_DELIVERY = re.compile(r"^[\x21-\x7e]{1,128}$")
_MAX_SIGNATURE_ENTRIES = 8
_MAX_SIGNATURE_HEADER = 1024  # room for the eight entries, with spaces

log = structlog.get_logger()


class WebhookRefused(DomainError):
    """The delivery is not authenticated: 401, with a ``code`` and the header at fault."""

    status = 401

    def __init__(self, message: str, code: str, header: str) -> None:
        super().__init__(message)
        self.code = code
        self.header = header

    def detail(self) -> dict[str, object]:
        return {"message": self.message, "code": self.code, "header": self.header}


class SignatureReplayed(WebhookRefused):
    """A signature already accepted once: 409. Sign every attempt afresh."""

    status = 409

    def __init__(self) -> None:
        super().__init__(
            f"{SIGNATURE_HEADER} ini sudah pernah diterima (replay ditolak); setiap pengiriman, "
            f"termasuk pengulangan, harus ditandatangani ulang dengan {TIMESTAMP_HEADER} baru.",
            code="signature_replayed",
            header=SIGNATURE_HEADER,
        )


class MissingSecret(ProductionConfigError):
    """Production without a proper ``EOFFICE_SECRET``: the service refuses to start."""


def _key(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def public_path(root_path: str, route: str) -> str:
    """The path a sender signs and a receiver checks: the gateway's prefix (``ROOT_PATH``, e.g.
    ``/api/intake``) and the route (``/eoffice/letters``), as the e-office posts to it."""
    return root_path.rstrip("/") + route


def signature(secret: str | bytes, timestamp: int | str, path: str, body: bytes) -> str:
    """The ``v2`` signature: lower-case hex HMAC-SHA256(secret,
    ``f"{timestamp}\\n{path}\\n"`` + body)."""
    message = f"{timestamp}\n{path}\n".encode() + body
    return hmac.new(_key(secret), message, hashlib.sha256).hexdigest()


def sign(
    secrets: str | bytes | Sequence[str | bytes],
    path: str,
    body: bytes,
    timestamp: int | None = None,
    delivery_id: str | None = None,
) -> dict[str, str]:
    """The headers that sign ``body`` for ``path`` now (or at ``timestamp``), one ``v2`` entry
    per secret: for senders and tests."""
    at = int(time.time()) if timestamp is None else timestamp
    keys = [secrets] if isinstance(secrets, str | bytes) else list(secrets)
    headers = {
        TIMESTAMP_HEADER: str(at),
        SIGNATURE_HEADER: ",".join(f"{SCHEME}={signature(k, at, path, body)}" for k in keys),
    }
    if delivery_id is not None:
        headers[DELIVERY_HEADER] = delivery_id
    return headers


@dataclass(frozen=True)
class Verified:
    """An authenticated delivery."""

    timestamp: int
    signature: str
    delivery_id: str | None
    body: bytes
    checked_at: float
    """The receiver's clock when it verified the delivery (unix seconds)."""
    max_skew_seconds: int
    path: str
    """The public path it was signed for and posted to."""
    current_secret: bool = True
    """Whether it was signed with the current secret, not only with one being rotated out."""

    @property
    def expires_at(self) -> dt.datetime:
        """When the timestamp leaves the window: the replay store may forget it then."""
        return dt.datetime.fromtimestamp(self.timestamp + self.max_skew_seconds, dt.UTC)

    @property
    def replay_key(self) -> str:
        """What the replay store keeps: SHA-256 of the signed message (timestamp, path, body).
        Not of the entry that matched: a delivery signed with two secrets (a rotation) sent
        again with one of its entries only is the same delivery, and a replay."""
        message = f"{self.timestamp}\n{self.path}\n".encode() + self.body
        return hashlib.sha256(message).hexdigest()


def _get(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    return value


def _signatures(header: str) -> list[str]:
    entries = [part.strip() for part in header.split(",")]
    if len(entries) > _MAX_SIGNATURE_ENTRIES or len(header) > _MAX_SIGNATURE_HEADER:
        raise WebhookRefused(
            f"{SIGNATURE_HEADER} memuat terlalu banyak tanda tangan.",
            code="signature_malformed",
            header=SIGNATURE_HEADER,
        )
    found, retired = [], False
    for entry in entries:
        scheme, sep, value = entry.partition("=")
        if sep and _HEX_SIGNATURE.match(value.strip()):
            if scheme.strip() == SCHEME:
                found.append(value.strip())
            retired = retired or scheme.strip() in RETIRED_SCHEMES
    if not found and retired:
        raise WebhookRefused(
            f"{SIGNATURE_HEADER} memakai skema v1 yang sudah tidak diterima; tandatangani dengan "
            f"'{SCHEME}=' atas '<{TIMESTAMP_HEADER}>\\n<path>\\n<isi mentah>' "
            "(docs/eoffice-webhook.md).",
            code="signature_scheme_retired",
            header=SIGNATURE_HEADER,
        )
    if not found:
        raise WebhookRefused(
            f"{SIGNATURE_HEADER} harus berbentuk '{SCHEME}=<64 digit hex huruf kecil>'.",
            code="signature_malformed",
            header=SIGNATURE_HEADER,
        )
    return found


def verify(
    secrets: Sequence[str | bytes],
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float,
    max_skew_seconds: int,
) -> Verified:
    """Authenticate a delivery posted to ``path`` (pure, no replay check): a ``Verified``, or
    ``WebhookRefused`` naming the header at fault."""
    raw_timestamp = _get(headers, TIMESTAMP_HEADER)
    if raw_timestamp is None:
        raise WebhookRefused(
            f"Header {TIMESTAMP_HEADER} (detik unix saat penandatanganan) wajib ada.",
            code="timestamp_missing",
            header=TIMESTAMP_HEADER,
        )
    if not _TIMESTAMP.match(raw_timestamp):
        raise WebhookRefused(
            f"Header {TIMESTAMP_HEADER} harus bilangan bulat detik unix, mis. 1718000000.",
            code="timestamp_malformed",
            header=TIMESTAMP_HEADER,
        )
    raw_signature = _get(headers, SIGNATURE_HEADER)
    if raw_signature is None:
        raise WebhookRefused(
            f"Header {SIGNATURE_HEADER} ('{SCHEME}=<hex HMAC-SHA256>') wajib ada.",
            code="signature_missing",
            header=SIGNATURE_HEADER,
        )
    offered = _signatures(raw_signature)
    delivery_id = _get(headers, DELIVERY_HEADER)
    if delivery_id is not None and not _DELIVERY.match(delivery_id):
        raise WebhookRefused(
            f"Header {DELIVERY_HEADER} harus 1-128 karakter ASCII tampak tanpa spasi.",
            code="delivery_malformed",
            header=DELIVERY_HEADER,
        )
    matched, current = None, False
    for n, secret in enumerate(secrets):
        expected = signature(secret, raw_timestamp, path, body)
        for candidate in offered:
            if hmac.compare_digest(expected, candidate):
                matched, current = candidate, current or n == 0
    if matched is None:
        raise WebhookRefused(
            f"{SIGNATURE_HEADER} tidak cocok: hitung HMAC-SHA256 dengan rahasia tenant atas "
            f"'<{TIMESTAMP_HEADER}>\\n{path}\\n<isi mentah>' persis seperti byte yang dikirim "
            "(path: alamat lengkap titik akhir ini, tanpa query).",
            code="signature_invalid",
            header=SIGNATURE_HEADER,
        )
    timestamp = int(raw_timestamp)
    skew = timestamp - now
    if abs(skew) > max_skew_seconds:
        direction = "lalu" if skew < 0 else "mendatang"
        raise WebhookRefused(
            f"{TIMESTAMP_HEADER} {timestamp} berselisih {abs(int(skew))} detik ({direction}) "
            f"dari jam server; paling banyak ±{max_skew_seconds} detik. Periksa jam (NTP) dan "
            "tandatangani ulang setiap pengiriman.",
            code="timestamp_out_of_window",
            header=TIMESTAMP_HEADER,
        )
    return Verified(timestamp, matched, delivery_id, body, now, max_skew_seconds, path, current)


@dataclass(frozen=True)
class SeenSignatures:
    """The signatures a service accepted, in ``{schema}.webhook_signatures`` (see the service's
    migration), kept until their timestamp leaves the window.

    A signature is spent in the transaction of the effect it authorised, so only a delivery that
    was accepted (2xx) spends it: a refused one (422, 409 of the domain, 425 "try again") may be
    sent again as it was, and an identical delivery that races an accepted one waits for it and
    is then refused as a replay."""

    schema: str

    async def spend(self, conn: Connection, verified: Verified) -> None:
        """Record ``verified``'s signature, in ``conn``'s transaction: ``SignatureReplayed`` if
        an accepted delivery already carried it."""
        fresh = await conn.fetchval(
            f"INSERT INTO {self.schema}.webhook_signatures "
            "(signature_sha256, signed_at, expires_at, delivery_id) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (signature_sha256) DO NOTHING RETURNING true",
            verified.replay_key,
            dt.datetime.fromtimestamp(verified.timestamp, dt.UTC),
            verified.expires_at,
            verified.delivery_id,
        )
        if not fresh:
            raise SignatureReplayed()

    async def recall(self, pool: asyncpg.Pool, verified: Verified) -> None:
        """``SignatureReplayed`` now if the signature was already spent (checked again, under
        the unique key, by ``spend``); also forgets the signatures whose window has passed,
        skipping rows another delivery holds."""
        async with pool.acquire() as conn:
            await conn.execute(
                f"DELETE FROM {self.schema}.webhook_signatures WHERE signature_sha256 IN ("
                f"SELECT signature_sha256 FROM {self.schema}.webhook_signatures "
                "WHERE expires_at < $1 LIMIT 1000 FOR UPDATE SKIP LOCKED)",
                dt.datetime.fromtimestamp(verified.checked_at, dt.UTC),
            )
            seen = await conn.fetchval(
                f"SELECT true FROM {self.schema}.webhook_signatures WHERE signature_sha256 = $1",
                verified.replay_key,
            )
        if seen:
            raise SignatureReplayed()


def _checked(variable: str, secret: str) -> str:
    if secret == DEVELOPMENT_SECRET:
        raise MissingSecret(
            f"{variable} berisi rahasia pengembangan yang terbuka untuk umum; pasang rahasia asli."
        )
    if len(secret) < MIN_SECRET_LENGTH:
        raise MissingSecret(f"{variable} harus paling sedikit {MIN_SECRET_LENGTH} karakter.")
    return secret


def secrets_from(settings: Settings) -> tuple[str, ...]:
    """The tenant's e-office secrets, the current one first: ``EOFFICE_SECRET``, then those being
    rotated out (``EOFFICE_PREVIOUS_SECRETS``, comma-separated), each accepted inbound and signed
    with outbound. Outside production an unset ``EOFFICE_SECRET`` is the documented
    ``DEVELOPMENT_SECRET``. Production refuses to start without a proper current secret, or with
    a previous one that is too short, the development one, or more than
    ``MAX_PREVIOUS_SECRETS``."""
    configured = settings.eoffice_secret.get_secret_value() if settings.eoffice_secret else None
    raw = settings.eoffice_previous_secrets
    previous = [p.strip() for p in (raw.get_secret_value() if raw else "").split(",")]
    previous = [p for p in previous if p and p != configured]
    if len(previous) > MAX_PREVIOUS_SECRETS:
        raise MissingSecret(
            f"EOFFICE_PREVIOUS_SECRETS memuat {len(previous)} rahasia; paling banyak "
            f"{MAX_PREVIOUS_SECRETS}: hapus yang sudah tidak dipakai e-office."
        )
    if settings.environment != "production":
        return (configured or DEVELOPMENT_SECRET, *previous)
    if not configured:
        raise MissingSecret("EOFFICE_SECRET wajib diisi di produksi (ENVIRONMENT=production).")
    _checked("EOFFICE_SECRET", configured)
    return (configured, *(_checked("EOFFICE_PREVIOUS_SECRETS", p) for p in previous))


async def read_body(request: Request, limit_bytes: int = MAX_BODY_BYTES) -> bytes:
    """The raw body, refused (413) as soon as it is known to be over ``limit_bytes``."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit_bytes:
        raise BodyTooLarge(limit_bytes)
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit_bytes:
            raise BodyTooLarge(limit_bytes)
        parts.append(chunk)
    return b"".join(parts)


def signed_delivery(
    secrets: Sequence[str],
    path: str,
    pool: Callable[[], asyncpg.Pool],
    seen: Callable[[], SeenSignatures],
    max_skew_seconds: int,
    clock: Callable[[], float] = time.time,
) -> Callable[[Request], Awaitable[Verified]]:
    """A FastAPI dependency: the delivery, authenticated for ``path`` (its ``public_path``) with
    any of ``secrets``, its raw body inside, not seen before, or 401/409/413. The route parses
    the body itself with ``parse_body`` afterwards, so that nothing unauthenticated is parsed,
    and the use case spends the signature (``SeenSignatures.spend``) in the transaction of its
    effect."""

    async def delivery(request: Request) -> Verified:
        body = await read_body(request)
        now = clock()
        try:
            verified = verify(secrets, path, request.headers, body, now, max_skew_seconds)
            await seen().recall(pool(), verified)
        except WebhookRefused as refused:
            log.warning(
                "webhook refused",
                path=request.url.path,
                code=refused.code,
                delivery=request.headers.get(DELIVERY_HEADER, "")[:128],
            )
            raise
        if not verified.current_secret:
            log.info(
                "webhook signed with a previous secret only",
                path=request.url.path,
                delivery=verified.delivery_id,
            )
        return verified

    return delivery


M = TypeVar("M", bound=BaseModel)


def parse_body(model: type[M], body: bytes) -> M:
    """``body`` as ``model``, or the service's usual 422 naming ``body.<field>``."""
    try:
        return model.model_validate_json(body)
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        ) from None


def _inline(schema: Any, defs: Mapping[str, Any]) -> Any:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline(item, defs) for item in schema]
    return schema


def request_body_doc(model: type[BaseModel], description: str) -> dict[str, Any]:
    """``openapi_extra`` documenting a JSON body that the route parses itself (``parse_body``),
    with the model's schema inlined (it has no recursive parts), plus the signature headers."""
    schema = model.model_json_schema()
    inlined = _inline(schema, schema.get("$defs", {}))
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": inlined}},
        },
        "parameters": [
            {
                "in": "header",
                "required": True,
                "name": TIMESTAMP_HEADER,
                "schema": {"type": "string", "pattern": _TIMESTAMP.pattern, "maxLength": 12},
                "description": "Unix seconds when signed; within the allowed skew of server time",
            },
            {
                "in": "header",
                "required": True,
                "name": SIGNATURE_HEADER,
                "schema": {"type": "string", "maxLength": _MAX_SIGNATURE_HEADER},
                "description": "v2=<hex HMAC-SHA256(secret, f'{timestamp}\\n{path}\\n{raw body}')>"
                ", path the full public path (docs/eoffice-webhook.md); one entry per secret",
            },
            {
                "in": "header",
                "required": False,
                "name": DELIVERY_HEADER,
                "schema": {"type": "string", "pattern": _DELIVERY.pattern, "maxLength": 128},
                "description": "The sender's id of this attempt",
            },
        ],
    }
