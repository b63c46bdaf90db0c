"""Constrained field types shared by the event payloads.

Each is an ``Annotated`` string with its limits; the description is given where the field is used.
Values are validated, never rewritten: a field with stray surrounding whitespace is refused, not
trimmed, so that what is stored is exactly what was sent.

Every stored event must load with these types forever (the projections and the audit replay
validate payloads again). Before the first deployment a type may still be tightened, as the
control characters were; after it, a stricter rule needs a new schema version and an upcaster.
"""

import datetime as dt
import re
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, StringConstraints

_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"
ONE_LINE = r"^[^\s\x00-\x1f\x7f](?:[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f])?$"
"""One line without surrounding whitespace or control characters (NUL, tab, CR, ...)."""
FREE_TEXT = (
    r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*[^\s\x00-\x1f\x7f]"
    r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
)
"""Not blank, and no control characters but tab, line feed and carriage return. PostgreSQL's
text cannot hold a NUL at all: one let through failed every service that stored it."""
VISIBLE_ASCII = r"^[\x21-\x7e]+$"
"""Printable ASCII without spaces: what another system's ids and keys are made of."""

RequestId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=_ID)]
"""A request's id, which is also its stream id (intake issues UUIDv7 strings)."""

UserId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=_ID)]
"""A user's id as issued by identity."""

EntityId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=_ID)]
"""The id of a thing inside a stream: a delegation, a problem, ..."""

OpdCode = Annotated[
    str, StringConstraints(min_length=2, max_length=32, pattern=r"^[A-Z0-9][A-Z0-9_-]*$")
]
"""An agency's (OPD's) short code in capitals, e.g. ``DINKES``."""

DocumentNumber = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=ONE_LINE)]
"""An official document number, e.g. ``555/012/DISKOMINFOSTANDI/II/2024``."""

Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=ONE_LINE)]
"""A one-line name or title."""

Line = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=ONE_LINE)]
"""A one-line item of a list: a feature, a finding, a reason."""

Text = Annotated[str, StringConstraints(min_length=1, max_length=10_000, pattern=FREE_TEXT)]
"""Free text, possibly several paragraphs, not blank."""

ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=VISIBLE_ASCII)]
"""An id another system issued (the e-office's letter or disposition id): visible ASCII."""

Sha256Hex = Annotated[str, StringConstraints(max_length=64, pattern=r"^[0-9a-f]{64}$")]
"""A SHA-256 digest in lower-case hex."""

NIP_PATTERN = r"^[0-9]{18}$"
Nip = Annotated[str, StringConstraints(max_length=18, pattern=NIP_PATTERN)]
"""Nomor Induk Pegawai: the 18-digit Indonesian civil-servant number."""

MAX_LIST = 200
"""The longest list any payload accepts."""

EARLIEST_DAY = dt.date(1970, 1, 1)
LATEST_DAY = dt.date(2100, 12, 31)
"""The days a caller may name (a letter's date, a meeting, a period, a query's bounds)."""

_EARLIEST = dt.datetime.combine(EARLIEST_DAY, dt.time(), dt.UTC)
_LATEST = dt.datetime.combine(LATEST_DAY, dt.time.max, dt.UTC)
_NUMBER = re.compile(r"^\s*[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\s*$")


def _iso_text(value: object) -> object:
    """Refuses a number where a date or instant is due (pydantic would read it as seconds since
    1970): only ISO 8601 text is a date here."""
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.match(value)):
        raise ValueError("harus teks ISO 8601 (mis. 2024-03-04 atau 2024-03-04T08:25:00+07:00)")
    return value


def _day_in_range(value: dt.date) -> dt.date:
    if not EARLIEST_DAY <= value <= LATEST_DAY:
        raise ValueError(f"harus antara {EARLIEST_DAY} dan {LATEST_DAY}")
    return value


def _instant_in_range(value: dt.datetime) -> dt.datetime:
    if not _EARLIEST <= value <= _LATEST:
        raise ValueError(f"harus antara {EARLIEST_DAY} dan {LATEST_DAY} (UTC)")
    return value


Day = Annotated[dt.date, BeforeValidator(_iso_text), AfterValidator(_day_in_range)]
"""A calendar day given as ``YYYY-MM-DD``, from ``EARLIEST_DAY`` to ``LATEST_DAY``."""

Instant = Annotated[AwareDatetime, BeforeValidator(_iso_text), AfterValidator(_instant_in_range)]
"""An instant given as ISO 8601 with its zone (``Z`` or ``+07:00``), between ``EARLIEST_DAY``
and ``LATEST_DAY`` (UTC)."""
