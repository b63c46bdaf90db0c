"""What every document builder is given: the tenant's letterhead and settings, the people, the
request's facts and the source event; and what every builder returns (``Built``)."""

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from events.base import DomainEvent
from events.documents import DocumentKind
from events.envelope import Envelope
from services.documents.config import PAPER_MM, DocumentsConfig
from services.documents.facts import CaseFacts, MissingFact
from services.documents.people import People, Person
from services.documents.signature import Positions
from services.documents.words import place_and_date


@dataclass(frozen=True)
class Tenant:
    """The tenant's part of every document (``DocumentsConfig``), as builders use it."""

    letterhead: dict[str, str]
    place: str
    paper: dict[str, float]
    positions: Positions
    zone: ZoneInfo
    venue: str

    @classmethod
    def of(cls, config: DocumentsConfig) -> "Tenant":
        width, height = PAPER_MM[config.paper]
        return cls(
            letterhead={
                "government": config.government,
                "agency": config.agency,
                "address": config.address,
                "contact": config.contact,
            },
            place=config.place,
            paper={"width": width, "height": height},
            positions=Positions(dict(config.positions)),
            zone=ZoneInfo(config.time_zone),
            venue=config.venue,
        )

    def local_day(self, instant: dt.datetime) -> dt.date:
        return instant.astimezone(self.zone).date()


@dataclass(frozen=True)
class Source:
    """The event a document records, with the facts and people as they stood then."""

    envelope: Envelope
    event: DomainEvent
    facts: CaseFacts
    people: People

    def person(self, user_id: str) -> Person:
        found = self.people.users.get(user_id)
        if found is None:
            raise MissingFact(f"pengguna {user_id} belum dikenal (data identitas)")
        return found

    def opd_name(self, code: str) -> str:
        return self.people.opds.get(code, code)


@dataclass(frozen=True)
class Built:
    """A document's data before its number: what the template needs, and how to number it."""

    kind: DocumentKind
    data: dict[str, Any]
    day: dt.date
    final: bool
    typed_number: str | None
    """The number the source event carries (typed by its user), if any; else the document
    takes the next of its kind's register."""
    signers: tuple[str, ...]

    @property
    def numberless(self) -> bool:
        """A draft whose number nobody typed: it takes none (its final takes one)."""
        return not self.final and self.typed_number is None

    def numbered(self, number: str) -> dict[str, Any]:
        """The template's data with its number (printed unless ``numberless``)."""
        return {**self.data, "number": number, "numbered": not self.numberless}


def common(tenant: Tenant, kind: DocumentKind, title: str, day: dt.date) -> dict[str, Any]:
    """The parts every document has: letterhead, paper, title, place and date."""
    return {
        "kind": kind,
        "title": title,
        "letterhead": tenant.letterhead,
        "paper": tenant.paper,
        "place_date": place_and_date(tenant.place, day),
        "draft": False,
        "signatures": [],
        "acknowledged": None,
        "tembusan": [],
    }
