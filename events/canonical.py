"""Canonical JSON and the hash chain: the bytes an inspector can recompute years later."""

import hashlib
import json
from typing import Any

from events.envelope import Envelope

HASHED_FIELDS_EXCLUDED = frozenset({"hash"})


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no insignificant whitespace, UTF-8, no NaN. ``value`` must be JSON-ready."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def hashed_content(envelope: Envelope) -> dict[str, Any]:
    """The envelope as JSON, without the hash it is about to get."""
    return envelope.model_dump(mode="json", exclude=set(HASHED_FIELDS_EXCLUDED))


def chain_hash(prev_hash: str, content: dict[str, Any]) -> str:
    """SHA-256 (hex) of ``prev_hash`` followed by the canonical JSON of ``content``."""
    return hashlib.sha256(prev_hash.encode() + canonical_json(content)).hexdigest()


def expected_hash(envelope: Envelope) -> str:
    return chain_hash(envelope.prev_hash, hashed_content(envelope))
