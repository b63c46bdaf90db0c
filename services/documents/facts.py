"""What a request's documents need from its history, folded from its events (intake, approval,
dev_tracking) up to the document's source event. Pure; the same events give the same facts
whatever order their topics arrived in, as long as each is there."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from events.approval import BAsigned, Disposed, MeetingHeld, TaskAssigned
from events.base import DomainEvent
from events.envelope import Envelope
from events.intake import RequestLetter, RequestReceived, RequestRevised, RequestSubmitted


class MissingFact(LookupError):
    """An event the document needs has not arrived (its topic is behind); the document waits
    for it."""


E = TypeVar("E", bound=DomainEvent)


@dataclass(frozen=True)
class Fact(Generic[E]):
    """An event with its envelope (who, when)."""

    envelope: Envelope
    event: E


@dataclass(frozen=True)
class IssuedDocument:
    """A document already issued for the request, as the case file lists and includes it."""

    document_id: str
    kind: str
    number: str
    document_date: dt.date
    sha256: str
    pages: int


@dataclass
class CaseFacts:
    request_id: str
    submitted: Fact[RequestSubmitted] | None = None
    title: str | None = None
    letter: RequestLetter | None = None
    received: Fact[RequestReceived] | None = None
    disposed: Fact[Disposed] | None = None
    meeting: Fact[MeetingHeld] | None = None
    minutes: Fact[BAsigned] | None = None
    task: Fact[TaskAssigned] | None = None
    numbers: dict[str, str] = field(default_factory=dict)
    """The numbers of the documents already issued for the request, by kind (latest)."""
    history: list[Fact[DomainEvent]] = field(default_factory=list)
    """Every event of the request up to the source event, in time order."""
    documents: list[IssuedDocument] = field(default_factory=list)
    """The request's issued documents (for the case file only; else empty)."""
    unissued: int = 0
    """How many of the request's earlier documents are not issued yet (for the case file)."""

    def apply(self, envelope: Envelope, event: DomainEvent) -> None:
        self.history.append(Fact(envelope, event))
        match event:
            case RequestSubmitted():
                self.submitted = Fact(envelope, event)
                self.title, self.letter = event.title, event.letter
            case RequestRevised():
                self.title = event.title or self.title
                self.letter = event.letter or self.letter
            case RequestReceived():
                self.received = Fact(envelope, event)
            case Disposed():
                self.disposed = Fact(envelope, event)
            case MeetingHeld():
                self.meeting = Fact(envelope, event)
            case BAsigned():
                self.minutes = Fact(envelope, event)
            case TaskAssigned():
                self.task = Fact(envelope, event)
            case _:
                pass

    @classmethod
    def of(
        cls,
        request_id: str,
        history: Iterable[tuple[Envelope, DomainEvent]],
        numbers: dict[str, str] | None = None,
    ) -> "CaseFacts":
        facts = cls(request_id, numbers=dict(numbers or {}))
        for envelope, event in history:
            facts.apply(envelope, event)
        return facts

    def need_submitted(self) -> Fact[RequestSubmitted]:
        if self.submitted is None:
            raise MissingFact("RequestSubmitted (intake) belum diterima")
        return self.submitted

    def need_title(self) -> str:
        """The application's title (as last revised): a document that prints it waits for the
        request's submission, so that it never prints it missing for a topic that was behind."""
        self.need_submitted()
        return self.title or "-"

    def need_meeting(self) -> Fact[MeetingHeld]:
        if self.meeting is None:
            raise MissingFact("MeetingHeld (approval) belum diterima")
        return self.meeting

    def need_number(self, kind: str) -> str:
        number = self.numbers.get(kind)
        if number is None:
            raise MissingFact(f"dokumen {kind} permohonan ini belum terbit")
        return number
