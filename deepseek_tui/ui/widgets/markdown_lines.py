"""A Markdown view that is one widget, drawn line by line, cheap to stream into.

Textual's `Markdown` makes a widget per block (a 2,000-token answer is ~400 widgets, a 20,000-token
one ~2,600) and every streamed write lays all of them out again; bench/ui.py measured 8 CPU-seconds
for a 2,000-token answer that way. Here the text is split into top-level blocks; finished blocks
are rendered once with Rich and kept as strips, and only the growing last block is rendered again.
An open code fence is rendered in chunks of lines so that a long one stays cheap; it is rendered
whole once it closes. How a block is drawn, and what of it a selection copies: markdown_render.py.

The text is drawn inert (`deepseek_tui.inert`): it comes from the model or a file, and no
escape sequence in it may reach the terminal. `source` keeps it as it was.

The mouse selects text as in Textual's `Log`: each drawn row carries the character offsets
(`Strip.apply_offsets`, done when a row is painted, cached on the row), `get_selection` returns
the text under a selection and the selected span is drawn in the screen's selection style. A
double-click selects a word, a triple-click the whole view; a click on a link asks to open it.
Streaming adds nothing per write while nothing is selected (rows get their offsets when painted,
as before they got the widget's style).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.style import Style
from textual import events
from textual.geometry import Offset, Region, Size
from textual.message import Message
from textual.selection import Selection
from textual.strip import Strip
from textual.widget import Widget

from deepseek_tui.inert import inert_text
from deepseek_tui.ui.widgets.layout_pass import OneLayoutPass
from deepseek_tui.ui.widgets.row_selection import char_at_cell, highlight, word_span

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

# markdown_it, Rich's Markdown and Pygments (~25 ms to import) load when the first text is drawn,
# not when the module is: an empty chat's first frame does not need them (issue 16: start-up).

CODE_THEME = "monokai"
FENCE_CHUNK_LINES = 40
"""Lines of an open code fence rendered (and cached) together while it streams."""

_LINE_END = re.compile(r"\r\n?|\n")


@cache
def _block_parser() -> MarkdownIt:
    """Finds the top-level blocks; inline content is left unparsed (a quarter less work per write)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable(["strikethrough", "table"]).disable(["inline", "text_join"])


@dataclass
class _Tail:
    """The last, still growing block."""

    text: str = ""
    fence_chunks: list[list[Strip]] | None = None
    """Cached renders of the finished line-chunks of an open fence."""


def split_blocks(text: str) -> list[tuple[int, int]]:
    """Line ranges [start, end) of the top-level blocks of `text`."""
    ranges = []
    for token in _block_parser().parse(text):
        if token.level == 0 and token.map is not None and token.nesting >= 0:
            ranges.append((token.map[0], token.map[1]))
    return ranges


def line_starts(text: str) -> list[int]:
    """Where each line of `text` starts, counting lines as the Markdown parser does (a lone CR
    ends a line too)."""
    return [0, *(match.end() for match in _LINE_END.finditer(text))]


def open_fence(text: str) -> tuple[str, str, str] | None:
    """(marker, info, code) when `text` is a code fence that has not closed yet."""
    first, _, rest = text.partition("\n")
    stripped = first.lstrip()
    if len(first) - len(stripped) > 3:
        return None
    for char in "`~":
        if stripped.startswith(char * 3):
            marker = stripped[: len(stripped) - len(stripped.lstrip(char))]
            for line in rest.split("\n"):
                candidate = line.strip()
                if candidate.startswith(marker) and not candidate.strip(char):
                    return None  # closed
            return marker, stripped[len(marker) :].strip(), rest
    return None


class MarkdownLines(OneLayoutPass, Widget):
    """Markdown rendered by Rich, one widget for the whole text; `append` is cheap."""

    DEFAULT_CSS = """
    MarkdownLines { height: auto; }
    """
    GROWS_AT_THE_BOTTOM = True

    def __init__(self, markdown: str = "", *, code_theme: str = CODE_THEME, **kwargs) -> None:
        super().__init__(**kwargs)
        self._code_theme = code_theme
        self._parts: list[str] = []
        self._source_cache: str | None = ""
        self._finished: list[str] = []
        """Text of the finished top-level blocks, made inert."""
        self._pending_start = 0
        """Offset in the source where the unfinished part begins."""
        self._tail = _Tail()
        self._width = 0
        self._finished_lines: list[Strip] = []
        self._finished_rendered = 0
        """How many of `_finished` are in `_finished_lines`."""
        self._tail_lines: list[Strip] = []
        self._tail_dirty = True
        self._base_style: Style | None = None
        self._selection: Selection | None = None
        self._selection_style = Style()
        if markdown:
            self.append(markdown)

    # --- text ------------------------------------------------------------------------------------

    @property
    def source(self) -> str:
        if self._source_cache is None:
            self._source_cache = "".join(self._parts)
            self._parts = [self._source_cache]
        return self._source_cache

    def append(self, text: str) -> None:
        """Add text at the end; the screen catches up at its next refresh."""
        if not text:
            return
        self._parts.append(text)
        self._source_cache = None
        self._split()
        self._tail_dirty = True
        self._changed()

    def _changed(self) -> None:
        """Repaint; lay the screen out again only when the height changed (that costs more)."""
        width = self.size.width
        if not self.is_mounted or width <= 0:
            self.refresh(layout=True)
            return
        before = self.line_count
        first_changed = len(self._finished_lines) if width == self._width else 0
        self._render_to(width)
        changed = Region(0, first_changed, width, max(self.line_count - first_changed, 1))
        self.refresh(changed, layout=self.line_count != before)

    def update(self, markdown: str) -> None:
        """Replace the whole text (a selection in it goes: its offsets meant the old text)."""
        self._clear_selection()
        self._parts, self._source_cache = [], ""
        self._finished, self._pending_start = [], 0
        self._finished_lines, self._finished_rendered = [], 0
        self._tail = _Tail()
        self._tail_lines, self._tail_dirty = [], True
        if markdown:
            self.append(markdown)
        else:
            self.refresh(layout=True)

    def _split(self) -> None:
        source = self.source
        pending = source[self._pending_start :]
        ranges = split_blocks(pending)
        if len(ranges) >= 2:
            starts = line_starts(pending)
            for start, end in ranges[:-1]:
                block = pending[starts[start] : starts[end] if end < len(starts) else len(pending)]
                self._finished.append(inert_text(block).strip("\n"))
            self._pending_start += starts[ranges[-1][0]]
            self._tail = _Tail()
        tail_text = source[self._pending_start :]
        if not tail_text.startswith(self._tail.text):
            self._tail = _Tail()
        self._tail.text = tail_text

    # --- rendering -----------------------------------------------------------------------------

    @property
    def line_count(self) -> int:
        return len(self._finished_lines) + len(self._tail_lines)

    def _render_to(self, width: int) -> None:
        if width <= 0:
            return
        if width != self._width:
            if self._selection is not None:  # its rows and offsets meant the old wrapping
                self.call_later(self._clear_selection)
            self._width = width
            self._finished_lines, self._finished_rendered = [], 0
            self._tail.fence_chunks = None
            self._tail_dirty = True
        console = self.app.console
        while self._finished_rendered < len(self._finished):
            block = self._finished[self._finished_rendered]
            rows = self._render_block(console, block, width)
            if self._finished_lines and rows:
                self._finished_lines.append(Strip.blank(width))
            self._finished_lines.extend(rows)
            self._finished_rendered += 1
        if self._tail_dirty:
            self._tail_lines = self._render_tail(console, width)
            if self._tail_lines and self._finished_lines:
                self._tail_lines.insert(0, Strip.blank(width))
            self._tail_dirty = False

    def _render_block(self, console: Console, block: str, width: int) -> list[Strip]:
        from deepseek_tui.ui.widgets.markdown_render import rich_markdown, trim_blank_rows

        return trim_blank_rows(self._draw(console, rich_markdown(block, self._code_theme), width))

    def _render_tail(self, console: Console, width: int) -> list[Strip]:
        text = inert_text(self._tail.text.strip("\n"))
        if not text.strip():
            return []
        fence = open_fence(text)
        if fence is None:
            return self._render_block(console, text, width)
        from deepseek_tui.ui.widgets.markdown_render import code_label_row

        _marker, info, code = fence
        lexer = info.split()[0] if info else "text"
        code_lines = code.split("\n")
        chunks = self._tail.fence_chunks if self._tail.fence_chunks is not None else []
        done = (len(code_lines) - 1) // FENCE_CHUNK_LINES
        while len(chunks) < done:
            start = len(chunks) * FENCE_CHUNK_LINES
            chunk = "\n".join(code_lines[start : start + FENCE_CHUNK_LINES])
            chunks.append(self._code(console, chunk, lexer, width))
        self._tail.fence_chunks = chunks
        rest = "\n".join(code_lines[done * FENCE_CHUNK_LINES :])
        lines = [Strip(code_label_row(lexer, self._code_theme, width), width)]
        lines.extend(line for chunk in chunks for line in chunk)
        lines.extend(self._code(console, rest, lexer, width))
        return lines

    def _code(self, console: Console, code: str, lexer: str, width: int) -> list[Strip]:
        """Rows of code of an open fence, drawn as the closed fence will draw them."""
        from deepseek_tui.ui.widgets.markdown_render import code_rows

        return [Strip(row, width) for row in code_rows(console, code, lexer, self._code_theme, width)]

    @staticmethod
    def _draw(console: Console, renderable: RenderableType, width: int) -> list[Strip]:
        """Rows of `renderable` at `width` (not Textual's `_render`, which this must not shadow)."""
        options = console.options.update_width(width).update(height=None)
        lines = console.render_lines(renderable, options, pad=True, new_lines=False)
        return [Strip(line, width) for line in lines]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self._render_to(width)
        return self.line_count

    def _row(self, y: int) -> Strip | None:
        """The drawn row `y` as rendered (no offsets, selection or widget style)."""
        finished = len(self._finished_lines)
        if y < finished:
            return self._finished_lines[y] if y >= 0 else None
        if y - finished < len(self._tail_lines):
            return self._tail_lines[y - finished]
        return None

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        self._render_to(width)
        strip = self._row(y)
        if strip is None:
            return Strip.blank(width, self._style())
        if self._selection is not None and (span := self._selection.get_span(y)) is not None:
            from deepseek_tui.ui.widgets.markdown_render import copied_segments

            strip = highlight(strip, span[0], span[1], self._selection_style, copied_segments(strip))
        return strip.apply_offsets(0, y).apply_style(self._style())  # offsets last: per segment

    def _style(self) -> Style:
        # Computing rich_style walks the ancestors; per line it was 14% of a streamed turn.
        if self._base_style is None:
            self._base_style = self.rich_style
        return self._base_style

    def notify_style_update(self) -> None:
        self._base_style = None
        super().notify_style_update()

    # --- selection -------------------------------------------------------------------------------

    class SelectionStarted(Message):
        """Text of this view got selected (a scrolling container stops following the stream)."""

    @dataclass
    class LinkClicked(Message):
        """A link was clicked; `url` is one that `markdown_render.safe_url` accepts."""

        view: "MarkdownLines"
        url: str

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The text under `selection`: what is drawn, without decoration (markdown_render.py)."""
        if not self.line_count:
            return None
        from deepseek_tui.ui.widgets.markdown_render import copied_text

        first = selection.start.y if selection.start is not None else 0
        last = selection.end.y if selection.end is not None else self.line_count - 1
        spans = []
        for y in range(max(first, 0), min(last, self.line_count - 1) + 1):
            span = selection.get_span(y)
            strip = self._row(y)
            if span is not None and strip is not None:
                spans.append((strip, span[0], span[1]))
        return copied_text(spans), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        before, self._selection = self._selection, selection
        if selection is not None:
            self._selection_style = self.screen.get_component_rich_style("screen--selection")
        self._refresh_selected(before)
        self._refresh_selected(selection)
        if before is None and selection is not None:
            self.post_message(self.SelectionStarted())

    def _refresh_selected(self, selection: Selection | None) -> None:
        if selection is None or not self.line_count:
            return
        first = selection.start.y if selection.start is not None else 0
        last = selection.end.y if selection.end is not None else self.line_count - 1
        self.refresh(Region(0, first, self.size.width, max(last - first + 1, 1)))

    def _clear_selection(self) -> None:
        if self.is_mounted and self in self.screen.selections:
            self.screen.selections = {w: s for w, s in self.screen.selections.items() if w is not self}

    def _cell_to_offset(self, x: int, y: int) -> Offset | None:
        strip = self._row(y)
        return None if strip is None else Offset(char_at_cell(strip.text, x), y)

    async def _on_click(self, event: events.Click) -> None:
        """A link opens on a plain click; a double-click selects a word, a triple-click all."""
        offset = event.get_content_offset(self)
        if offset is None or event.widget is not self:
            return
        if event.chain == 1:
            url = self._link_at(offset.x, offset.y)
            if url is not None and self.text_selection is None:  # after a drag, a click selects
                self.post_message(self.LinkClicked(self, url))
            return
        event.prevent_default()  # instead of Textual's: a double-click selects the whole widget
        if event.chain >= 3:
            self.text_select_all()
            return
        strip = self._row(offset.y)
        if strip is None:
            return
        span = word_span(strip.text.rstrip(), char_at_cell(strip.text, offset.x))
        if span is not None:
            start, end = span
            self.screen.selections = {self: Selection(Offset(start, offset.y), Offset(end, offset.y))}

    def _link_at(self, x: int, y: int) -> str | None:
        strip = self._row(y)
        if strip is None:
            return None
        from deepseek_tui.ui.widgets.markdown_render import safe_url

        cells = 0
        for text, style, _ in strip:
            cells += cell_len(text)
            if cells > x:
                url = style.link if style is not None else None
                return url if safe_url(url) else None
        return None


class StillWhileSelecting:
    """Mixin for a scrolling container of MarkdownLines that follows a stream (anchored): it stops
    following when text in it gets selected, so the text does not move under the mouse.
    Scrolling back to the end follows again (Textual's anchor)."""

    def on_markdown_lines_selection_started(self, event: MarkdownLines.SelectionStarted) -> None:
        event.stop()
        if self.is_anchored:  # type: ignore[attr-defined]
            self.release_anchor()  # type: ignore[attr-defined]
