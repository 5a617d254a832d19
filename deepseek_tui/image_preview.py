"""A small preview of a PNG image, decoded with zlib and struct only (no Textual, no Pillow).

Only for showing an attached image as a few rows of half-block characters: the pixels of the
image, sampled down to at most `width` × `height`. PNG only (non-interlaced, every colour type and
bit depth); JPEG, WebP and GIF would each need a decoder of their own, so they are shown by name.
Images whose decoded pixels would exceed MAX_DECODED_BYTES are shown by name too: pure-Python
unfiltering costs about a second per 10 MB on a slow machine.

Filtered rows are undone with whole-row integer arithmetic where the filter allows it ("None",
"Sub", "Up"); "Average" and "Paeth" go byte by byte.
"""

from __future__ import annotations

import functools
import struct
import zlib
from dataclasses import dataclass

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_DECODED_BYTES = 24 * 1024 * 1024

Pixel = tuple[int, int, int] | None
"""An RGB colour, or None where the image is (mostly) transparent."""


@dataclass(frozen=True)
class Preview:
    width: int
    height: int
    """The size of the sampled grid (pixels)."""
    image_width: int
    image_height: int
    rows: tuple[tuple[Pixel, ...], ...]


class PreviewUnavailable(Exception):
    """The image cannot be previewed; the message says why (for a tooltip, not an error)."""


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG header, without decoding."""
    if not data.startswith(PNG_SIGNATURE) or len(data) < 24 or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


@functools.lru_cache(maxsize=32)
def png_preview(data: bytes, width: int, height: int) -> Preview:
    """The image sampled into at most `width` × `height` pixels, keeping its aspect ratio."""
    header, idat, palette, transparency = _chunks(data)
    image_width, image_height, depth, colour, interlace = header
    if interlace:
        raise PreviewUnavailable("interlaced PNG")
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(colour)
    if channels is None or depth not in (1, 2, 4, 8, 16):
        raise PreviewUnavailable("unknown PNG colour type")
    bits = channels * depth
    stride = (image_width * bits + 7) // 8
    if stride * image_height > MAX_DECODED_BYTES:
        raise PreviewUnavailable("too large to preview")
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error:
        raise PreviewUnavailable("damaged PNG data") from None
    if len(raw) < (stride + 1) * image_height:
        raise PreviewUnavailable("truncated PNG data")
    scale = max(image_width / width, image_height / height, 1.0)
    out_width, out_height = max(1, round(image_width / scale)), max(1, round(image_height / scale))
    wanted_rows = {min(image_height - 1, int((y + 0.5) * image_height / out_height)): y for y in range(out_height)}
    columns = [min(image_width - 1, int((x + 0.5) * image_width / out_width)) for x in range(out_width)]
    bpp = max(1, bits // 8)
    previous = bytes(stride)
    sampled: dict[int, tuple[Pixel, ...]] = {}
    for y in range(image_height):
        start = y * (stride + 1)
        row = _unfilter(raw[start], raw[start + 1 : start + 1 + stride], previous, bpp)
        if y in wanted_rows:
            sampled[wanted_rows[y]] = tuple(
                _pixel(row, x, colour, depth, channels, palette, transparency) for x in columns
            )
        previous = row
    return Preview(out_width, out_height, image_width, image_height, tuple(sampled[y] for y in range(out_height)))


def _chunks(data: bytes) -> tuple[tuple[int, int, int, int, int], list[bytes], bytes, bytes]:
    if not data.startswith(PNG_SIGNATURE):
        raise PreviewUnavailable("not a PNG")
    position, header, idat, palette, transparency = len(PNG_SIGNATURE), None, [], b"", b""
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IHDR" and len(body) >= 13:
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body[:13])
            header = (width, height, depth, colour, interlace)
        elif kind == b"PLTE":
            palette = body
        elif kind == b"tRNS":
            transparency = body
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None or not idat or header[0] == 0 or header[1] == 0:
        raise PreviewUnavailable("damaged PNG")
    return header, idat, palette, transparency


def _unfilter(kind: int, line: bytes, previous: bytes, bpp: int) -> bytes:
    if kind == 0:
        return line
    if kind == 2:
        return _add_bytes(line, previous)
    if kind == 1:
        return _prefix_sum(line, bpp)
    out = bytearray(line)
    n = len(out)
    if kind == 3:
        for i in range(n):
            left = out[i - bpp] if i >= bpp else 0
            out[i] = (out[i] + ((left + previous[i]) >> 1)) & 0xFF
    elif kind == 4:
        for i in range(n):
            a = out[i - bpp] if i >= bpp else 0
            b = previous[i]
            c = previous[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            out[i] = (out[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
    else:
        raise PreviewUnavailable("unknown PNG filter")
    return bytes(out)


def _masks(n: int) -> tuple[int, int]:
    return int.from_bytes(b"\x7f" * n, "big"), int.from_bytes(b"\x80" * n, "big")


def _add_bytes(a: bytes, b: bytes) -> bytes:
    """Byte-wise (a + b) mod 256 over whole rows at once (no carries between bytes)."""
    n = len(a)
    low, high = _masks(n)
    x, y = int.from_bytes(a, "big"), int.from_bytes(b, "big")
    return (((x & low) + (y & low)) ^ ((x ^ y) & high)).to_bytes(n, "big")


def _prefix_sum(line: bytes, bpp: int) -> bytes:
    """The "Sub" filter undone: each byte plus the one `bpp` before it, running, mod 256."""
    n = len(line)
    low, high = _masks(n)
    value, shift = int.from_bytes(line, "big"), bpp
    while shift < n:
        shifted = value >> (8 * shift)
        value = ((value & low) + (shifted & low)) ^ ((value ^ shifted) & high)
        shift *= 2
    return value.to_bytes(n, "big")


def _pixel(row: bytes, x: int, colour: int, depth: int, channels: int, palette: bytes, transparency: bytes) -> Pixel:
    if depth < 8:
        per_byte = 8 // depth
        byte = row[x // per_byte]
        value = (byte >> (8 - depth * (x % per_byte + 1))) & ((1 << depth) - 1)
        if colour == 3:
            return _palette_colour(value, palette, transparency)
        grey = value * 255 // ((1 << depth) - 1)
        return (grey, grey, grey)
    size = depth // 8
    offset = x * channels * size
    samples = [row[offset + i * size] for i in range(channels)]  # the high byte of 16-bit samples
    if colour == 3:
        return _palette_colour(samples[0], palette, transparency)
    if colour == 0:
        return (samples[0],) * 3
    if colour == 2:
        return (samples[0], samples[1], samples[2])
    if colour == 4:
        return None if samples[1] < 128 else (samples[0],) * 3
    return None if samples[3] < 128 else (samples[0], samples[1], samples[2])


def _palette_colour(index: int, palette: bytes, transparency: bytes) -> Pixel:
    if index < len(transparency) and transparency[index] < 128:
        return None
    if 3 * index + 3 > len(palette):
        return (0, 0, 0)
    return (palette[3 * index], palette[3 * index + 1], palette[3 * index + 2])
