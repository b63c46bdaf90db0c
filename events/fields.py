"""Constrained field types shared by the event payloads.

Each is an ``Annotated`` string with its limits; the description is given where the field is used.
Values are validated, never rewritten: a field with stray surrounding whitespace is refused, not
trimmed, so that what is stored is exactly what was sent.
"""

from typing import Annotated

from pydantic import StringConstraints

_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"
_LINE = r"^\S(?:.*\S)?$"  # one line, no surrounding whitespace
_NOT_BLANK = r"\S"

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

DocumentNumber = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=_LINE)]
"""An official document number, e.g. ``555/012/DISKOMINFOSTANDI/II/2024``."""

Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=_LINE)]
"""A one-line name or title."""

Line = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=_LINE)]
"""A one-line item of a list: a feature, a finding, a reason."""

Text = Annotated[str, StringConstraints(min_length=1, max_length=10_000, pattern=_NOT_BLANK)]
"""Free text, possibly several paragraphs, not blank."""

Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
"""A SHA-256 digest in lower-case hex."""

Nip = Annotated[str, StringConstraints(pattern=r"^[0-9]{18}$")]
"""Nomor Induk Pegawai: the 18-digit Indonesian civil-servant number."""

MAX_LIST = 200
"""The longest list any payload accepts."""
