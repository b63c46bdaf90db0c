"""The checkpoints' audit, pure: what ``jejak audit verify`` concludes from a service's signed
checkpoints (``events.checkpoint``), as found on its topic and in shipped checkpoint files, and
the heads of its event store and of its topic (``services.reporting.verify`` reads them).

1. Every checkpoint must be signed by a public key of its service (else it is refused and named:
   forged); the same number twice must be the same checkpoint; numbers run 1, 2, 3, ... and
   each names the previous one's digest (else one is missing).
2. Folding their heads gives what the last one signed; its root and counts must match.
3. The store and the topic must each hold every signed head: a stream with fewer events than
   signed was truncated; another hash at a signed version, rewritten (even if its chain was
   recomputed and verifies).
4. What the relay had published when the store was read must be on the topic, the same.

Every finding is named in Indonesian for the operator.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from events.checkpoint import FIRST_PREVIOUS, Checkpoint
from events.merkle import HeadSet
from infra.checkpoint_keys import signature_valid

Kind = Literal["forged", "unreadable", "fork", "missing", "inconsistent", "truncated", "rewritten"]


@dataclass(frozen=True)
class Finding:
    kind: Kind
    message: str
    """What differs, in Indonesian."""
    stream_id: str | None = None


@dataclass(frozen=True)
class Found:
    """A checkpoint as found, and where (``Kafka <topic>[p]@offset``, ``berkas <path>:<line>``)."""

    checkpoint: Checkpoint
    where: str


@dataclass
class Heads:
    """A source's streams: the hash of each version it holds, by stream."""

    source: str
    """``penyimpanan <schema>`` or ``Kafka <topic>``."""
    hashes: dict[str, dict[int, str]] = field(default_factory=dict)

    def add(self, stream_id: str, version: int, hash_: str) -> None:
        self.hashes.setdefault(stream_id, {})[version] = hash_

    def hash_at(self, stream_id: str, version: int) -> str | None:
        return self.hashes.get(stream_id, {}).get(version)

    def last(self, stream_id: str) -> int:
        return max(self.hashes.get(stream_id) or {0: ""})


@dataclass
class CheckpointReport:
    service: str
    last: int | None = None
    """The number of the last valid checkpoint (None: none found)."""
    signed_at: datetime | None = None
    streams: int = 0
    events: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.findings


def audit(
    service: str,
    found: Sequence[Found],
    keys: Mapping[str, Ed25519PublicKey],
    sources: Sequence[Heads],
    published: Mapping[str, int] | None = None,
    shipped: Sequence[Found] = (),
) -> CheckpointReport:
    """Steps 1-4 for ``service``: ``found`` on its topic, ``shipped`` in checkpoint files,
    ``sources`` its store and topic (the store first), ``published`` each stream's version the
    relay had published when the store was read (step 4, if given)."""
    report = CheckpointReport(service)
    findings = report.findings
    chain = _valid_chain(service, [*found, *shipped], keys, findings)
    on_topic = {f.checkpoint.sequence for f in found}
    for f in shipped:
        if f.checkpoint.sequence not in on_topic and f.checkpoint.sequence in chain:
            findings.append(
                Finding(
                    "missing",
                    f"checkpoint nomor {f.checkpoint.sequence} ada di {f.where} tetapi tidak di "
                    "topik: catatan di Kafka dihapus atau topiknya dipotong",
                )
            )
    signed = _fold(chain, findings)
    if signed is not None:
        last, heads = signed
        report.last, report.signed_at = last.sequence, last.signed_at
        report.streams, report.events = last.streams, last.events
        for source in sources:
            findings.extend(_compare(heads.heads, last.sequence, source))
    if published is not None and len(sources) >= 2:
        findings.extend(_published_on_topic(published, sources[0], sources[1]))
    return report


def _valid_chain(
    service: str,
    found: Sequence[Found],
    keys: Mapping[str, Ed25519PublicKey],
    findings: list[Finding],
) -> dict[int, Checkpoint]:
    """The checkpoints signed by ``service``'s keys, by number; the others named."""
    chain: dict[int, Checkpoint] = {}
    for f in found:
        cp = f.checkpoint
        if cp.service != service or not signature_valid(cp, keys):
            findings.append(
                Finding(
                    "forged",
                    f"checkpoint nomor {cp.sequence} di {f.where} ditolak: tidak ditandatangani "
                    f"dengan kunci publik layanan {service} (kunci {cp.key_id}, layanan "
                    f"{cp.service})",
                )
            )
            continue
        kept = chain.setdefault(cp.sequence, cp)
        if kept != cp:
            findings.append(
                Finding(
                    "fork",
                    f"dua checkpoint nomor {cp.sequence} yang berbeda, keduanya bertanda tangan "
                    f"sah (yang kedua di {f.where}): kunci penandatangan {service} disalahgunakan",
                )
            )
    return chain


def _fold(
    chain: Mapping[int, Checkpoint], findings: list[Finding]
) -> tuple[Checkpoint, HeadSet] | None:
    """The heads the checkpoints 1, 2, ... signed, up to the last one that follows on."""
    heads, last, previous = HeadSet(), None, FIRST_PREVIOUS
    for n in range(1, max(chain, default=0) + 1):
        cp = chain.get(n)
        if cp is None or cp.previous != previous:
            why = "tidak ditemukan" if cp is None else "tidak menyambung ke checkpoint sebelumnya"
            findings.append(
                Finding(
                    "missing",
                    f"checkpoint nomor {n} {why} (di topik maupun di berkas): yang sesudahnya "
                    "tidak dapat diperiksa",
                )
            )
            break
        for head in cp.heads:
            heads.set(head.stream_id, head.version, head.hash)
        last, previous = cp, cp.digest()
    if last is None:
        return None
    if (heads.root(), heads.events, len(heads.heads)) != (last.root, last.events, last.streams):
        findings.append(
            Finding(
                "inconsistent",
                f"checkpoint nomor {last.sequence}: akar Merkle atau jumlahnya tidak cocok dengan "
                "kepala stream yang ditandatangani",
            )
        )
    return last, heads


def _compare(signed: Mapping[str, tuple[int, str]], sequence: int, source: Heads) -> list[Finding]:
    """Each signed head against ``source``."""
    findings = []
    for stream_id in sorted(signed):
        version, hash_ = signed[stream_id]
        found = source.hash_at(stream_id, version)
        if found is None:
            findings.append(
                Finding(
                    "truncated",
                    f"{source.source}: stream {stream_id} ditandatangani sampai versi {version} "
                    f"(checkpoint nomor {sequence}), tetapi hanya ada sampai versi "
                    f"{source.last(stream_id)}: ekornya dipotong atau dihapus",
                    stream_id,
                )
            )
        elif found != hash_:
            findings.append(
                Finding(
                    "rewritten",
                    f"{source.source}: stream {stream_id} versi {version} berbeda dari yang "
                    f"ditandatangani checkpoint nomor {sequence} (hash {found[:12]}…, "
                    f"ditandatangani {hash_[:12]}…): riwayatnya ditulis ulang",
                    stream_id,
                )
            )
    return findings


def _published_on_topic(published: Mapping[str, int], store: Heads, topic: Heads) -> list[Finding]:
    """What the relay had published must be on the topic, the same."""
    findings = []
    for stream_id in sorted(published):
        version = published[stream_id]
        stored, sent = store.hash_at(stream_id, version), topic.hash_at(stream_id, version)
        if sent is None:
            findings.append(
                Finding(
                    "truncated",
                    f"{topic.source}: stream {stream_id} versi {version} sudah diterbitkan relay "
                    f"dari {store.source}, tetapi tidak ada di topik",
                    stream_id,
                )
            )
        elif sent != stored:
            findings.append(
                Finding(
                    "rewritten",
                    f"stream {stream_id} versi {version}: hash di {store.source} dan di "
                    f"{topic.source} berbeda",
                    stream_id,
                )
            )
    return findings
