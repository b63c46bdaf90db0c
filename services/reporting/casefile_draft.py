"""The case while a fold steps through its events: ``CaseDraft``, plain values changed per event.

A fold takes a draft from a ``CaseFile`` (``CaseDraft.of``), changes it once per event
(``change``, with the fields ``casefile_steps.update_for`` computes) and builds a ``CaseFile``
from it (``freeze``) only at the end. Making a whole ``CaseFile`` at every event would cost more
than the event's own work; the notices read a draft as it is (``casefile_model.CaseView``).

Every value a draft holds is immutable (tuples, frozen parts), so the cases frozen from it share
them, and ``change`` hands back the values as they were: ``CaseDraft(before)`` is the case
before the event.
"""

from typing import Any

from events.dev_tracking import TestKind
from events.envelope import Role
from events.steps import StepCode
from services.reporting.casefile_model import (
    CLOSED_STATUSES,
    CaseFile,
    CaseStatus,
    Document,
    ProblemEntry,
    ReturnEntry,
    Team,
    TimelineEntry,
    who_must_act,
)

Update = dict[str, Any]
"""Field values of a case, by name."""


class CaseDraft:
    """A case's field values as a plain dict (a ``CaseFile``'s, ``history`` and ``updated_at``
    aside: the fold's caller keeps them), with the ones the steps and the notices read as
    properties (a draft is a ``casefile_model.CaseView``)."""

    __slots__ = ("values",)

    def __init__(self, values: Update) -> None:
        self.values = values

    @classmethod
    def of(cls, case: CaseFile) -> "CaseDraft":
        """A draft of ``case``."""
        return cls({name: getattr(case, name) for name in DRAFT_FIELDS})

    @property
    def request_id(self) -> str:
        request_id: str = self.values["request_id"]
        return request_id

    @property
    def title(self) -> str | None:
        title: str | None = self.values["title"]
        return title

    @property
    def team(self) -> Team | None:
        team: Team | None = self.values["team"]
        return team

    @property
    def status(self) -> CaseStatus:
        status: CaseStatus = self.values["status"]
        return status

    @property
    def step(self) -> StepCode:
        at: StepCode = self.values["step"]
        return at

    @property
    def next_test(self) -> TestKind | None:
        due: TestKind | None = self.values["next_test"]
        return due

    @property
    def opd(self) -> str | None:
        opd: str | None = self.values["opd"]
        return opd

    @property
    def manual_published(self) -> bool:
        return bool(self.values["manual_published"])

    @property
    def revisions(self) -> int:
        return int(self.values["revisions"])

    @property
    def uat_rejections(self) -> int:
        return int(self.values["uat_rejections"])

    @property
    def documents(self) -> tuple[Document, ...]:
        documents: tuple[Document, ...] = self.values["documents"]
        return documents

    @property
    def problems(self) -> tuple[ProblemEntry, ...]:
        problems: tuple[ProblemEntry, ...] = self.values["problems"]
        return problems

    @property
    def returns(self) -> tuple[ReturnEntry, ...]:
        returns: tuple[ReturnEntry, ...] = self.values["returns"]
        return returns

    @property
    def timeline(self) -> tuple[TimelineEntry, ...]:
        timeline: tuple[TimelineEntry, ...] = self.values["timeline"]
        return timeline

    @property
    def is_closed(self) -> bool:
        return self.values["status"] in CLOSED_STATUSES

    @property
    def who_must_act(self) -> Role | None:
        """``CaseFile.who_must_act`` of the case."""
        values = self.values
        return who_must_act(values["status"], values["step"], values["problems"])

    def change(self, update: Update) -> Update:
        """Set the fields of ``update``; returns the values as they were (a draft's values are
        replaced, never changed in place, so ``CaseDraft(returned)`` is the case before)."""
        before = self.values
        if update:
            self.values = before | update
        return before

    def freeze(self, **given: Any) -> CaseFile:
        """The ``CaseFile`` of the draft's values, with ``given`` fields (e.g. ``history``) in
        place of the draft's or added to them (without them, no history and no ``updated_at``).

        Not validated again (``model_copy`` takes the values as they are): they are computed
        from envelopes already validated, as every case of a fold always was.
        """
        return _BLANK.model_copy(update=self.values | given if given else self.values)


DRAFT_FIELDS: tuple[str, ...] = tuple(
    name for name in CaseFile.model_fields if name not in ("history", "updated_at")
)
"""The fields a draft holds, in ``CaseFile``'s order."""

_BLANK = CaseFile(request_id="")
"""The case ``freeze`` copies: every field it does not set keeps the default."""
