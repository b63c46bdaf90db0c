"""Dates in Indonesian as an office writes them."""

import datetime as dt

import pytest

from services.documents.words import date_in_words, in_words, long_date, place_and_date


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (0, "nol"),
        (1, "satu"),
        (7, "tujuh"),
        (10, "sepuluh"),
        (11, "sebelas"),
        (12, "dua belas"),
        (19, "sembilan belas"),
        (20, "dua puluh"),
        (31, "tiga puluh satu"),
        (100, "seratus"),
        (111, "seratus sebelas"),
        (1000, "seribu"),
        (1999, "seribu sembilan ratus sembilan puluh sembilan"),
        (2026, "dua ribu dua puluh enam"),
    ],
)
def test_numbers_in_words(number: int, words: str) -> None:
    assert in_words(number) == words


def test_negative_numbers_are_refused() -> None:
    with pytest.raises(ValueError):
        in_words(-1)


def test_the_opening_of_a_berita_acara() -> None:
    assert date_in_words(dt.date(2026, 12, 7)) == (
        "Pada hari ini Senin tanggal tujuh bulan Desember tahun dua ribu dua puluh enam"
    )
    assert date_in_words(dt.date(2027, 3, 14)) == (
        "Pada hari ini Minggu tanggal empat belas bulan Maret tahun dua ribu dua puluh tujuh"
    )
    assert date_in_words(dt.date(2024, 2, 29)).startswith("Pada hari ini Kamis tanggal dua puluh")


def test_place_and_date() -> None:
    assert long_date(dt.date(2026, 1, 5)) == "5 Januari 2026"
    assert place_and_date("Kasongan", dt.date(2026, 12, 7)) == "Kasongan, 7 Desember 2026"
    months = [long_date(dt.date(2026, m, 1)).split()[1] for m in range(1, 13)]
    assert months[7] == "Agustus" and months[1] == "Februari" and len(set(months)) == 12
