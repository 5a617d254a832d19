"""Mouse selection on drawn rows: cells to characters, the highlight, the word under a double-click.

Textual's selection offsets count characters (`Strip.apply_offsets`), the screen counts cells;
CJK characters and most emoji take two cells, so the two differ as soon as one is on the row.
"""

from __future__ import annotations

from rich.cells import cell_len, get_character_cell_size
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


def highlight(strip: Strip, start: int, end: int, style: Style) -> Strip:
    """`strip` with the characters [start, end) drawn in `style` (over their own colours); the
    highlight stops where the row's text ends, so the blank rest of a row stays unmarked."""
    text = strip.text
    end = len(text.rstrip()) if end < 0 else min(end, len(text.rstrip()))
    if start >= end:
        return strip
    first = cell_len(text[:start])
    last = first + cell_len(text[start:end])
    before, middle, after = strip.divide([first, last, strip.cell_length])
    marked = Strip(
        [Segment(chars, (own + style) if own else style, control) for chars, own, control in middle],
        middle.cell_length,
    )
    return Strip.join([before, marked, after])


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
