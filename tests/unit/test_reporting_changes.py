"""The batch projection's pure part: a request's new envelopes stepped through one at a time."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.envelope import Envelope
from services.reporting.casefile import ConflictingEvent, fold
from services.reporting.changes import step_through, unseen
from tests.unit.test_reporting_casefile import (
    ALL,
    FINAL,
    LANES,
    REQ,
    Delivery,
    _deliver,
    _deliveries,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_deliveries(LANES), st.data())
def test_any_interleaving_cut_into_any_batches_gives_the_case_of_the_set(
    given_delivery: Delivery, data: st.DataObject
) -> None:
    delivery = _deliver(LANES, given_delivery)
    cuts = sorted(data.draw(st.sets(st.integers(1, len(delivery) - 1), max_size=6)))
    stored: list[Envelope] = []
    for start, end in zip([0, *cuts], [*cuts, len(delivery)], strict=True):
        new = unseen(stored, delivery[start:end])
        assert len({e.event_id for e in new}) == len(new)  # a redelivery is dropped
        changes = step_through(REQ, stored, new)
        assert {c.envelope.event_id for c in changes} == {e.event_id for e in new}
        seen = list(stored)
        for change in changes:
            assert change.before == (fold(seen, REQ) if seen else None)
            seen.append(change.envelope)
            assert change.after == fold(seen, REQ)
        stored += new
    assert fold(stored, REQ) == FINAL
    assert len(stored) == len(ALL)


def test_a_batch_is_stepped_through_in_canonical_order() -> None:
    late_first = list(reversed(ALL[3:8]))  # one batch, from two topics, out of order
    changes = step_through(REQ, ALL[:3], late_first)
    assert [c.envelope for c in changes] == ALL[3:8]
    assert changes[0].before == fold(ALL[:3], REQ)
    assert changes[-1].after == fold(ALL[:8], REQ)
    assert step_through(REQ, [], ALL[:1])[0].before is None


def test_a_stored_id_with_other_content_is_refused() -> None:
    kept = ALL[0]
    other = kept.model_copy(update={"actor": ALL[1].actor})
    assert unseen(ALL[:2], [kept, ALL[2]]) == [ALL[2]]
    with pytest.raises(ConflictingEvent):
        unseen(ALL[:2], [other])
