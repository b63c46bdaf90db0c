"""How the audit replay groups raw records by request before parsing them (``replay_worker.key_of``)
and then checks each envelope's own stream (``replay_worker.envelopes_of``)."""

from types import SimpleNamespace

from events.envelope import GENESIS_HASH
from infra.eventstore.contract import seal_all
from infra.relay import message_of
from services.reporting.replay_worker import SliceResult, envelopes_of, key_of
from tests.contract.eventstore_contract import new_event

[ENVELOPE] = seal_all("req-1", 0, GENESIS_HASH, [new_event(1)])


def _record(key: bytes | None, value: bytes) -> SimpleNamespace:
    return SimpleNamespace(key=key, value=value, topic="t", partition=0, offset=7)


def test_a_relay_record_is_grouped_by_its_key() -> None:
    key, value, _ = message_of(ENVELOPE)
    assert key == b"req-1"
    assert key_of(_record(key, value)) == b"req-1"


def test_a_key_the_envelope_does_not_name_gives_way_to_the_envelope() -> None:
    _, value, _ = message_of(ENVELOPE)
    assert key_of(_record(b"req-2", value)) == b"req-1"
    assert key_of(_record(None, value)) == b"req-1"
    spaced = ENVELOPE.model_dump_json(indent=2).encode()  # not the relay's compact spelling
    assert key_of(_record(b"req-1", spaced)) == b"req-1"


def test_a_record_that_is_not_an_envelope_has_no_key_and_is_refused() -> None:
    record = _record(b"req-1", b'{"stream_id":"req-1"}')
    assert key_of(_record(None, b"{not json")) is None
    assert key_of(record) == b"req-1"  # the key is taken on trust here ...
    result = SliceResult(0)
    assert envelopes_of([record], "req-1", result) == []  # ... and the envelope refused here
    assert [r.where for r in result.refusals] == ["t[0]@7"]
    assert result.refusals[0].reason.startswith("not a valid envelope")


def test_an_envelope_of_another_stream_than_its_group_is_refused() -> None:
    _, value, _ = message_of(ENVELOPE)
    result = SliceResult(0)
    assert envelopes_of([_record(b"req-9", value)], "req-9", result) == []
    [refusal] = result.refusals
    assert (refusal.request_id, refusal.reason) == ("req-1", "keyed as stream req-9")
