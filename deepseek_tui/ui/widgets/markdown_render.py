"""How one block of an answer's Markdown is drawn, and which of what is drawn gets copied.

Rich's Markdown lays out a whole document; MarkdownLines draws an answer block by block and puts
exactly one blank row between blocks (as GitHub or glow do), so a block's rows are trimmed of the
blank rows Rich puts around lists, tables and rules (`trim_blank_rows`). Changed from Rich:
headings are left-aligned, numbered items read "1.", a code block is a box whose top row names
its language, a block quote keeps the blank line between its paragraphs, a rule is one row.

Copy marks: the mouse selection copies the text under it as drawn, minus decoration. Segments
carry Rich meta under `COPY` ("pad": decoration inside a row, such as a code box's margins or a
quote's bar; "skip": a row that is all decoration, such as a code box's label row; "rule": a
horizontal rule, copied as "---"; "code": code, copied as is, not right-stripped) and, on a row that continues a wrapped line, `JOIN`: the text
that joins it to the row above ("" or " "), so a wrapped paragraph or code line copies as one line.

Links: only http, https and mailto URLs become links (others are shown as plain text); bare URLs
are linked when they start with one of those schemes ("setup.py" or "www.x.org" stay text).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import cast
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token
from pygments.lexer import Lexer  # type: ignore[import-untyped]
from pygments.lexers import get_lexer_by_name  # type: ignore[import-untyped]
from pygments.token import Comment  # type: ignore[import-untyped]
from pygments.util import ClassNotFound  # type: ignore[import-untyped]
from rich.cells import cell_len, get_character_cell_size
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.markdown import BlockQuote, CodeBlock, Heading, HorizontalRule, ListItem, Paragraph
from rich.markdown import Markdown as RichMarkdown
from rich.segment import Segment
from rich.style import Style
from rich.syntax import Syntax, SyntaxTheme
from rich.text import Text
from textual.strip import Strip

COPY = "dsk.copy"
JOIN = "dsk.join"
PAD = Style.from_meta({COPY: "pad"})
SKIP = Style.from_meta({COPY: "skip"})
RULE = Style.from_meta({COPY: "rule"})
CODE = Style.from_meta({COPY: "code"})
CODE_CONTINUED = Style.from_meta({COPY: "code", JOIN: ""})
CONTINUED_AFTER_SPACE = Style.from_meta({JOIN: " "})
CONTINUED = Style.from_meta({JOIN: ""})

LINK_SCHEMES = frozenset({"http", "https", "mailto"})
TAB_SIZE = 4
_NEW_LINE = Segment.line()


def safe_url(url: str | None) -> bool:
    """True for the URLs a click may open: http(s) with a host, or mailto."""
    if not url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    if scheme not in LINK_SCHEMES:
        return False
    return bool(parts.netloc) if scheme != "mailto" else bool(parts.path)


# --- parsing ---------------------------------------------------------------------------------------


def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"linkify": True}).enable(["strikethrough", "table"])
    if parser.linkify is not None:  # linkify-it-py comes with Textual (markdown-it-py[linkify])
        parser.enable("linkify")
        parser.linkify.set({"fuzzy_link": False, "fuzzy_email": False})
    return parser


PARSER = _parser()


def parse(text: str) -> list[Token]:
    """markdown-it tokens of `text`, with every link that is not `safe_url` turned into plain text."""
    tokens = PARSER.parse(text)
    for token in tokens:
        if token.type == "inline" and token.children:
            token.children = _safe_inline(token.children)
    return tokens


def _safe_inline(children: list[Token]) -> list[Token]:
    kept: list[Token] = []
    dropping = False
    for child in children:
        if child.type == "link_open" and not safe_url(str(child.attrs.get("href", ""))):
            dropping = True
            continue
        if child.type == "link_close" and dropping:
            dropping = False
            continue
        if child.type == "image" and not safe_url(str(child.attrs.get("src", ""))):
            child.attrs["src"] = ""
        kept.append(child)
    return kept


# --- elements ----------------------------------------------------------------------------------------


def wrapped_rows(text: Text, console: Console, width: int) -> RenderResult:
    """`text` wrapped to `width`, the rows after the first of each line marked as continuing it."""
    for line in text.split("\n", allow_blank=True):
        rows = line.wrap(console, width, justify="default", overflow="fold")
        joins = _wrap_joins(line.plain, [row.plain for row in rows])
        for index, row in enumerate(rows):
            if index:
                row.stylize(CONTINUED_AFTER_SPACE if joins[index - 1] else CONTINUED)
            yield from row.render(console)
            yield _NEW_LINE


def _wrap_joins(plain: str, rows: list[str]) -> list[bool]:
    """For each row after the first: was the line broken at white space (True) or inside a word?"""
    joins: list[bool] = []
    position = 0
    for index, row in enumerate(rows):
        if index:
            start = position
            while position < len(plain) and plain[position].isspace() and not plain.startswith(row, position):
                position += 1
            joins.append(position > start or rows[index - 1][-1:].isspace())
        position += len(row)
    return joins


class _Paragraph(Paragraph):
    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from wrapped_rows(self.text, console, options.max_width)


class _Heading(Heading):
    """Left-aligned at every level (Rich centres the first level)."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from wrapped_rows(self.text, console, options.max_width)


class _CodeBlock(CodeBlock):
    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        rows = [code_label_row(self.lexer_name, self.theme, width)]
        rows += code_rows(console, str(self.text).rstrip(), self.lexer_name, self.theme, width)
        rows.append(code_end_row(self.theme, width))
        for row in rows:
            yield from row
            yield _NEW_LINE


class _BlockQuote(BlockQuote):
    """The bar is decoration (not copied); paragraphs keep a (barred) blank row between them."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        render_options = options.update(width=max(options.max_width - 2, 1))
        bar, blank_bar = Segment("▌ ", self.style + PAD), Segment("▌", self.style + PAD)
        for index, element in enumerate(cast("Iterable[RenderableType]", self.elements)):
            if index:
                yield blank_bar
                yield _NEW_LINE
            for line in console.render_lines(element, render_options, style=self.style):
                yield bar
                yield from line
                yield _NEW_LINE


class _Rule(HorizontalRule):
    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        style = console.get_style("markdown.hr", default="none") + RULE
        yield Segment("─" * options.max_width, style)
        yield _NEW_LINE


class _ListItem(ListItem):
    def render_number(self, console: Console, options: ConsoleOptions, number: int, last_number: int) -> RenderResult:
        """ "1." as most renderers write it (Rich writes "1")."""
        number_width = len(str(last_number)) + 3
        lines = console.render_lines(
            self.elements, options.update(width=options.max_width - number_width), style=self.style
        )
        number_style = console.get_style("markdown.item.number", default="none")
        numeral = Segment(f"{number}.".rjust(number_width - 1) + " ", number_style)
        padding = Segment(" " * number_width, number_style)
        for index, line in enumerate(lines):
            yield padding if index else numeral
            yield from line
            yield _NEW_LINE


class AnswerMarkdown(RichMarkdown):
    """Rich's Markdown with the elements above."""

    elements = {
        **RichMarkdown.elements,
        "paragraph_open": _Paragraph,
        "heading_open": _Heading,
        "fence": _CodeBlock,
        "code_block": _CodeBlock,
        "blockquote_open": _BlockQuote,
        "hr": _Rule,
        "list_item_open": _ListItem,
    }


_TEMPLATE = dict(vars(AnswerMarkdown("")))
_TEMPLATE_FITS = set(_TEMPLATE) == {
    "markup",
    "parsed",
    "code_theme",
    "justify",
    "style",
    "hyperlinks",
    "inline_code_lexer",
    "inline_code_theme",
}
"""False with a Rich whose Markdown has other attributes: then build it the plain (slower) way."""


def rich_markdown(text: str, code_theme: str) -> RichMarkdown:
    """The renderable of one block, parsed with the shared parser (Rich builds a parser per
    instance, 2 ms each time)."""
    if _TEMPLATE_FITS:
        markdown = AnswerMarkdown.__new__(AnswerMarkdown)
        vars(markdown).update(_TEMPLATE)
    else:
        markdown = AnswerMarkdown(text, code_theme=code_theme)
    markdown.markup, markdown.parsed = text, parse(text)
    markdown.code_theme = markdown.inline_code_theme = code_theme
    return markdown


# --- code boxes --------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _theme(name: str) -> SyntaxTheme:
    return Syntax.get_theme(name)


@lru_cache(maxsize=32)
def _lexer(name: str) -> Lexer:
    try:
        return get_lexer_by_name(name, stripnl=False, ensurenl=True, tabsize=TAB_SIZE)
    except ClassNotFound:
        return get_lexer_by_name("text", stripnl=False, ensurenl=True, tabsize=TAB_SIZE)


def code_label_row(lexer_name: str, theme: str, width: int) -> list[Segment]:
    """The box's top row: its language, if the fence named one."""
    syntax_theme = _theme(theme)
    background = syntax_theme.get_background_style()
    label = "" if lexer_name in ("", "text") else lexer_name
    label = label[: max(width - 2, 0)]
    label_style = background + syntax_theme.get_style_for_token(Comment) + SKIP
    fill = max(width - 1 - cell_len(label), 0)
    return [Segment(" " + label, label_style), Segment(" " * fill, background + SKIP)]


def code_end_row(theme: str, width: int) -> list[Segment]:
    return [Segment(" " * width, _theme(theme).get_background_style() + SKIP)]


def code_rows(console: Console, code: str, lexer_name: str, theme: str, width: int) -> list[list[Segment]]:
    """The highlighted code lines, one column of margin each side, long lines folded."""
    syntax_theme = _theme(theme)
    background = syntax_theme.get_background_style()
    margin = Segment(" ", background + PAD)
    code_width = max(width - 2, 1)
    code = code.expandtabs(TAB_SIZE)
    if code.endswith("\n"):
        code = code[:-1]
    text = Syntax(code, _lexer(lexer_name or "text"), theme=syntax_theme).highlight(code)
    lines = text.split("\n", allow_blank=True)[: code.count("\n") + 1]
    rows: list[list[Segment]] = []
    for line in lines:
        plain = line.plain
        pieces = [line] if cell_len(plain) <= code_width else line.divide(_fold_offsets(plain, code_width))
        for index, piece in enumerate(pieces):
            mark = CODE_CONTINUED if index else CODE
            row = [margin]
            row += [Segment(text, style + mark if style else mark) for text, style, _ in piece.render(console)]
            row.append(Segment(" " * max(width - 1 - cell_len(piece.plain), 0), background + PAD))
            rows.append(row)
    return rows


def _fold_offsets(plain: str, width: int) -> list[int]:
    offsets, cells = [], 0
    for index, character in enumerate(plain):
        size = get_character_cell_size(character)
        if cells + size > width and cells:
            offsets.append(index)
            cells = 0
        cells += size
    return offsets


# --- rows ----------------------------------------------------------------------------------------


def is_blank_row(strip: Strip) -> bool:
    """A row with nothing drawn on it (no text, no background)."""
    return not strip.text.strip() and not any(style is not None and style.bgcolor is not None for _, style, _ in strip)


def trim_blank_rows(rows: list[Strip]) -> list[Strip]:
    start, end = 0, len(rows)
    while start < end and is_blank_row(rows[start]):
        start += 1
    while end > start and is_blank_row(rows[end - 1]):
        end -= 1
    return rows[start:end] if (start, end) != (0, len(rows)) else rows


def _copy_plan(strip: Strip) -> tuple[list[bool], str, bool] | None:
    """(which segments are copied, the joiner to the row above, verbatim) of a drawn row, or
    None for a row of decoration."""
    metas = [style.meta if style is not None and style._meta else {} for _, style, _ in strip]
    kinds = {meta.get(COPY) for meta in metas}
    if "skip" in kinds:
        return None
    joiner = next((meta[JOIN] for meta in metas if JOIN in meta), None)
    wanted = [meta.get(COPY) != "pad" and (joiner is None or JOIN in meta) for meta in metas]
    return wanted, ("\n" if joiner is None else joiner), "code" in kinds


def copied_segments(strip: Strip) -> list[bool]:
    """Which segments of a drawn row a selection copies (and so shows as selected)."""
    plan = _copy_plan(strip)
    return plan[0] if plan is not None else [False] * len(strip)


def copied_row(strip: Strip, start: int, end: int) -> tuple[str, str] | None:
    """(text, joiner) that the characters [start, end) of a drawn row copy as, or None for a row
    of decoration. `joiner` goes between it and the row above: a line break, or "" / " " for a
    row that continues a wrapped line. `end` -1 is the end of the row."""
    plan = _copy_plan(strip)
    if plan is None:
        return None
    wanted, joiner, verbatim = plan
    if any(style is not None and style._meta and style.meta.get(COPY) == "rule" for _, style, _ in strip):
        return "---", joiner
    pieces: list[str] = []
    position = 0
    for (text, _, _), keep in zip(strip, wanted, strict=True):
        length = len(text)
        if keep:
            low, high = max(start - position, 0), (length if end < 0 else min(end - position, length))
            if low < high:
                pieces.append(text[low:high])
        position += length
    text = "".join(pieces)
    return (text if verbatim else text.rstrip()), joiner


def copied_text(rows: Iterable[tuple[Strip, int, int]]) -> str:
    """The text that spans of consecutive rows copy as (see `copied_row`)."""
    parts: list[str] = []
    for strip, start, end in rows:
        copied = copied_row(strip, start, end)
        if copied is None:
            continue
        text, joiner = copied
        if parts:
            parts.append(joiner)
        parts.append(text)
    return "".join(parts)
