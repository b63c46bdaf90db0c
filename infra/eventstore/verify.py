"""Walk a stream's hash chain and name the first broken link."""

from collections.abc import Iterable
from typing import NamedTuple

from events.canonical import expected_hash
from events.envelope import GENESIS_HASH, Envelope


class BrokenLink(NamedTuple):
    stream_id: str
    stream_version: int
    event_id: str
    reason: str


def verify_chain(envelopes: Iterable[Envelope]) -> BrokenLink | None:
    """None when every event of one stream (in version order) is intact and linked."""
    prev_hash = GENESIS_HASH
    for version, envelope in enumerate(envelopes, start=1):

        def broken(reason: str, env: Envelope = envelope) -> BrokenLink:
            return BrokenLink(env.stream_id, env.stream_version, str(env.event_id), reason)

        if envelope.stream_version != version:
            return broken(f"version {envelope.stream_version} where {version} was due")
        if envelope.prev_hash != prev_hash:
            return broken("prev_hash does not match the previous event's hash")
        if envelope.hash != expected_hash(envelope):
            return broken("content does not match its hash: the event was altered")
        prev_hash = envelope.hash
    return None
