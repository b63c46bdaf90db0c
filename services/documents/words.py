"""Dates as an Indonesian office writes them: ``7 Desember 2026`` and, opening a Berita Acara,
``Pada hari ini Senin tanggal tujuh bulan Desember tahun dua ribu dua puluh enam``. Numbers in
words come from ``num2words`` (its ``id`` language)."""

import datetime as dt

from num2words import num2words

MONTHS = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)
DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
"""Monday first, as ``date.weekday()`` counts."""


def in_words(number: int) -> str:
    """``2026`` -> ``dua ribu dua puluh enam``."""
    if number < 0:
        raise ValueError("only numbers from zero up have words here")
    words: str = num2words(number, lang="id")
    return words


def long_date(day: dt.date) -> str:
    """``7 Desember 2026``."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def place_and_date(place: str, day: dt.date) -> str:
    """``Kasongan, 7 Desember 2026``."""
    return f"{place}, {long_date(day)}"


def day_name(day: dt.date) -> str:
    return DAYS[day.weekday()]


def date_in_words(day: dt.date) -> str:
    """The opening of a Berita Acara: ``Pada hari ini Senin tanggal tujuh bulan Desember tahun
    dua ribu dua puluh enam``."""
    return (
        f"Pada hari ini {day_name(day)} tanggal {in_words(day.day)} "
        f"bulan {MONTHS[day.month - 1]} tahun {in_words(day.year)}"
    )
