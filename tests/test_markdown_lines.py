"""MarkdownLines: block splitting, open fences, and streamed text drawn like text given at once."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from ui_support import wait_until

from deepseek_tui.ui.widgets.markdown_lines import FENCE_CHUNK_LINES, MarkdownLines, open_fence, split_blocks

DOCUMENT = """## Title

A paragraph with **bold** and `code`.

- one
- two

```python
def f(x):
    return x * 2
```

| a | b |
|---|---|
| 1 | 2 |

Last line."""


def test_split_blocks_gives_top_level_line_ranges():
    assert split_blocks("para one\n\npara two\n\n- a\n- b\n") == [(0, 1), (2, 3), (4, 6)]


def test_open_fence_detection():
    assert open_fence("```python\nx = 1\n") == ("```", "python", "x = 1\n")
    assert open_fence("```python\nx = 1\n```") is None
    assert open_fence("~~~~\ncode\n~~~\n") == ("~~~~", "", "code\n~~~\n")  # a shorter marker does not close
    assert open_fence("plain text") is None


class Viewer(App[None]):
    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield MarkdownLines(id="streamed")
            yield MarkdownLines(DOCUMENT, id="whole")


def plain_lines(view: MarkdownLines) -> list[str]:
    return [view.render_line(y).text.rstrip() for y in range(view.line_count)]


async def test_streamed_text_renders_like_whole_text():
    app = Viewer()
    async with app.run_test(size=(80, 60)) as pilot:
        streamed = app.query_one("#streamed", MarkdownLines)
        for start in range(0, len(DOCUMENT), 7):
            streamed.append(DOCUMENT[start : start + 7])
            if start % 70 == 0:
                await pilot.pause()
        await pilot.pause()
        whole = app.query_one("#whole", MarkdownLines)
        assert streamed.source == DOCUMENT
        assert plain_lines(streamed) == plain_lines(whole)
        text = "\n".join(plain_lines(whole))
        for expected in ("Title", "bold", "• one", "def f(x):", "Last line."):
            assert expected in text


async def test_long_open_fence_is_drawn_in_chunks_and_whole_once_closed():
    app = Viewer()
    code_lines = [f"value_{i} = {i}" for i in range(FENCE_CHUNK_LINES * 3 + 5)]
    async with app.run_test(size=(80, 40)) as pilot:
        view = app.query_one("#streamed", MarkdownLines)
        view.append("```python\n")
        for line in code_lines:
            view.append(line + "\n")
        await pilot.pause()
        drawn = "\n".join(plain_lines(view))
        assert f"value_{len(code_lines) - 1}" in drawn and "value_0 = 0" in drawn
        assert view._tail.fence_chunks is not None and len(view._tail.fence_chunks) == 3
        view.append("```\n\nafter")
        await pilot.pause()
        assert "after" in "\n".join(plain_lines(view)) and view._tail.fence_chunks is None


async def test_update_replaces_text():
    app = Viewer()
    async with app.run_test(size=(80, 40)) as pilot:
        view = app.query_one("#whole", MarkdownLines)
        view.update("just this")
        await pilot.pause()
        assert view.source == "just this" and plain_lines(view) == ["just this"]


def test_one_layout_pass_overrides_textuals_size_hook_as_it_is_today():
    """OneLayoutPass overrides a private Textual method; a Textual that changes it must fail here."""
    import inspect

    from textual.widget import Widget

    from deepseek_tui.ui.widgets.layout_pass import OneLayoutPass

    theirs = list(inspect.signature(Widget._size_updated).parameters)
    ours = list(inspect.signature(OneLayoutPass._size_updated).parameters)
    assert theirs == ours == ["self", "size", "virtual_size", "container_size", "layout"]


class StreamedInMessage(App[None]):
    """The streamed view inside a message container, as in the chat (both repaint only new rows)."""

    def compose(self) -> ComposeResult:
        from deepseek_tui.ui.widgets.messages import MessageView

        with VerticalScroll():
            with MessageView():
                yield MarkdownLines(id="streamed")
            yield MarkdownLines(DOCUMENT, id="whole")


def painted_lines(view: MarkdownLines) -> list[str]:
    """What the screen gets for the view: lines through Textual's per-widget line cache."""
    return [strip.text.rstrip() for strip in view.render_lines(view.size.region)]


async def test_rows_cached_from_earlier_frames_match_the_text_after_each_write():
    """Growing at the bottom repaints only changed and new rows; no row may keep stale text."""
    app = StreamedInMessage()
    async with app.run_test(size=(80, 80)) as pilot:
        streamed = app.query_one("#streamed", MarkdownLines)
        for start in range(0, len(DOCUMENT), 11):
            streamed.append(DOCUMENT[start : start + 11])
            await pilot.pause()
            assert painted_lines(streamed) == plain_lines(streamed)
        assert painted_lines(streamed) == painted_lines(app.query_one("#whole", MarkdownLines))


HOSTILE_DOCUMENT = (
    "Intro \x1b]2;PWNED\x1b\\ with \x1b[1;31mcolour\x1b[0m.\r\n\r\n"
    "A lone\rcarriage return.\n\n"
    "```sh\necho \x1b]52;c;SGVsbG8=\x07\n```\n\nLast line."
)


async def test_control_characters_are_drawn_inert_and_a_lone_cr_loses_no_text():
    app = Viewer()
    async with app.run_test(size=(80, 40)) as pilot:
        whole = app.query_one("#whole", MarkdownLines)
        whole.update(HOSTILE_DOCUMENT)
        streamed = app.query_one("#streamed", MarkdownLines)
        for start in range(0, len(HOSTILE_DOCUMENT), 3):  # sequences cut between writes
            streamed.append(HOSTILE_DOCUMENT[start : start + 3])
            await pilot.pause()
        await pilot.pause()
        assert streamed.source == HOSTILE_DOCUMENT  # the text is kept as it came
        drawn = "\n".join(plain_lines(whole))
        assert plain_lines(streamed) == plain_lines(whole)
        assert "Intro ␛]2;PWNED␛\\ with colour." in drawn
        assert "A lone␍carriage return." in drawn
        assert "echo ␛]52;c;SGVsbG8=␇" in drawn and "Last line." in drawn
        segments = "".join(
            s.text for view in (whole, streamed) for y in range(view.line_count) for s in view.render_line(y)
        )
        assert not any(ord(c) < 0x20 and c not in "\n\t" for c in segments)


# --- layout: one blank row between blocks, as GitHub or glow lay an answer out ------------------

MARKDOWN_SET = """# Sorting, explained

Sorting puts items in **order**; `sorted()` returns a new list.

## Kinds of sort

1. Comparison sorts
   - quicksort
   - merge sort
2. Counting sorts

### In Python

```python
numbers = [3, 1, 2]
print(sorted(numbers))
```

> Timsort is stable.
>
> — Tim Peters

| algorithm | stable |
|-----------|:------:|
| quicksort | no |
| merge sort | yes |

---

排序算法把元素按顺序排列。😀

The end."""

MARKDOWN_SET_ROWS = [
    "Sorting, explained",
    "",
    "Sorting puts items in order; sorted() returns a new list.",
    "",
    "Kinds of sort",
    "",
    " 1. Comparison sorts",
    "     • quicksort",
    "     • merge sort",
    " 2. Counting sorts",
    "",
    "In Python",
    "",
    " python",
    " numbers = [3, 1, 2]",
    " print(sorted(numbers))",
    "",  # the code box's last row (drawn in the box's background)
    "",
    "▌ Timsort is stable.",
    "▌",
    "▌ — Tim Peters",
    "",
    " algorithm   stable",
    " ──────────────────",
    " quicksort     no",
    " merge sort   yes",
    "",
    "─" * 70,
    "",
    "排序算法把元素按顺序排列。😀",
    "",
    "The end.",
]


class Narrow(App[None]):
    def __init__(self, markdown: str, width: int = 70) -> None:
        super().__init__()
        self._markdown, self._width = markdown, width

    def compose(self) -> ComposeResult:
        yield MarkdownLines(self._markdown, id="view")

    def on_mount(self) -> None:
        self.query_one("#view").styles.width = self._width


async def test_blocks_are_separated_by_one_blank_row_headings_left_code_labelled():
    """Rich puts blank rows around lists, tables and rules and we added one more between blocks:
    headings were followed by two or three blank rows, tables and rules by two."""
    app = Narrow(MARKDOWN_SET)
    async with app.run_test(size=(80, 60)) as pilot:
        await pilot.pause()
        assert plain_lines(app.query_one("#view", MarkdownLines)) == MARKDOWN_SET_ROWS


async def test_no_block_starts_or_ends_with_blank_rows_and_no_blank_row_is_doubled():
    documents = [
        MARKDOWN_SET,
        "- a\n- b\n\n| x |\n|---|\n| 1 |\n\n***\n\n> q\n\n    indented code\n\nend",
        "## H\n- item\n\n```\nno language\n```",
    ]
    app = Narrow("")
    async with app.run_test(size=(80, 60)) as pilot:
        view = app.query_one("#view", MarkdownLines)
        for document in documents:
            view.update(document)
            await pilot.pause()
            rows = plain_lines(view)
            assert rows[0] and (rows[-1] or _in_code_box(view, len(rows) - 1))
            doubled = [
                y
                for y in range(1, len(rows))
                if not rows[y] and not rows[y - 1] and not _in_code_box(view, y) and not _in_code_box(view, y - 1)
            ]
            assert doubled == [], (document, rows)


def _in_code_box(view: MarkdownLines, y: int) -> bool:
    return any(style is not None and style.bgcolor is not None for _, style, _ in view.render_line(y))


async def test_an_open_fence_is_drawn_as_the_closed_one_label_first():
    app = Viewer()
    async with app.run_test(size=(80, 40)) as pilot:
        streamed = app.query_one("#streamed", MarkdownLines)
        streamed.append("Intro.\n\n```rust\nfn main() {}\n")
        await pilot.pause()
        open_rows = plain_lines(streamed)
        assert open_rows == ["Intro.", "", " rust", " fn main() {}"]
        streamed.append("```\n")
        await pilot.pause()
        assert plain_lines(streamed) == open_rows + [""]  # the box's last row, once it closes


# --- copying what a selection covers -------------------------------------------------------------


def copied(view: MarkdownLines, selection=None) -> str:
    from textual.selection import SELECT_ALL

    text, _ending = view.get_selection(selection or SELECT_ALL)
    return text


async def test_copy_gives_code_without_its_box_and_prose_without_decoration():
    app = Narrow(MARKDOWN_SET)
    async with app.run_test(size=(80, 60)) as pilot:
        await pilot.pause()
        text = copied(app.query_one("#view", MarkdownLines))
        assert "In Python\n\nnumbers = [3, 1, 2]\nprint(sorted(numbers))\n\nTimsort is stable.\n\n— Tim Peters" in text
        assert "\npython\n" not in text and "▌" not in text
        assert " 1. Comparison sorts\n     • quicksort" in text
        assert text.endswith(" merge sort   yes\n\n---\n\n排序算法把元素按顺序排列。😀\n\nThe end.")


async def test_wrapped_lines_copy_as_the_one_line_they_are():
    long_code = "values = [" + ", ".join(str(n) for n in range(30)) + "]"
    markdown = (
        "A paragraph long enough to wrap over several rows of a narrow view, it goes on.\n\n"
        "- an item that is also long enough to wrap in the narrow view\n\n"
        f"```python\n{long_code}\n    indented  twice\n```\n\n"
        "漢字の長い文章は空白がないので途中で折り返されるけれど一行としてコピーされる。"
    )
    app = Narrow(markdown, width=30)
    async with app.run_test(size=(80, 60)) as pilot:
        await pilot.pause()
        view = app.query_one("#view", MarkdownLines)
        assert view.line_count > 12  # everything wrapped
        assert copied(view) == (
            "A paragraph long enough to wrap over several rows of a narrow view, it goes on.\n\n"
            " • an item that is also long enough to wrap in the narrow view\n\n"
            f"{long_code}\n    indented  twice\n\n"
            "漢字の長い文章は空白がないので途中で折り返されるけれど一行としてコピーされる。"
        )


async def test_a_selection_inside_rows_counts_characters_not_cells():
    from textual.geometry import Offset
    from textual.selection import Selection

    app = Narrow("排序😀 sort\n\nsecond 段落")
    async with app.run_test(size=(80, 20)) as pilot:
        await pilot.pause()
        view = app.query_one("#view", MarkdownLines)
        assert copied(view, Selection(Offset(1, 0), Offset(3, 0))) == "序😀"
        assert copied(view, Selection(Offset(1, 0), Offset(5, 0))) == "序😀 s"
        assert copied(view, Selection(Offset(3, 0), Offset(8, 2))) == " sort\n\nsecond 段"


# --- links ---------------------------------------------------------------------------------------


def links_of(view: MarkdownLines) -> list[str]:
    return [
        style.link
        for y in range(view.line_count)
        for _, style, _ in view.render_line(y)
        if style is not None and style.link
    ]


async def test_links_and_bare_urls_keep_their_hyperlink_and_unsafe_ones_are_plain_text():
    markdown = (
        "See [the docs](https://docs.example.org/a) and https://bare.example.org/x?y=1, "
        "mail mailto:me@example.org, not [this](javascript:alert(1)), ftp://old.example.org, "
        "[rel](docs/file.md), setup.py, www.example.org or me@example.org."
    )
    app = Narrow(markdown)
    async with app.run_test(size=(80, 20)) as pilot:
        await pilot.pause()
        view = app.query_one("#view", MarkdownLines)
        assert sorted(set(links_of(view))) == [
            "https://bare.example.org/x?y=1",
            "https://docs.example.org/a",
            "mailto:me@example.org",
        ]
        terminal_output = "".join(view.render_line(y).render(app.console) for y in range(view.line_count))
        assert "\x1b]8;id=" in terminal_output and ";https://docs.example.org/a\x1b\\" in terminal_output  # OSC 8
        # markdown-it leaves a javascript: link unparsed; the others are drawn as plain text
        assert "[this](javascript:alert(1)), ftp://old.example.org, rel, setup.py" in " ".join(plain_lines(view))


def test_safe_url_allows_http_https_and_mailto_only():
    from deepseek_tui.ui.widgets.markdown_render import safe_url

    assert safe_url("https://example.org") and safe_url("http://x.org/a?b#c") and safe_url("mailto:a@b.org")
    for url in (
        "javascript:alert(1)",
        "file:///etc/passwd",
        "data:text/html,x",
        "ftp://x.org",
        "//x.org",
        "docs/a.md",
        "https://",
        "mailto:",
        "",
        None,
        "http://[::1",
    ):
        assert not safe_url(url), url


async def test_a_selection_goes_when_the_text_is_replaced_or_wraps_anew():
    """Its offsets count rows and characters of the text as it was drawn."""
    app = Narrow("one two three four five six seven eight nine ten", width=60)
    async with app.run_test(size=(80, 20)) as pilot:
        await pilot.pause()
        view = app.query_one("#view", MarkdownLines)
        view.text_select_all()
        await pilot.pause()
        assert app.screen.get_selected_text() == "one two three four five six seven eight nine ten"
        view.styles.width = 20
        await wait_until(lambda: view.line_count > 1)  # wrapped anew at the next layout
        await wait_until(lambda: app.screen.selections == {})
        view.text_select_all()
        await pilot.pause()
        view.update("other text")
        await pilot.pause()
        assert app.screen.selections == {}
