"""The QR code of a verification URL (``services/documents/qr.py``) is segno's own symbol with
segno's own choice of mask, so the documents render to the bytes they rendered to before (the
audit compares them); its penalty score is segno's, module values 2 and 3 (the remainder bits
while the masks are scored) included."""

import io
import random
import uuid

import pytest
import segno
from segno import encoder

from services.documents.qr import penalty, qr_code, qr_svg

BASES = (
    "http://127.0.0.1:8000",
    "https://jejak.katingankab.go.id",
    "https://layanan.diskominfostandi.katingankab.go.id/aplikasi/jejak",
    "https://" + "jejak" * 30 + ".go.id",  # a long one: version 10 and its version information
)


def segno_svg(url: str) -> str:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", xmldecl=False, border=0)
    return out.getvalue().decode()


def test_the_symbol_and_its_mask_are_segnos_for_verification_urls() -> None:
    picked = random.Random(16)
    masks, versions = set(), set()
    for n in range(400):
        url = f"{BASES[n % len(BASES)]}/verifikasi/{uuid.UUID(int=picked.getrandbits(128))}"
        expected, made = segno.make(url, error="m"), qr_code(url)
        assert (made.version, made.mask, made.matrix) == (
            expected.version,
            expected.mask,
            expected.matrix,
        ), url
        masks.add(made.mask)
        versions.add(made.version)
    assert len(masks) >= 6 and len(versions) >= 3, (masks, versions)
    url = f"{BASES[0]}/verifikasi/{uuid.uuid4()}"
    assert qr_svg(url) == segno_svg(url)


@pytest.mark.parametrize("width", [21, 37, 57])
def test_the_penalty_is_segnos_on_any_matrix(width: int) -> None:
    picked = random.Random(width)
    for _ in range(60):
        weights = [picked.random() for _ in range(4)]
        matrix = tuple(
            bytearray(picked.choices(range(4), weights=weights, k=width)) for _ in range(width)
        )
        expected = sum(encoder.mask_scores(matrix, width, width))  # type: ignore[no-untyped-call]
        assert penalty([int.from_bytes(row) for row in matrix], width) == expected
