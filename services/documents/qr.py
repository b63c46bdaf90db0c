"""The QR code of a verification URL as segno makes it, with segno's choice of mask made faster.

segno (``segno.make``) picks the best of the eight data masks by applying each and scoring the
result (ISO/IEC 18004 penalty rules N1–N4) module by module in pure Python: about 5 of the
7 ms a QR code took (``docs/benchmarks.md``, documents). Here the same symbol is made once with
mask 0, the other seven are derived from it (the data modules XOR the masks' patterns), and each
is scored with the same rules, exactly as ``segno.encoder.mask_scores`` counts them, but on all
rows and columns at once (one integer of a byte per module: bit operations, ``bytes.find``);
segno then makes the symbol with the mask chosen: 3.9 ms instead of 6.5. The mask, hence the
image and the PDF's bytes, is the one segno chooses itself (``tests/unit/test_documents_qr.py``
compares them): a different mask would change the re-rendering of every document issued
before, which the audit compares.

It uses segno's encoder module (the function patterns of a version, the mask functions): segno
is pinned in ``pyproject.toml``."""

import io
from functools import cache

import segno
from segno import encoder

ERROR = "m"
SEPARATOR = b"\x08"
"""Between two rows or columns scored at once: equal to no module."""
FINDER_LIKE = bytes((1, 0, 1, 1, 1, 0, 1))
"""Dark, light, three dark, light, dark (N3)."""


@cache
def _layout(version: int) -> tuple[int, list[int], list[int], list[list[int]]]:
    """For a symbol ``version``: its width; per row, the function modules as they stand while
    the masks are scored (finder, alignment and timing patterns; format areas still light)
    with the data modules zeroed, as an integer of one byte per module; per row, 3 in each
    data module's byte; and per mask, per row, its pattern over the data modules."""
    width = encoder.calc_matrix_size(version)  # type: ignore[no-untyped-call]
    function = encoder.make_matrix(width, width)  # type: ignore[no-untyped-call]
    encoder.add_finder_patterns(function, width, width)  # type: ignore[no-untyped-call]
    encoder.add_alignment_patterns(function, width, width)  # type: ignore[no-untyped-call]
    data = [bytes(3 if m > 1 else 0 for m in row) for row in function]
    fixed = [bytes(0 if m > 1 else m for m in row) for row in function]
    patterns = [
        [
            int.from_bytes(bytes(int(d > 0 and mask(i, j)) for j, d in enumerate(data[i])))
            for i in range(width)
        ]
        for mask in encoder.get_data_mask_functions(False)  # type: ignore[no-untyped-call]
    ]
    return (
        width,
        [int.from_bytes(row) for row in fixed],
        [int.from_bytes(row) for row in data],
        patterns,
    )


def _n3(lines: bytes, width: int) -> int:
    """``segno.encoder.mask_scores``'s N3 of every row and column (``lines``: each ``width``
    modules and a separator), counted as it counts it line by line."""
    count, stride = 0, width + 1
    at = lines.find(FINDER_LIKE)
    while at != -1:
        start = at - at % stride
        line, idx = lines[start : start + width], at - start
        offset = idx + 7
        if (
            idx in (0, width - 7)
            or not any(line[max(idx - 4, 0) : min(idx, width)])
            or not any(line[max(offset, 0) : min(offset + 4, width)])
        ):
            count += 40
        else:
            offset = idx + 4
        at = lines.find(FINDER_LIKE, start + offset)
    return count


@cache
def _marks(width: int) -> tuple[int, int]:
    """For ``penalty``'s lines of a ``width`` symbol (a separator, then each row and each
    column followed by a separator): 1 in every byte; and 1 in the bytes of the rows' modules
    that have a module above and one to the left (the corners of N2's blocks)."""
    stride = width + 1
    size = 2 * width * stride
    corners = bytearray(size)
    for i in range(1, width):
        for j in range(1, width):
            corners[1 + i * stride + j] = 1
    return int.from_bytes(b"\x01" * size), int.from_bytes(corners)


def _same(u: int, v: int, ones: int) -> int:
    """1 in each byte where ``u`` and ``v`` hold the same value (values 0 to 3, and 8, the
    separator, which equals none of them)."""
    differ = u ^ v
    return ones ^ ((differ | differ >> 1 | differ >> 2 | differ >> 3) & ones)


def penalty(rows: list[int], width: int) -> int:
    """The penalty score (N1 + N2 + N3 + N4) of a symbol given as one integer per row (a byte
    per module, its value as segno holds it while scoring: 0 light, 1 dark, 2 or 3 the
    remainder modules), as ``segno.encoder.evaluate_mask`` scores it. Every row and column is
    scored at once, as one integer of bytes (the separators keep runs and patterns apart)."""
    rows_bytes = [row.to_bytes(width) for row in rows]
    columns = [bytes(column) for column in zip(*rows_bytes, strict=True)]
    lines = SEPARATOR.join((*rows_bytes, *columns))
    ones, corners = _marks(width)
    modules = int.from_bytes(SEPARATOR + lines)
    # N1: a run of n >= 5 equal modules scores n - 2: its n - 4 windows of five, and 2
    repeated = _same(modules, modules >> 8, ones)
    windows = repeated & repeated >> 8 & repeated >> 16 & repeated >> 24
    score = windows.bit_count() + 2 * (windows & ~(windows << 8)).bit_count()
    # N2: 3 for each 2 x 2 block of one colour (overlapping ones too)
    above = modules >> 8 * (width + 1)
    blocks = repeated & _same(modules >> 8, above, ones) & _same(above, above >> 8, ones)
    score += 3 * (blocks & corners).bit_count()
    # N3, N4
    score += _n3(lines, width)
    dark = b"".join(rows_bytes)
    darkness = dark.count(1) + 2 * dark.count(2) + 3 * dark.count(3)
    percent = float(darkness) / (width**2)
    return score + 10 * int(abs(percent * 100 - 50) / 5)


def qr_code(url: str) -> segno.QRCode:
    """``segno.make(url, error="m")``: the same symbol, the same mask."""
    first = segno.make(url, error=ERROR, mask=0)
    if first.is_micro:
        return segno.make(url, error=ERROR)
    width, fixed, data, patterns = _layout(first.version)
    unmasked = [
        (int.from_bytes(row) & cells) ^ pattern
        for row, cells, pattern in zip(first.matrix, data, patterns[0], strict=True)
    ]
    scores = [
        penalty([f | (u ^ p) for f, u, p in zip(fixed, unmasked, mask, strict=True)], width)
        for mask in patterns
    ]
    best = scores.index(min(scores))
    return first if best == 0 else segno.make(url, error=ERROR, mask=best)


def qr_svg(url: str) -> str:
    """The QR code of ``url`` as SVG (no XML declaration), for a template's ``image``."""
    out = io.BytesIO()
    qr_code(url).save(out, kind="svg", xmldecl=False, border=0)
    return out.getvalue().decode()
