"""A tiny PNG encoder for tests (zlib and struct only): 8-bit RGB, each row with a chosen filter."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Sequence

Colour = tuple[int, int, int]
SIGNATURE = b"\x89PNG\r\n\x1a\n"


def gradient(x: int, y: int) -> Colour:
    return ((x * 37) % 256, (y * 53) % 256, ((x + y) * 11) % 256)


def png_bytes(
    width: int, height: int, colour: Callable[[int, int], Colour] = gradient, filters: Sequence[int] = (0,)
) -> bytes:
    """An RGB PNG; row y is filtered with `filters[y % len(filters)]` (0 None … 4 Paeth)."""
    rows = [bytes(c for x in range(width) for c in colour(x, y)) for y in range(height)]
    previous = bytes(3 * width)
    raw = bytearray()
    for y, row in enumerate(rows):
        kind = filters[y % len(filters)]
        raw.append(kind)
        raw += _filter(kind, row, previous, 3)
        previous = row
    return (
        SIGNATURE
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + _chunk(b"IDAT", zlib.compress(bytes(raw)))
        + _chunk(b"IEND", b"")
    )


def _filter(kind: int, row: bytes, previous: bytes, bpp: int) -> bytes:
    out = bytearray()
    for i, value in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b = previous[i]
        c = previous[i - bpp] if i >= bpp else 0
        if kind == 0:
            predictor = 0
        elif kind == 1:
            predictor = a
        elif kind == 2:
            predictor = b
        elif kind == 3:
            predictor = (a + b) // 2
        else:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            predictor = a if pa <= pb and pa <= pc else b if pb <= pc else c
        out.append((value - predictor) % 256)
    return bytes(out)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
