"""Signed checkpoints without I/O: the Merkle root (RFC 9162's tree hash), the signature, the
audit's fold and comparisons, the keys file, and production's refusal of a missing key."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from events.checkpoint import CHECKPOINT_HEADER, FIRST_PREVIOUS, Checkpoint, Head, is_checkpoint
from events.merkle import HeadSet, heads_root, leaf_hash, merkle_root
from infra.auth import generate_key_pair
from infra.checkpoint_keys import (
    KeysFileError,
    Signer,
    development_key,
    development_public_keys,
    key_id,
    public_keys_from_file,
    public_pem,
    signature_valid,
)
from infra.settings import ProductionConfigError, Settings
from services.reporting import cli as reporting_cli
from services.reporting.checkpoint_audit import Found, Heads, audit

RFC6962_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
RFC6962_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
"""Certificate Transparency's test vectors of the Merkle Tree Hash (trees of 1 to 8 leaves)."""

T0 = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)


def test_the_root_is_rfc_9162s_merkle_tree_hash() -> None:
    for n, root in enumerate(RFC6962_ROOTS, start=1):
        assert merkle_root([leaf_hash(d) for d in RFC6962_LEAVES[:n]]).hex() == root
    assert merkle_root([]).hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_the_root_covers_every_head_in_stream_order_whatever_the_order_given() -> None:
    heads = {f"s{n}": (n + 1, f"{n:064x}") for n in range(11)}
    root = heads_root(heads)
    assert heads_root(dict(reversed(heads.items()))) == root
    assert heads_root({**heads, "s3": (5, "f" * 64)}) != root  # a rewritten head
    assert heads_root({**heads, "s3": (3, heads["s3"][1])}) != root  # a cut tail
    assert heads_root({k: v for k, v in heads.items() if k != "s3"}) != root  # a lost stream
    kept = HeadSet()
    for stream, (version, hash_) in reversed(heads.items()):
        kept.set(stream, version, hash_)
    assert (kept.root(), kept.events) == (root, sum(v for v, _ in heads.values()))


def _checkpoint(sequence: int, previous: str, heads: dict[str, tuple[int, str]]) -> Checkpoint:
    kept = HeadSet(heads)
    return Checkpoint(
        service="intake",
        sequence=sequence,
        previous=previous,
        signed_at=T0,
        streams=len(heads),
        events=kept.events,
        root=kept.root(),
        heads=tuple(Head(stream_id=s, version=v, hash=h) for s, (v, h) in sorted(heads.items())),
        key_id="",
    )


def test_a_signature_holds_for_its_own_key_and_bytes_only() -> None:
    signer = Signer(development_key("intake"))
    signed = signer.sign(_checkpoint(1, FIRST_PREVIOUS, {"r": (1, "a" * 64)}))
    keys = development_public_keys(["intake", "approval"])
    assert signed.key_id == key_id(development_key("intake").public_key())
    assert signature_valid(signed, keys["intake"])
    assert not signature_valid(signed, keys["approval"])  # another service's key
    altered = signed.model_copy(update={"events": 2})
    assert not signature_valid(altered, keys["intake"])
    round_trip = Checkpoint.model_validate_json(signed.model_dump_json())
    assert signature_valid(round_trip, keys["intake"]) and round_trip == signed
    other = Signer(Ed25519PrivateKey.generate()).sign(signed)
    assert not signature_valid(other, keys["intake"])  # its key id is none of intake's


def test_the_audit_folds_the_chain_and_names_every_difference() -> None:
    signer = Signer(development_key("intake"))
    keys = development_public_keys(["intake"])["intake"]
    one = signer.sign(_checkpoint(1, FIRST_PREVIOUS, {"a": (2, "a2"), "b": (1, "b1")}))
    whole = _checkpoint(2, one.digest(), {"a": (2, "a2"), "b": (2, "b2")})
    two = signer.sign(whole.model_copy(update={"heads": whole.heads[1:]}))  # b changed only
    store = Heads("penyimpanan")
    for stream, version, hash_ in (("a", 1, "a1"), ("a", 2, "a2"), ("b", 1, "b1"), ("b", 2, "b2")):
        store.add(stream, version, hash_)
    found = [Found(one, "Kafka t[0]@0"), Found(two, "Kafka t[0]@1"), Found(two, "Kafka t[0]@2")]
    intact = audit("intake", found, keys, [store])
    assert (intact.findings, intact.last, intact.events) == ([], 2, 4)

    cut = Heads("penyimpanan")
    cut.add("a", 1, "a1")
    cut.add("b", 1, "b1")
    cut.add("b", 2, "bX")
    findings = audit("intake", found, keys, [cut]).findings
    assert [(f.kind, f.stream_id) for f in findings] == [("truncated", "a"), ("rewritten", "b")]

    gap = audit("intake", [Found(two, "berkas f:1")], keys, [store]).findings
    assert [f.kind for f in gap] == ["missing"]
    assert "checkpoint nomor 1 tidak ditemukan" in gap[0].message

    other = signer.sign(two.model_copy(update={"root": "0" * 64}))
    fork = audit("intake", [*found, Found(other, "Kafka t[0]@3")], keys, [store]).findings
    assert [f.kind for f in fork] == ["fork"]

    shipped = [Found(one, "berkas f:1"), Found(two, "berkas f:2")]
    lost = audit("intake", found[:1], keys, [store], shipped=shipped).findings
    assert [f.kind for f in lost] == ["missing"]
    assert "nomor 2 ada di berkas f:2 tetapi tidak di topik" in lost[0].message


def test_the_published_events_must_be_on_the_topic_the_same() -> None:
    store, topic = Heads("penyimpanan s"), Heads("Kafka t")
    for source in (store, topic):
        source.add("a", 1, "a1")
    store.add("b", 1, "b1")
    topic.add("b", 1, "bX")
    store.add("c", 1, "c1")
    findings = audit("intake", [], {}, [store, topic], published={"a": 1, "b": 1, "c": 1})
    assert [(f.kind, f.stream_id) for f in findings.findings] == [
        ("rewritten", "b"),
        ("truncated", "c"),
    ]
    assert findings.last is None


def test_a_checkpoint_record_is_known_by_its_header() -> None:
    assert is_checkpoint([("event_type", b"X"), (CHECKPOINT_HEADER, b"checkpoint")])
    assert not is_checkpoint([("event_type", b"RequestSubmitted")])
    assert not is_checkpoint(None)


def test_the_keys_file_names_what_is_wrong(tmp_path: Path) -> None:
    keys = tmp_path / "checkpoint-keys.json"
    current, retired = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    keys.write_text(json.dumps({"intake": [public_pem(current), public_pem(retired)]}))
    loaded = public_keys_from_file(keys)
    assert set(loaded["intake"]) == {key_id(current.public_key()), key_id(retired.public_key())}
    keys.write_text(json.dumps({"intake": ["not a key"]}))
    with pytest.raises(KeysFileError, match="kunci ke-1 milik intake bukan kunci publik"):
        public_keys_from_file(keys)


def _pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_production_refuses_to_start_without_its_own_checkpoint_key(tmp_path: Path) -> None:
    base = {
        "environment": "production",
        "service_name": "intake",
        "jwt_public_key": generate_key_pair()[1],
        "app_db_password": "a-real-password",
        "kafka_sasl_password": "intake-s-own-kafka-password",
        "jwt_key_dir": str(tmp_path),
    }
    with pytest.raises(ProductionConfigError, match="CHECKPOINT_SIGNING_KEY wajib diisi"):
        Settings(**base).check_production()
    for service in ("intake", "approval"):  # any service's development key
        with pytest.raises(ProductionConfigError, match="kunci pengembangan"):
            dev = _pem(development_key(service))
            Settings(**base, checkpoint_signing_key=dev).check_production()
    own = Ed25519PrivateKey.generate()
    settings = Settings(**base, checkpoint_signing_key=_pem(own))
    settings.check_production()
    assert key_id(settings.checkpoint_key("intake").public_key()) == key_id(own.public_key())
    development = Settings(environment="development").checkpoint_key("intake")
    assert key_id(development.public_key()) == key_id(development_key("intake").public_key())


def test_verify_in_production_refuses_to_check_checkpoints_without_the_keys_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Before it reads anything: without the inspectors' public keys there is nothing to check
    a signature with (exit 2, in Indonesian); a keys file that does not read is named."""
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.delenv("CHECKPOINT_PUBLIC_KEYS_FILE", raising=False)
    runner = CliRunner()
    result = runner.invoke(reporting_cli.app, ["audit", "verify"], env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert "CHECKPOINT_PUBLIC_KEYS_FILE wajib diisi di produksi" in result.output
    broken = tmp_path / "keys.json"
    broken.write_text("{")
    monkeypatch.setenv("CHECKPOINT_PUBLIC_KEYS_FILE", str(broken))
    result = runner.invoke(reporting_cli.app, ["audit", "verify"], env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert "tidak terbaca sebagai JSON" in result.output
