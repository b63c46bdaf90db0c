"""The SOP's step machine: where a request stands after each event, read from ``events.steps``.

Every reader of the step machine goes through ``move``: intake's, approval's and dev_tracking's
folds, reporting's case file and its SLA visits, and (through the case) the web app. Each keeps
its own facts (documents, team, status words) and asks this module only where the request is.
``move`` is pure and knows nothing of who may act or of closed requests: a reader stops calling it
once the request is rejected, withdrawn or completed (the first ending stands).

The rules, in the order ``move`` tries them:

1. A test result (``TestPassed:KIND`` / ``TestFailed:KIND``): a failed test puts the request at
   that test's step until the same kind passes; a passed one makes the next kind of
   ``TEST_ORDER`` due and moves to its step, or after the last test to the step after the tests,
   passing by a ``once_per_request`` step (the manual) whose output already exists.
2. A rejection at a step with a ``rework_step`` (UAT) sends the request back there with its
   ``retest`` due again.
3. The event that leaves a ``once_per_request`` step (``ManualPublished``) records that its
   output exists, and moves on only if the request is at that step.
4. ``paused_by`` / ``resumed_by`` of the current step: the request stays, waiting on the
   requester (``returned``) or no longer.
5. Any other event in a step's ``entered_by`` moves the request *forward* to that step, never
   back: two services' events about one request may sort in either order (clocks disagree by a
   hair), and a later Surat Tugas does not undo the progress made. Reaching development makes
   the first test due.

Readers compare after each command's events (``UATAccepted`` and ``RequestCompleted`` are one
command's), and the property test ``tests/unit/test_sop_readers.py`` walks random valid histories
through every reader and checks they agree on the step.
"""

from dataclasses import dataclass
from itertools import pairwise

from events.base import DomainEvent
from events.dev_tracking import TestFailed, TestKind, TestPassed
from events.steps import STEPS, TEST_ORDER, TEST_STEP, StepCode, StepRole, Trigger, step

__all__ = ["START", "Position", "move", "next_test", "trigger", "waits_on"]


@dataclass(frozen=True, slots=True)
class Position:
    """Where a request stands in the SOP: its step, the test due, whether the manual exists and
    whether it waits on the requester's revision."""

    step: StepCode = "SUBMIT"
    next_test: TestKind | None = None
    manual_published: bool = False
    returned: bool = False


START = Position()
"""A request before its submission."""

_FORWARD: dict[Trigger, StepCode] = {
    t: s.code for s in STEPS for t in s.entered_by if ":" not in t and not s.test_kind
}
_REWORK: dict[Trigger, StepCode] = {
    t: s.code
    for s in STEPS
    if s.rework_step
    for t in s.left_by
    if t in step(s.rework_step).entered_by
}
_OUTPUT_OF_ONCE: dict[Trigger, StepCode] = {
    t: s.code for s in STEPS if s.once_per_request for t in s.left_by
}
_MOVING: frozenset[str] = frozenset(
    t.partition(":")[0]
    for s in STEPS
    for t in (*s.entered_by, *s.left_by, *s.paused_by, *s.resumed_by)
)
"""Every event type the table names; any other event leaves a request where it is."""
_NUMBER: dict[StepCode, int] = {s.code: s.number for s in STEPS}
_AFTER: dict[StepCode, StepCode] = {s.code: n.code for s, n in pairwise(STEPS)}
_AFTER_TESTS: StepCode = _AFTER[TEST_STEP[TEST_ORDER[-1]]]
_FIRST_TEST_AT: StepCode = STEPS[_NUMBER[TEST_STEP[TEST_ORDER[0]]] - 2].code
_LAST: StepCode = STEPS[-1].code
_TEST_RESULTS = (TestPassed, TestFailed)


def trigger(event: DomainEvent) -> Trigger:
    """The event as the table names it: its type, and a test result's kind."""
    if isinstance(event, _TEST_RESULTS):
        return f"{event.event_type()}:{event.kind}"
    return event.event_type()


def next_test(kind: TestKind) -> TestKind | None:
    """The kind due once ``kind`` has passed; None after the last."""
    following = TEST_ORDER.index(kind) + 1
    return TEST_ORDER[following] if following < len(TEST_ORDER) else None


def _tested(at: Position, event: TestPassed | TestFailed) -> Position:
    if isinstance(event, TestFailed):
        to, due = TEST_STEP[event.kind], at.next_test
    else:
        due = next_test(event.kind)
        if due is not None:
            to = TEST_STEP[due]
        elif at.manual_published and step(_AFTER_TESTS).once_per_request:
            to = _AFTER[_AFTER_TESTS]
        else:
            to = _AFTER_TESTS
    return Position(to, due, at.manual_published, at.returned)


def _forward(at: Position, to: StepCode) -> Position:
    if _NUMBER[to] <= _NUMBER[at.step]:
        return at
    due = TEST_ORDER[0] if to == _FIRST_TEST_AT else None if to == _LAST else at.next_test
    return Position(to, due, at.manual_published, False)


def move(at: Position, event: DomainEvent) -> Position:
    """Where the request stands after ``event``; unchanged by an event that does not move it."""
    name = event.event_type()
    if name not in _MOVING:
        return at
    if isinstance(event, _TEST_RESULTS):
        return _tested(at, event)
    if name in _REWORK:
        rejected_at = step(_REWORK[name])
        assert rejected_at.rework_step is not None
        return Position(rejected_at.rework_step, rejected_at.retest, at.manual_published, False)
    if name in _OUTPUT_OF_ONCE:
        left = _OUTPUT_OF_ONCE[name]
        to = _AFTER[left] if at.step == left else at.step
        return Position(to, at.next_test, True, at.returned)
    here = step(at.step)
    if name in here.paused_by:
        return Position(at.step, at.next_test, at.manual_published, True)
    if name in here.resumed_by:
        return Position(at.step, at.next_test, at.manual_published, False)
    if name in _FORWARD:
        return _forward(at, _FORWARD[name])
    return at


def waits_on(
    at: StepCode, *, returned: bool = False, open_problems: bool = False
) -> StepRole | None:
    """The role an open request at ``at`` waits on: the requester while returned; at UAT the
    team while problems are still open (acceptance needs their solutions); else the step's
    responsible role (None at DONE)."""
    if returned:
        return "PEMOHON"
    if at == "UAT" and open_problems:
        return "TIM_PENGEMBANG"
    return step(at).actor_role
