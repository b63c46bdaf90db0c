"""Signed access tokens: identity signs with its Ed25519 private key; every other service
verifies locally with the public key, without a call back."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from events.envelope import OnBehalfOf
from infra.principal import Principal

ALGORITHM = "EdDSA"
ISSUER = "jejak-identity"
ACCESS_TTL = timedelta(minutes=15)
"""An access token's life: a revoked role or an ended delegation stops working within it."""
ACCESS, REFRESH = "access", "refresh"
"""The ``token_use`` claim: only identity's ``token/refresh`` takes a refresh token."""


class InvalidToken(Exception):
    """The token is missing, malformed, expired or not signed by identity; its message says so
    in Indonesian (the 401's message)."""


NO_TOKEN = "Anda belum masuk: masuk lagi, lalu kirim token di header Authorization: Bearer."
EXPIRED = "Sesi Anda sudah berakhir: masuk lagi."
FORGED = "Token tidak sah (rusak atau bukan dari layanan identitas): masuk lagi."
NOT_YET_VALID = "Token belum berlaku: periksa jam perangkat Anda, lalu masuk lagi."


def generate_key_pair() -> tuple[str, str]:
    """(private PEM, public PEM) of a fresh Ed25519 key, for development and tests."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def development_keys(key_dir: Path) -> tuple[str, str]:
    """A key pair kept in ``key_dir`` (created on first use), for development and tests only."""
    private_file, public_file = key_dir / "jwt-private.pem", key_dir / "jwt-public.pem"
    if not private_file.exists():
        key_dir.mkdir(parents=True, exist_ok=True)
        private, public = generate_key_pair()
        private_file.write_text(private)
        private_file.chmod(0o600)
        public_file.write_text(public)
    return private_file.read_text(), public_file.read_text()


@dataclass(frozen=True)
class Bearer:
    """A verified access token: who it names, and when it was issued and expires."""

    principal: Principal
    issued_at: datetime
    expires_at: datetime


class TokenIssuer:
    def __init__(self, private_key_pem: str, ttl: timedelta = ACCESS_TTL) -> None:
        self._key = private_key_pem
        self.ttl = ttl

    def issue(
        self,
        principal: Principal,
        now: datetime | None = None,
        *,
        not_after: datetime | None = None,
        auth_time: datetime | None = None,
    ) -> str:
        """A token for ``principal``, valid for ``ttl`` from ``now`` but never past ``not_after``
        (e.g. the end of a delegation it carries). ``auth_time``, when given, is when the user
        last entered the password (kept across refreshes)."""
        now = now or datetime.now(UTC)
        expires = now + self.ttl if not_after is None else min(now + self.ttl, not_after)
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": principal.user_id,
            "name": principal.name,
            "roles": sorted(principal.roles),
            "opd": principal.opd,
            "delegations": [d.model_dump() for d in principal.delegations],
            "iat": now,
            "exp": expires,
        }
        if auth_time is not None:
            claims["auth_time"] = int(auth_time.timestamp())
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def issue_refresh(
        self, user_id: str, now: datetime, auth_time: datetime, until: datetime
    ) -> str:
        """A refresh token: names only the user and the session (no roles), good for nothing
        but ``token/refresh`` until ``until``."""
        claims = {
            "iss": ISSUER,
            "sub": user_id,
            "token_use": REFRESH,
            "auth_time": int(auth_time.timestamp()),
            "iat": now,
            "exp": until,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)


class TokenVerifier:
    """Checks identity's signature, the issuer and the times (``exp``, ``iat``).

    ``leeway`` tolerates clock skew between services; ``clock`` (default: the system clock) is
    the instant tokens are judged at, unless ``verify``/``claims`` are given ``now``."""

    def __init__(
        self,
        public_key_pem: str,
        *,
        leeway: timedelta = timedelta(0),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._key = public_key_pem
        self._leeway = leeway
        self._clock = clock

    def claims(
        self, token: str, now: datetime | None = None, uses: tuple[str, ...] = (ACCESS,)
    ) -> dict[str, Any]:
        """The verified claims of ``token`` (``InvalidToken`` if forged, expired or malformed,
        or not one of ``uses``: a refresh token is no access token)."""
        instant = now or (self._clock() if self._clock else None)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                leeway=self._leeway,
                options={
                    "require": ["exp", "iat", "sub", "iss"],
                    # judged below against ``instant`` instead of the system clock
                    "verify_exp": instant is None,
                    "verify_iat": instant is None,
                },
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken(EXPIRED) from None
        except jwt.PyJWTError:
            raise InvalidToken(FORGED) from None
        if instant is not None:
            at, leeway = instant.timestamp(), self._leeway.total_seconds()
            try:
                exp, iat = int(claims["exp"]), int(claims["iat"])
            except (TypeError, ValueError):
                raise InvalidToken(FORGED) from None
            if exp <= at - leeway:
                raise InvalidToken(EXPIRED)
            if iat > at + leeway:
                raise InvalidToken(NOT_YET_VALID)
        if claims.get("token_use", ACCESS) not in uses:
            raise InvalidToken(FORGED)
        return claims

    def bearer(self, token: str, now: datetime | None = None) -> Bearer:
        """The verified access token: its principal and its times."""
        claims = self.claims(token, now)
        return Bearer(
            self.principal(claims),
            datetime.fromtimestamp(int(claims["iat"]), UTC),
            datetime.fromtimestamp(int(claims["exp"]), UTC),
        )

    def verify(self, token: str, now: datetime | None = None) -> Principal:
        """The principal ``token`` names, judged valid at ``now`` (default: the clock)."""
        return self.principal(self.claims(token, now))

    @staticmethod
    def principal(claims: dict[str, Any]) -> Principal:
        """The principal verified ``claims`` name."""
        return Principal(
            user_id=claims["sub"],
            name=claims.get("name", ""),
            roles=frozenset(claims.get("roles", [])),
            opd=claims.get("opd"),
            delegations=tuple(OnBehalfOf(**d) for d in claims.get("delegations", [])),
        )
