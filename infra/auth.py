"""Signed access tokens: identity signs with its Ed25519 private key; every other service
verifies locally with the public key, without a call back."""

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


class InvalidToken(Exception):
    """The token is missing, malformed, expired or not signed by identity."""


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


class TokenIssuer:
    def __init__(self, private_key_pem: str, ttl: timedelta = timedelta(hours=8)) -> None:
        self._key = private_key_pem
        self.ttl = ttl

    def issue(self, principal: Principal, now: datetime | None = None) -> str:
        now = now or datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": principal.user_id,
            "name": principal.name,
            "roles": sorted(principal.roles),
            "opd": principal.opd,
            "delegations": [d.model_dump() for d in principal.delegations],
            "iat": now,
            "exp": now + self.ttl,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)


class TokenVerifier:
    def __init__(self, public_key_pem: str) -> None:
        self._key = public_key_pem

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(str(error)) from None
        return Principal(
            user_id=claims["sub"],
            name=claims.get("name", ""),
            roles=frozenset(claims.get("roles", [])),
            opd=claims.get("opd"),
            delegations=tuple(OnBehalfOf(**d) for d in claims.get("delegations", [])),
        )
