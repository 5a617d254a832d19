"""No escape sequence from a model, a session file, an import or a server reaches the terminal.

Each test puts hostile text where it enters the app, then looks at what the terminal would be
sent: the screen's segments hold no control character, the bytes Textual would write hold no
OSC from the text, and the text is still on screen, made visible (␛]2;PWNED…).
"""

from __future__ import annotations

import io
import json
import re

from rich.console import Console
from textual import events
from textual.widgets import Input, OptionList, TextArea
from ui_support import SIZE, PtyApp, make_app, send, wait_blocking, wait_for_screen, wait_until

from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.conversation.model import Conversation
from deepseek_tui.conversation.store import SessionStore
from deepseek_tui.simulator import Fault
from deepseek_tui.ui.screens.fim import FimScreen
from deepseek_tui.ui.screens.main import MainScreen
from deepseek_tui.ui.screens.sessions import SessionsScreen
from deepseek_tui.ui.widgets.messages import AnswerBlock, UserBubble
from deepseek_tui.ui.widgets.prompt import PromptArea
from deepseek_tui.ui.widgets.status import StatusInfo, render_status

OSC_52 = "\x1b]52;c;SGVsbG8=\x1b\\"
OSC_TITLE = "\x1b]2;PWNED\x1b\\"
HOSTILE = f"clip {OSC_52} title {OSC_TITLE} \x1b[31mred\x1b[0m bell\x07 \u202eevil"
SHOWN_TITLE = "␛]2;PWNED␛\\"
CONTROLS = {chr(c) for c in range(0x20) if chr(c) not in "\n\t"} | {"\x7f"} | {chr(c) for c in range(0x80, 0xA0)}


def terminal_output(app) -> str:
    """What Textual would write to the terminal to draw the whole screen now."""
    update = app.screen._compositor.render_full_update()
    console = Console(file=io.StringIO(), force_terminal=True, color_system="truecolor", width=SIZE[0])
    return update.render_segments(console)


def drawn_text(app) -> str:
    update = app.screen._compositor.render_full_update()
    return "\n".join("".join(segment.text for strip in line for segment in strip) for line in update.strips)


def assert_drawn_inert(app, *visible: str) -> None:
    text = drawn_text(app)
    assert not CONTROLS & set(text), sorted(CONTROLS & set(text))
    assert "\u202e" not in text
    output = terminal_output(app)
    assert "\x1b]52" not in output and "\x1b]2;" not in output and "\x07" not in output
    for part in visible:
        assert part in text, part
    assert "\x1b" not in app.export_screenshot()


async def assert_inert_once_drawn(app, *visible: str) -> None:
    """`assert_drawn_inert` once the screen draws `visible` (a screen or pane shown is drawn a
    refresh later). Drawn otherwise, say as an escape sequence, it never shows: that fails."""
    try:
        await wait_until(lambda: all(part in drawn_text(app) for part in visible))
    except AssertionError:
        pass  # assert_drawn_inert says which part is missing and what came out instead
    assert_drawn_inert(app, *visible)


def sse(delta: dict, finish: str | None = None) -> bytes:
    chunk = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1766977600,
        "model": "deepseek-flash",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


async def test_streamed_answer_and_reasoning_are_drawn_inert(simulator, tmp_path):
    answer = f"Answer {OSC_52} then {OSC_TITLE} and \x1b[1;31mred\x1b[0m."
    cut1, cut2 = answer.index("52;"), answer.index("PWNED") + 3  # escape sequences split across chunks
    chunks = [
        sse({"role": "assistant", "content": None, "reasoning_content": "think " + OSC_TITLE[:4]}),
        sse({"reasoning_content": OSC_TITLE[4:] + " more"}),
        sse({"content": answer[:cut1]}),
        sse({"content": answer[cut1:cut2]}),
        sse({"content": answer[cut2:]}, finish="stop"),
        b"data: [DONE]\n\n",
    ]
    simulator.inject(Fault.raw(chunks=chunks))
    app = make_app(simulator.url, tmp_path, chat=ChatSettings(model="deepseek-flash", thinking=True))
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "say something nasty")
        reply = app.conversation.active_path()[-1]
        assert reply.content == answer  # the conversation keeps what the model said
        await pilot.pause()
        assert_drawn_inert(app, "Answer ␛]52;c;SGVsbG8=␛\\ then " + SHOWN_TITLE + " and red.", "think " + SHOWN_TITLE)


async def test_stored_session_is_drawn_inert_everywhere(simulator, tmp_path):
    store = SessionStore(tmp_path / "data" / "sessions")
    conversation = Conversation(settings=ChatSettings(model="deepseek-flash", system_prompt=HOSTILE))
    conversation.add_user("question " + HOSTILE)
    reply = conversation.start_assistant("model" + OSC_TITLE, False)
    reply.content = "answer " + HOSTILE
    reply.reasoning = "reasoning " + HOSTILE
    conversation.finish_assistant(reply.id, status="partial", error="server said " + HOSTILE)
    conversation.rename("title " + HOSTILE)
    store.save(conversation)
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        assert app.conversation.id == conversation.id
        await assert_inert_once_drawn(
            app, "question clip ␛]52;c;SGVsbG8=␛\\", "answer clip", "server said clip", "model" + SHOWN_TITLE
        )

        await pilot.press("f2")  # the settings pane shows the system prompt
        await wait_until(lambda: bool(app.query("#setting-system_prompt")))
        await assert_inert_once_drawn(app, "clip ␛]52;c;")

        await pilot.press("ctrl+o")
        screen = await wait_for_screen(app, SessionsScreen)
        await assert_inert_once_drawn(app, "title clip ␛]52;c;")
        await pilot.press(*"PWNED")  # full-text search hits show the matching lines
        await wait_until(lambda: bool(screen.hits))
        await assert_inert_once_drawn(app, "question clip")

        await pilot.press("escape")
        await wait_for_screen(app, MainScreen)  # f8 on the picker would delete the conversation
        await pilot.press("f8")  # select the answer, then the question above it
        await wait_until(lambda: isinstance(app.focused, AnswerBlock))
        await pilot.press("up")
        await wait_until(lambda: isinstance(app.focused, UserBubble))
        await pilot.press("e")  # edit the question: its text is loaded into the prompt
        prompt = app.query_one(PromptArea)
        await wait_until(lambda: prompt.text.startswith("question clip"))
        assert prompt.text.startswith("question clip ␛]52;c;SGVsbG8=␛\\ title " + SHOWN_TITLE)
        await assert_inert_once_drawn(app, "question clip")


def test_status_line_is_inert():
    line = render_status(StatusInfo(model="m" + OSC_TITLE, balance="bal " + OSC_52, state="ready"))
    assert line.plain.startswith("m" + SHOWN_TITLE) and "bal ␛]52;c;SGVsbG8=␛\\" in line.plain
    assert not CONTROLS & set(line.plain)


async def test_server_error_message_is_drawn_inert(simulator, tmp_path):
    simulator.inject(Fault.status(400, "bad request " + HOSTILE))
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await send(app, pilot, "hello")
        await wait_until(lambda: "Request failed" in drawn_text(app))  # the notification
        toast = app.screen.query_one("Toast")
        assert "␛]52;c;SGVsbG8=␛" in toast.render_line(1).text + toast.render_line(2).text
        assert_drawn_inert(app, "bad request clip ␛]52;c;SGVsbG8=␛\\ title")  # and the note under the answer


async def test_fim_result_and_error_are_drawn_inert(simulator, tmp_path):
    body = {
        "id": "f1",
        "object": "text_completion",
        "created": 1,
        "model": "deepseek-flash",
        "choices": [{"index": 0, "text": "code " + HOSTILE, "finish_reason": "stop"}],
    }
    simulator.inject(Fault.raw(headers={"content-type": "application/json"}, chunks=[json.dumps(body).encode()]))
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+f")
        await wait_until(lambda: isinstance(app.screen, FimScreen))
        screen = app.screen
        await pilot.press("ctrl+r")
        await wait_until(lambda: screen.outcome is not None)
        await pilot.pause()
        assert screen.outcome.text == "code " + HOSTILE
        assert_drawn_inert(app, "code clip ␛]52;c;SGVsbG8=␛\\")
        simulator.inject(Fault.status(400, "fim failed " + HOSTILE))
        await pilot.press("ctrl+r")
        await wait_until(lambda: "fim failed" in drawn_text(app))
        assert_drawn_inert(app, "fim failed clip ␛]52;c;")


async def test_pasted_and_loaded_text_is_inert_in_editors(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptArea)
        prompt.focus()
        app.post_message(events.Paste("pasted " + HOSTILE))
        await pilot.pause()
        assert prompt.text == "pasted clip ␛]52;c;SGVsbG8=␛\\ title ␛]2;PWNED␛\\ red bell␇ evil"
        assert_drawn_inert(app, "pasted clip")
        await pilot.press("f9")  # the import dialog's Input
        await pilot.pause()
        field = app.screen.query_one(Input)
        field.value = "path " + OSC_TITLE
        await pilot.pause()
        assert field.value == "path " + SHOWN_TITLE
        assert_drawn_inert(app, "path " + SHOWN_TITLE)


async def test_imported_title_in_notification_is_inert(simulator, tmp_path):
    source = SessionStore(tmp_path / "elsewhere")
    conversation = Conversation(settings=ChatSettings(model="deepseek-flash"))
    conversation.add_user("imported question")
    conversation.rename("imported " + OSC_TITLE)
    path = source.export_json(conversation, tmp_path / "hostile.json")
    app = make_app(simulator.url, tmp_path, on_start="new")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("f9")
        await pilot.pause()
        app.screen.query_one(Input).value = str(path)
        await pilot.press("enter")
        await wait_until(lambda: "Imported" in drawn_text(app))
        assert_drawn_inert(app, SHOWN_TITLE)


async def test_no_option_list_or_text_area_shows_raw_controls(simulator, tmp_path):
    """The helper finds raw controls: without it the other tests could not fail."""
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await app.query_one("#chat-column").mount(TextArea("raw " + OSC_TITLE), OptionList("raw " + OSC_52))
        await pilot.pause()
        try:
            assert_drawn_inert(app)
        except AssertionError:
            return
        raise AssertionError("raw control characters were not detected")


def test_a_real_terminal_receives_no_escape_sequence_from_a_stored_session(simulator, tmp_path):
    """The bytes the app writes to its pty, with a hostile session open and its title listed."""
    data = tmp_path / "data"
    store = SessionStore(data / "deepseek-tui" / "sessions")
    conversation = Conversation(settings=ChatSettings(model="deepseek-flash"))
    conversation.add_user("question " + HOSTILE)
    reply = conversation.start_assistant("deepseek-flash", False)
    reply.content = "answer " + HOSTILE
    conversation.finish_assistant(reply.id)
    conversation.rename("title " + OSC_TITLE)
    store.save(conversation)
    app = PtyApp(
        ["-m", "deepseek_tui", "--base-url", simulator.url], {"DEEPSEEK_API_KEY": "sk-test", "XDG_DATA_HOME": str(data)}
    )
    try:
        wait_blocking(lambda: "answer clip ␛]52;c;SGVsbG8=␛\\" in app.output.decode("utf-8", "replace"))
        app.type("\x0f")  # ctrl+o: the picker lists the title
        wait_blocking(lambda: "title ␛]2;PWNED␛\\" in app.output.decode("utf-8", "replace"))
        app.type("\x1b")
        app.type("\x11")  # ctrl+q
        assert app.wait() == 0
    finally:
        app.close()
    osc_numbers = set(re.findall(rb"\x1b\](\d*)", bytes(app.output)))
    assert osc_numbers <= {b"22"}  # only Textual's own (the pointer shape), none from the text
    assert b"PWNED" in app.output
