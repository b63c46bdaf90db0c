"""The keys of the signed checkpoints (``events.checkpoint``): each service signs with its own
Ed25519 key (``CHECKPOINT_SIGNING_KEY``); ``jejak audit verify`` checks with the public keys of
a keys file (``CHECKPOINT_PUBLIC_KEYS_FILE``).

The keys file is JSON: each service's public keys (PEM), current and retired, e.g.
``{"intake": ["-----BEGIN PUBLIC KEY-----\\n..."], ...}``. A key is named by its id, the first
16 hex digits of SHA-256 over its raw 32 bytes; a checkpoint names the key it was signed with,
so a retired key still checks the checkpoints it signed.

Development (and the tests) sign with a key derived from the service's name
(``development_key``): public knowledge, so production refuses it.
"""

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from events.checkpoint import Checkpoint
from events.topics import SERVICES

PublicKeys = Mapping[str, Mapping[str, Ed25519PublicKey]]
"""Each service's public keys by key id."""


class KeysFileError(ValueError):
    """The keys file does not read as the services' public keys; the message is Indonesian."""


def development_key(service: str) -> Ed25519PrivateKey:
    """The development signing key of ``service`` (derived from its name: never secret)."""
    seed = hashlib.sha256(f"jejak development checkpoint key: {service}".encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def private_key_from_pem(pem: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("CHECKPOINT_SIGNING_KEY bukan kunci privat Ed25519")
    return key


def public_pem(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def is_development_key(pem: str, service: str) -> bool:
    """Whether ``pem`` is the development key of ``service`` or of any service."""
    try:
        given = key_id(private_key_from_pem(pem).public_key())
    except ValueError:
        return False
    return any(given == key_id(development_key(s).public_key()) for s in {*SERVICES, service})


class Signer:
    """Signs a service's checkpoints with its key."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.key_id = key_id(key.public_key())

    def sign(self, unsigned: Checkpoint) -> Checkpoint:
        """``unsigned`` (its ``key_id`` this signer's) with its signature."""
        named = unsigned.model_copy(update={"key_id": self.key_id, "signature": ""})
        return named.model_copy(update={"signature": self._key.sign(named.signed_bytes()).hex()})


def signature_valid(checkpoint: Checkpoint, keys: Mapping[str, Ed25519PublicKey]) -> bool:
    """Whether ``checkpoint`` is signed by the key it names, one of ``keys``."""
    key = keys.get(checkpoint.key_id)
    if key is None:
        return False
    try:
        key.verify(bytes.fromhex(checkpoint.signature), checkpoint.signed_bytes())
    except (InvalidSignature, ValueError):
        return False
    return True


def development_public_keys(services: list[str]) -> dict[str, dict[str, Ed25519PublicKey]]:
    keys = (development_key(s).public_key() for s in services)
    return {s: {key_id(k): k} for s, k in zip(services, keys, strict=True)}


def public_keys_from_file(path: Path) -> dict[str, dict[str, Ed25519PublicKey]]:
    """The keys file's public keys (``KeysFileError`` naming what is wrong, in Indonesian)."""
    try:
        body = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise KeysFileError(f"berkas kunci {path} tidak terbaca sebagai JSON: {error}") from None
    if not isinstance(body, dict):
        raise KeysFileError(f"berkas kunci {path}: harus objek JSON layanan -> daftar PEM")
    keys: dict[str, dict[str, Ed25519PublicKey]] = {}
    for service, pems in body.items():
        if not isinstance(pems, list):
            raise KeysFileError(f"berkas kunci {path}: {service} harus daftar PEM")
        keys[service] = {}
        for n, pem in enumerate(pems):
            try:
                key = serialization.load_pem_public_key(str(pem).encode())
            except ValueError:
                key = None
            if not isinstance(key, Ed25519PublicKey):
                raise KeysFileError(
                    f"berkas kunci {path}: kunci ke-{n + 1} milik {service} bukan kunci publik "
                    "Ed25519 (PEM)"
                )
            keys[service][key_id(key)] = key
    return keys
