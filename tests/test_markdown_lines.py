"""MarkdownLines: block splitting, open fences, and streamed text drawn like text given at once."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll

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
            streamed.append(DOCUMENT[start:start + 7])
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
            streamed.append(DOCUMENT[start:start + 11])
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
            streamed.append(HOSTILE_DOCUMENT[start:start + 3])
            await pilot.pause()
        await pilot.pause()
        assert streamed.source == HOSTILE_DOCUMENT  # the text is kept as it came
        drawn = "\n".join(plain_lines(whole))
        assert plain_lines(streamed) == plain_lines(whole)
        assert "Intro ␛]2;PWNED␛\\ with colour." in drawn
        assert "A lone␍carriage return." in drawn
        assert "echo ␛]52;c;SGVsbG8=␇" in drawn and "Last line." in drawn
        segments = "".join(s.text for view in (whole, streamed) for y in range(view.line_count) for s in view.render_line(y))
        assert not any(ord(c) < 0x20 and c not in "\n\t" for c in segments)
