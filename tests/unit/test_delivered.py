"""``infra.consumer.Delivered``: what a consumer hands its handler."""

import pytest

from events.envelope import GENESIS_HASH
from infra.consumer import NOT_AN_ENVELOPE, Delivered
from infra.eventstore.contract import seal_all
from tests.contract.eventstore_contract import new_event


def test_keeps_the_text_as_delivered_next_to_the_parsed_envelope() -> None:
    [envelope] = seal_all("req-1", 0, GENESIS_HASH, [new_event(1)])
    body = envelope.model_dump_json(indent=2).encode()  # not pydantic's compact spelling

    delivered = Delivered.of(body)

    assert delivered.envelope == envelope
    assert delivered.text == body.decode()


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe{}", b'{"event_id": "x"}'])
def test_a_record_that_is_not_an_envelope_is_refused(body: bytes) -> None:
    with pytest.raises(NOT_AN_ENVELOPE):
        Delivered.of(body)
