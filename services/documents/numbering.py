"""The registers (Buku Agenda): one sequence per classification code and calendar year,
consecutive, never doubled, never skipped.

A number is taken by ``take_next`` inside the transaction that also appends the document's
``DocumentIssued``: the register's row stays locked until that transaction ends, so concurrent
finals queue for it, and a crash or a failed render before the commit gives the number back."""

import string
from dataclasses import dataclass

from infra.db import Connection

ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")
FIELDS = frozenset({"code", "seq", "unit", "year", "month"})


class BadNumberFormat(ValueError):
    """A number format names a field it cannot have, or lacks ``{seq}``."""


@dataclass(frozen=True)
class NumberFormat:
    """A number's pattern, e.g. ``{code}/{seq:04}/{unit}/{year}`` (``{month}``: Roman)."""

    pattern: str

    def check(self) -> None:
        names = {name for _, name, _, _ in string.Formatter().parse(self.pattern) if name}
        if unknown := names - FIELDS:
            raise BadNumberFormat(
                f"Format nomor {self.pattern!r} memuat kolom tak dikenal: {sorted(unknown)}."
            )
        if "seq" not in names:
            raise BadNumberFormat(f"Format nomor {self.pattern!r} tidak memuat {{seq}}.")
        self.format("000", 1, "UNIT", 2026, 1)

    def format(self, code: str, seq: int, unit: str, year: int, month: int) -> str:
        try:
            return self.pattern.format(
                code=code, seq=seq, unit=unit, year=year, month=ROMAN[month - 1]
            )
        except (ValueError, IndexError, KeyError) as error:
            raise BadNumberFormat(
                f"Format nomor {self.pattern!r} tidak dapat dipakai: {error}"
            ) from None


async def take_next(conn: Connection, schema: str, code: str, year: int) -> int:
    """The register's next sequence number, taken inside ``conn``'s transaction (whose end
    keeps it or gives it back)."""
    seq: int = await conn.fetchval(
        f"INSERT INTO {schema}.registers (code, year, last_sequence) VALUES ($1, $2, 1) "
        "ON CONFLICT (code, year) DO UPDATE "
        f"SET last_sequence = {schema}.registers.last_sequence + 1 RETURNING last_sequence",
        code,
        year,
    )
    return seq
