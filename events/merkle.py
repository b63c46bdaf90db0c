"""The Merkle root a checkpoint signs over the heads of a service's streams.

The tree is RFC 9162's (section 2.1.1, the Merkle Tree Hash of Certificate Transparency, as in
RFC 6962), so any implementation of it recomputes the root:

* the leaves are the streams' heads sorted by stream id (by Unicode code point, which is the
  order of their UTF-8 bytes);
* a head's leaf data is the canonical JSON (``events.canonical``) of ``[stream_id, version,
  hash]``, e.g. ``["r-1",3,"9f2c...e1"]``;
* a leaf's hash is SHA-256(0x00 || leaf data); a node's is SHA-256(0x01 || left || right);
* the root of n > 1 leaves is the node of the root of the first k and the root of the rest, k
  being the largest power of two below n; of one leaf, its leaf hash; of none, SHA-256 of
  nothing. The root is written as 64 lower-case hex digits.

Pairing each level's nodes left to right and carrying an odd last node up unchanged builds the
same tree, which is how ``merkle_root`` computes it.
"""

import bisect
import hashlib
from collections.abc import Mapping, Sequence

from events.canonical import canonical_json

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"

Heads = Mapping[str, tuple[int, str]]
"""Each stream's head: stream id -> (version, hash)."""


def head_leaf(stream_id: str, version: int, hash_: str) -> bytes:
    """A head's leaf data."""
    return canonical_json([stream_id, version, hash_])


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def merkle_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The root of the leaves whose hashes are given, in their order."""
    if not leaf_hashes:
        return hashlib.sha256(b"").digest()
    level = list(leaf_hashes)
    sha256 = hashlib.sha256
    while len(level) > 1:
        paired = [
            sha256(NODE_PREFIX + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def heads_root(heads: Heads) -> str:
    """The root over ``heads`` (sorted by stream id), as hex."""
    leaves = [leaf_hash(head_leaf(s, *heads[s])) for s in sorted(heads)]
    return merkle_root(leaves).hex()


class HeadSet:
    """Every stream's head with its leaf hash kept, and the stream ids kept sorted, so that a
    root after a few changes costs one hash per node, not the leaves again."""

    def __init__(self, heads: Heads | None = None) -> None:
        self.heads: dict[str, tuple[int, str]] = dict(heads or {})
        self.events = sum(version for version, _ in self.heads.values())
        self._leaves = {s: leaf_hash(head_leaf(s, *h)) for s, h in self.heads.items()}
        self._order = sorted(self.heads)

    def set(self, stream_id: str, version: int, hash_: str) -> None:
        before = self.heads.get(stream_id)
        if before is None:
            bisect.insort(self._order, stream_id)
        self.events += version - (before[0] if before else 0)
        self.heads[stream_id] = (version, hash_)
        self._leaves[stream_id] = leaf_hash(head_leaf(stream_id, version, hash_))

    def root(self) -> str:
        return merkle_root([self._leaves[s] for s in self._order]).hex()
