"""Selecting answer text with the mouse, copying it, and clicking links (Pilot, against the simulator)."""

from __future__ import annotations

import threading
from datetime import timedelta

from scenes import T0, answered_conversation
from textual.errors import NoWidget
from ui_support import SIZE, make_app, send, wait_reply, wait_until

from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.conversation.model import Conversation
from deepseek_tui.conversation.store import SessionStore
from deepseek_tui.simulator import Fault
from deepseek_tui.ui.widgets.markdown_lines import MarkdownLines
from deepseek_tui.ui.widgets.messages import AnswerBlock, ReasoningBlock, UserBubble


def stored_answer(tmp_path, content: str, question: str = "A question") -> None:
    """Save a finished one-exchange conversation; the app opens it on start."""
    conversation = Conversation(settings=ChatSettings(model="deepseek-flash"), created_at=T0)
    conversation.add_user(question)
    reply = conversation.start_assistant("deepseek-flash", False)
    reply.content, reply.created_at = content, T0 + timedelta(seconds=1)
    conversation.finish_assistant(reply.id, finish_reason="stop", completed_at=T0 + timedelta(seconds=2))
    SessionStore(tmp_path / "data" / "sessions").save(conversation)


def answer_view(app) -> MarkdownLines:
    return app.query(AnswerBlock).last().query_one(".answer", MarkdownLines)


async def drag(pilot, widget, start: tuple[int, int], end: tuple[int, int]) -> None:
    await pilot.mouse_down(widget, offset=start)
    await pilot.hover(widget, offset=end)
    await pilot.mouse_up(widget, offset=end)


def footer_descriptions(app) -> list[str]:
    return [key.description for key in app.screen.query("FooterKey")]


def last_note(app) -> str:
    return app.notified[-1].message


async def press_for_note(app, pilot, *keys: str) -> str:
    """Press `keys` and wait for the notification they bring (a copy reports how it went)."""
    known = len(app.notified)
    await pilot.press(*keys)
    await wait_until(lambda: len(app.notified) > known)
    return last_note(app)


def laid_out(view: MarkdownLines) -> bool:
    """The screen's layout has caught up with all the rows of `view`."""
    return view.line_count > 0 and view.region.height == view.line_count


def under_pointer(app, widget, offset: tuple[int, int]) -> bool:
    """`widget` is laid out and draws the cell at `offset` (a pointer there lands on it)."""
    x, y = widget.region.offset + offset
    if not (widget.region.contains(x, y) and app.screen.region.contains(x, y)):
        return False  # not laid out yet, or scrolled off the screen
    try:
        return app.screen.get_widget_at(x, y)[0] is widget
    except NoWidget:
        return False


async def test_drag_selects_within_an_answer_and_ctrl_c_copies_it_with_a_hint(simulator, tmp_path):
    stored_answer(tmp_path, "First paragraph with some words.\n\nSecond paragraph here.")
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        view = answer_view(app)
        await wait_until(lambda: "Quit" in footer_descriptions(app))  # the footer shows its keys
        assert "Copy selection" not in footer_descriptions(app)
        await drag(pilot, view, (6, 0), (14, 0))
        assert app.screen.get_selected_text() == "paragraph"
        await wait_until(lambda: "Copy selection" in footer_descriptions(app))  # shown while something is selected
        note = await press_for_note(app, pilot, "ctrl+c")
        assert app.clipboard == "paragraph"
        assert "the selection (9 characters)" in note

        await drag(pilot, view, (6, 0), (10, 2))  # across two paragraphs
        note = await press_for_note(app, pilot, "ctrl+c")
        assert app.clipboard == "paragraph with some words.\n\nSecond para"
        assert "the selection (39 characters)" in note

        await pilot.click(view, offset=(3, 2))  # a click clears the selection
        assert app.screen.selections == {}
        await wait_until(lambda: "Copy selection" not in footer_descriptions(app))
        note = await press_for_note(app, pilot, "ctrl+c")  # nothing selected: the app's quit hint
        assert "to quit the app" in note
        assert app.clipboard == "paragraph with some words.\n\nSecond para"  # nothing copied


async def test_a_selection_across_a_paragraph_and_a_code_block_copies_the_code_without_its_box(simulator, tmp_path):
    stored_answer(tmp_path, "Run this:\n\n```python\nx = 1\nif x:\n    print(x)\n```\n\nDone.", question="How?")
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        view = answer_view(app)
        rows = [view.render_line(y).text.rstrip() for y in range(view.line_count)]
        assert rows[:6] == ["Run this:", "", " python", " x = 1", " if x:", "     print(x)"]
        await drag(pilot, view, (0, 0), (view.size.width - 1, 5))  # to the end of the last code row
        await press_for_note(app, pilot, "ctrl+c")
        assert app.clipboard == "Run this:\n\nx = 1\nif x:\n    print(x)"

        await drag(pilot, view, (4, 4), (4, 8))  # from inside the code to the next paragraph
        assert app.screen.get_selected_text() == "x:\n    print(x)\n\nDone."

        question = app.query_one(UserBubble).query_one(".text")
        await drag(
            pilot, question, (0, 0), (view.region.x - question.region.x + 6, view.region.y - question.region.y + 3)
        )
        # from the question into the answer, the labels between included (at the end, Textual's
        # selection ends before the pointer's character when it spans several widgets)
        assert app.screen.get_selected_text() == "How?\ndeepseek-flash · chat · 1.0 s\nRun this:\n\nx = 1"


async def test_double_click_selects_a_word_and_triple_click_the_whole_answer(simulator, tmp_path):
    stored_answer(tmp_path, "Use sorted_items() here.\n\n排序算法很快。 Done")
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        view = answer_view(app)
        await pilot.double_click(view, offset=(8, 0))
        assert app.screen.get_selected_text() == "sorted_items"
        await pilot.double_click(view, offset=(5, 2))  # cell 5 is the third CJK character
        assert app.screen.get_selected_text() == "排序算法很快"
        await pilot.click(view, offset=(1, 0), times=3)
        assert app.screen.get_selected_text() == "Use sorted_items() here.\n\n排序算法很快。 Done"


async def test_wide_characters_select_by_cell_and_copy_by_character(simulator, tmp_path):
    stored_answer(tmp_path, "排序😀 sort ok")
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        view = answer_view(app)
        # cells: 排 0-1, 序 2-3, 😀 4-5, space 6, "sort" 7-10
        await drag(pilot, view, (2, 0), (5, 0))
        assert app.screen.get_selected_text() == "序😀"
        await drag(pilot, view, (2, 0), (10, 0))
        assert app.screen.get_selected_text() == "序😀 sort"
        selection_background = app.screen.get_component_rich_style("screen--selection").bgcolor
        marked = [
            cell
            for cell, style in enumerate(_cell_styles(view.render_line(0)))
            if style is not None and style.bgcolor == selection_background
        ]
        assert marked == list(range(2, 11))
        # Textual puts a pointer on the right half of a wide character after that character
        await drag(pilot, view, (3, 0), (10, 0))
        assert app.screen.get_selected_text() == "😀 sort"


def _cell_styles(strip):
    from rich.cells import cell_len

    styles = []
    for text, style, _ in strip:
        styles.extend([style] * cell_len(text))
    return styles


async def test_selecting_while_an_answer_streams_holds_the_view_and_the_selection(simulator, tmp_path):
    """The stream is held half-way; a drag selects finished text; the rest streams in below, the
    chat does not follow (the text stays under the mouse) and the selection copies the same text."""
    stored_answer(tmp_path, "\n\n".join(f"Paragraph {n}." for n in range(30)))  # the chat already scrolls
    release = threading.Event()
    simulator.inject(Fault.hold(after_chunks=60, release=release))
    app = make_app(simulator.url, tmp_path, show_reasoning=False)
    async with app.run_test(size=SIZE) as pilot:
        chat = app.query_one("#chat")
        try:
            await send(app, pilot, "Explain selection", wait=False)
            # still: the stream waits, all it sent is drawn, and the chat has followed it to the end
            await wait_until(
                lambda: (
                    simulator.held_content
                    and answer_view(app).source == simulator.held_content
                    and laid_out(answer_view(app))
                )
            )
            await wait_until(lambda: chat.max_scroll_y > 0 and chat.scroll_y == chat.max_scroll_y)
            view = answer_view(app)
            assert view.render_line(2).text.startswith("You asked:")
            visible_top = view.region.y - chat.region.y
            assert visible_top >= 0 and visible_top + 2 < chat.region.height
            await drag(pilot, view, (0, 2), (9, 2))
            assert app.screen.get_selected_text() == "You asked:"
            held_at = chat.scroll_y
        finally:
            release.set()
        await wait_reply(app, pilot)
        answer = app.conversation.active_path()[-1]
        assert answer.status == "complete" and answer_view(app).source == answer.content
        await wait_until(lambda: laid_out(answer_view(app)))
        assert chat.max_scroll_y > held_at and chat.scroll_y == held_at  # the chat stayed where it was
        assert app.screen.get_selected_text() == "You asked:"
        await press_for_note(app, pilot, "ctrl+c")
        assert app.clipboard == "You asked:"


async def test_selection_in_past_reasoning_and_in_the_reasoning_pane(simulator, tmp_path):
    SessionStore(tmp_path / "data" / "sessions").save(answered_conversation())
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        pane_text = app.query_one("#reasoning-text", MarkdownLines)
        await drag(pilot, pane_text, (4, 0), (13, 0))
        assert app.screen.get_selected_text() == "user wants"
        await press_for_note(app, pilot, "ctrl+c")
        assert app.clipboard == "user wants"

        block = app.query_one(ReasoningBlock)
        block.collapsed = False
        await wait_until(lambda: bool(block.query(MarkdownLines)))
        past = block.query_one(MarkdownLines)
        past.scroll_visible(animate=False)
        await wait_until(lambda: under_pointer(app, past, (0, 0)) and under_pointer(app, past, (2, 1)))
        await drag(pilot, past, (0, 0), (2, 1))
        text = app.screen.get_selected_text()
        assert text.startswith("The user wants binary search.") and "\n" not in text  # one wrapped line


async def test_clicking_a_link_opens_it_in_the_browser_only_for_safe_urls(simulator, tmp_path):
    stored_answer(tmp_path, "See [the guide](https://docs.example.org/guide) or [a file](notes/a.md).")
    app = make_app(simulator.url, tmp_path)
    opened: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        app.open_url = lambda url, **_: opened.append(url)
        await pilot.pause()
        view = answer_view(app)
        assert view.render_line(0).text.startswith("See the guide or a file.")
        await pilot.click(view, offset=(1, 0))  # "See" is no link
        await pilot.click(view, offset=(20, 0))  # "a file": a relative link is drawn as plain text
        await pilot.click(view, offset=(6, 0))
        await wait_until(lambda: any(note.message.startswith("Opening") for note in app.notified))
        # clicks are handled in order: the first two, had they opened anything, would be in `opened` first
        assert opened == ["https://docs.example.org/guide"]
        assert last_note(app) == "Opening https://docs.example.org/guide"


async def test_a_bare_url_in_a_streamed_answer_is_a_link(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path)
    opened: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        app.open_url = lambda url, **_: opened.append(url)
        await send(app, pilot, "Read https://example.org/guide?x=1 please")
        view = answer_view(app)
        row = next(y for y in range(view.line_count) if "https://example.org" in view.render_line(y).text)
        column = view.render_line(row).text.index("https://example.org")
        links = {style.link for _, style, _ in view.render_line(row) if style is not None and style.link}
        assert links == {"https://example.org/guide?x=1"}
        await pilot.click(view, offset=(column + 3, row))
        await wait_until(lambda: bool(opened))
        assert opened == ["https://example.org/guide?x=1"]
