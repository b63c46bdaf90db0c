"""The short form of the fault-injection suite (``bench.chaos``; ``make chaos`` runs the long
one): on a fresh stack whose every process is kept running by one supervisor, three users walk
requests through all 14 steps via the gateway (with a return and its revision, a failed system
test and its retest, a rejected UAT) while each service, the web app, Kafka and PostgreSQL is
killed with SIGKILL once, in turn, and started again by the supervisor, not by the test; after
each, every service is healthy again within 30 s of the component's return.

Then, once every consumer has caught up: every request is DONE in reporting and dev_tracking;
per request each event type is on its topic exactly as often as the walk caused it; every stream
on every topic has versions 1..n, one event each; ``jejak audit verify`` exits 0 and ``jejak
audit replay`` finds the read models identical. The figures go to
``test-artifacts/chaos/short.txt``."""

from collections import Counter
from pathlib import Path

import pytest

from bench.chaos.checks import PER_REQUEST
from bench.chaos.run import run_chaos

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "chaos"


@pytest.mark.timeout(600)  # about 3 minutes alone on 2 cores; 5 while the machine is busy
def test_nothing_is_lost_or_doubled_while_every_component_is_killed_in_turn() -> None:
    said: list[str] = []

    outcome = run_chaos(3, kills=10, interval=0.5, think=0.5, say=said.append, settle_timeout=240)

    report = "\n".join([*said, *outcome.lines()])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "short.txt").write_text(report + "\n")
    assert outcome.failures == [], report
    assert outcome.findings.problems == [], report
    assert outcome.killed() == Counter(outcome.components), report
    assert len(outcome.components) == 10
    assert outcome.slow_recoveries == [], report
    assert len(outcome.requests) >= 3, report
    per_request = sum(sum(c.values()) for c in PER_REQUEST.values())
    assert outcome.findings.events_checked == per_request * len(outcome.requests), report
    for name in outcome.components:  # each restart was the supervisor's, and it said so
        assert any(line.startswith(f"{name} berhenti") for line in said), (name, report)
