"""Mouse selection on drawn rows: cells to characters, the highlight, the word under a double-click.

Textual's selection offsets count characters (`Strip.apply_offsets`), the screen counts cells;
CJK characters and most emoji take two cells, so the two differ as soon as one is on the row.
"""

from __future__ import annotations

from rich.cells import get_character_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip


def char_at_cell(text: str, cell: int) -> int:
    """Index of the character drawn at `cell` (len(text) past the end)."""
    cells = 0
    for index, character in enumerate(text):
        cells += get_character_cell_size(character)
        if cells > cell:
            return index
    return len(text)


def highlight(strip: Strip, start: int, end: int, style: Style, marked: list[bool]) -> Strip:
    """`strip` with the characters [start, end) of its `marked` segments drawn in `style` (over
    their own colours); the blank end of a row is never marked. `end` -1 is the end of the row."""
    text = strip.text
    limit = len(text.rstrip())
    end = limit if end < 0 else min(end, limit)
    if start >= end:
        return strip
    segments: list[Segment] = []
    position = 0
    for segment, mark in zip(strip, marked, strict=True):
        chars, own, control = segment
        low, high = max(start - position, 0), min(end - position, len(chars))
        position += len(chars)
        if not mark or low >= high or control:
            segments.append(segment)
            continue
        if low:
            segments.append(Segment(chars[:low], own, control))
        segments.append(Segment(chars[low:high], (own + style) if own else style, control))
        if high < len(chars):
            segments.append(Segment(chars[high:], own, control))
    return Strip(segments, strip.cell_length)


def _kind(character: str) -> int:
    if character.isalnum() or character == "_":
        return 0
    return 1 if character.isspace() else 2


def word_span(text: str, index: int) -> tuple[int, int] | None:
    """[start, end) of the word (letters, digits, _) at `index`, or of the run of spaces there;
    any other character is a span of its own."""
    if not 0 <= index < len(text):
        return None
    kind = _kind(text[index])
    if kind == 2:
        return index, index + 1
    start, end = index, index + 1
    while start > 0 and _kind(text[start - 1]) == kind:
        start -= 1
    while end < len(text) and _kind(text[end]) == kind:
        end += 1
    return start, end
