"""A Markdown view that is one widget, drawn line by line, cheap to stream into.

Textual's `Markdown` makes a widget per block (a 2,000-token answer is ~400 widgets, a 20,000-token
one ~2,600) and every streamed write lays all of them out again; bench/ui.py measured 8 CPU-seconds
for a 2,000-token answer that way. Here the text is split into top-level blocks; finished blocks
are rendered once with Rich and kept as strips, and only the growing last block is rendered again.
An open code fence is rendered in chunks of lines so that a long one stays cheap; it is rendered
whole once it closes.

The text is drawn inert (`deepseek_tui.inert`): it comes from the model or a file, and no
escape sequence in it may reach the terminal. `source` keeps it as it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from rich.console import Console, RenderableType
from rich.markdown import Markdown as RichMarkdown
from rich.style import Style
from rich.syntax import Syntax
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from deepseek_tui.inert import inert_text
from deepseek_tui.ui.widgets.layout_pass import OneLayoutPass

CODE_THEME = "monokai"
FENCE_CHUNK_LINES = 40
"""Lines of an open code fence rendered (and cached) together while it streams."""

_LINE_END = re.compile(r"\r\n?|\n")
_PARSER = MarkdownIt("commonmark").enable("strikethrough").enable("table")
_RICH_PARSER = MarkdownIt().enable("strikethrough").enable("table")
"""The parser Rich's Markdown builds for itself on every instance (2 ms each time)."""


_TEMPLATE = dict(vars(RichMarkdown("", code_theme=CODE_THEME)))
_SHARED_PARSER_FITS = set(_TEMPLATE) == {
    "markup", "parsed", "code_theme", "justify", "style", "hyperlinks", "inline_code_lexer", "inline_code_theme",
}
"""False with a Rich whose Markdown has other attributes: then build it the plain (slower) way."""


def rich_markdown(text: str, code_theme: str) -> RichMarkdown:
    """Rich's Markdown renderable, parsed with a shared parser instead of a new one per block."""
    if not _SHARED_PARSER_FITS:
        return RichMarkdown(text, code_theme=code_theme)
    markdown = RichMarkdown.__new__(RichMarkdown)
    vars(markdown).update(_TEMPLATE)
    markdown.markup, markdown.parsed = text, _RICH_PARSER.parse(text)
    markdown.code_theme = markdown.inline_code_theme = code_theme
    return markdown


@dataclass
class _Tail:
    """The last, still growing block."""

    text: str = ""
    fence_chunks: list[list[Strip]] | None = None
    """Cached renders of the finished line-chunks of an open fence."""


def split_blocks(text: str) -> list[tuple[int, int]]:
    """Line ranges [start, end) of the top-level blocks of `text`."""
    ranges = []
    for token in _PARSER.parse(text):
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
            return marker, stripped[len(marker):].strip(), rest
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
        """Replace the whole text."""
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
        pending = source[self._pending_start:]
        ranges = split_blocks(pending)
        if len(ranges) >= 2:
            starts = line_starts(pending)
            for start, end in ranges[:-1]:
                block = pending[starts[start]:starts[end] if end < len(starts) else len(pending)]
                self._finished.append(inert_text(block).strip("\n"))
            self._pending_start += starts[ranges[-1][0]]
            self._tail = _Tail()
        tail_text = source[self._pending_start:]
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
            self._width = width
            self._finished_lines, self._finished_rendered = [], 0
            self._tail.fence_chunks = None
            self._tail_dirty = True
        console = self.app.console
        while self._finished_rendered < len(self._finished):
            block = self._finished[self._finished_rendered]
            if self._finished_lines:
                self._finished_lines.append(Strip.blank(width))
            self._finished_lines.extend(self._render(console, rich_markdown(block, self._code_theme), width))
            self._finished_rendered += 1
        if self._tail_dirty:
            self._tail_lines = self._render_tail(console, width)
            if self._tail_lines and self._finished_lines:
                self._tail_lines.insert(0, Strip.blank(width))
            self._tail_dirty = False

    def _render_tail(self, console: Console, width: int) -> list[Strip]:
        text = inert_text(self._tail.text.strip("\n"))
        if not text.strip():
            return []
        fence = open_fence(text)
        if fence is None:
            return self._render(console, rich_markdown(text, self._code_theme), width)
        _marker, info, code = fence
        lexer = info.split()[0] if info else "text"
        code_lines = code.split("\n")
        chunks = self._tail.fence_chunks if self._tail.fence_chunks is not None else []
        done = (len(code_lines) - 1) // FENCE_CHUNK_LINES
        while len(chunks) < done:
            start = len(chunks) * FENCE_CHUNK_LINES
            chunk = "\n".join(code_lines[start:start + FENCE_CHUNK_LINES])
            chunks.append(self._render(console, self._syntax(chunk, lexer), width))
        self._tail.fence_chunks = chunks
        rest = "\n".join(code_lines[done * FENCE_CHUNK_LINES:])
        lines = [line for chunk in chunks for line in chunk]
        lines.extend(self._render(console, self._syntax(rest, lexer), width))
        return lines

    def _syntax(self, code: str, lexer: str) -> Syntax:
        return Syntax(code, lexer, theme=self._code_theme, word_wrap=True, padding=(0, 1))

    @staticmethod
    def _render(console: Console, renderable: RenderableType, width: int) -> list[Strip]:
        options = console.options.update_width(width).update(height=None)
        lines = console.render_lines(renderable, options, pad=True, new_lines=False)
        return [Strip(line, width) for line in lines]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self._render_to(width)
        return self.line_count

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        self._render_to(width)
        finished = len(self._finished_lines)
        if y < finished:
            strip = self._finished_lines[y]
        elif y - finished < len(self._tail_lines):
            strip = self._tail_lines[y - finished]
        else:
            return Strip.blank(width, self._style())
        return strip.apply_style(self._style())

    def _style(self) -> Style:
        # Computing rich_style walks the ancestors; per line it was 14% of a streamed turn.
        if self._base_style is None:
            self._base_style = self.rich_style
        return self._base_style

    def notify_style_update(self) -> None:
        self._base_style = None
        super().notify_style_update()

