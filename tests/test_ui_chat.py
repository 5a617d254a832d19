"""Pilot tests of the chat screen against the local simulator over a real socket."""

from __future__ import annotations

import os
import stat

import pytest
from rich.cells import cell_len
from textual import events
from ui_support import SIZE, make_app, reply, send, wait_for_screen, wait_reply, wait_until

from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.conversation.store import SessionStore
from deepseek_tui.simulator import Fault
from deepseek_tui.ui.screens.help import HelpScreen
from deepseek_tui.ui.screens.key import KeyScreen
from deepseek_tui.ui.widgets.chat_view import MOUNT_WINDOW
from deepseek_tui.ui.widgets.markdown_lines import MarkdownLines
from deepseek_tui.ui.widgets.messages import AnswerBlock, UserBubble
from deepseek_tui.ui.widgets.prompt import PromptArea
from deepseek_tui.ui.widgets.reasoning import ReasoningPane
from deepseek_tui.ui.widgets.settings import SettingRow, SettingsPane
from deepseek_tui.ui.widgets.status import StatusLine


def chat_bodies(simulator) -> list[dict]:
    return [r.body for r in simulator.requests if r.path.endswith("/chat/completions")]


def answer_markdown(app) -> str:
    return app.query(AnswerBlock).last().query_one(".answer", MarkdownLines).source


async def test_send_streams_answer_into_conversation_and_screen(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "Tell me about tables")
        path = app.conversation.active_path()
        assert [m.role for m in path] == ["user", "assistant"]
        answer = path[-1]
        assert answer.status == "complete" and answer.finish_reason == "stop"
        assert "Tell me about tables" in chat_bodies(simulator)[-1]["messages"][-1]["content"]
        assert answer.content and answer_markdown(app) == answer.content
        assert answer.usage is not None and answer.cost is not None
        assert "deepseek-flash" in str(app.query(AnswerBlock).last().query_one(".meta").render())
        assert app.query_one(PromptArea).text == ""


async def test_second_turn_sends_history(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "first question")
        await send(app, pilot, "second question")
        messages = chat_bodies(simulator)[-1]["messages"]
        assert [m["role"] for m in messages] == ["user", "assistant", "user"]
        assert messages[1]["content"] == app.conversation.active_path()[1].content


async def test_ctrl_t_toggles_v4_thinking_for_next_request(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path, chat=ChatSettings(model="deepseek-v4-pro"))
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "plain")
        await pilot.press("ctrl+t")
        await send(app, pilot, "think now")
        first, second = chat_bodies(simulator)[-2:]
        assert first["thinking"] == {"type": "disabled"}
        assert second["thinking"] == {"type": "enabled"}
        assert second["model"] == "deepseek-v4-pro"
        assert app.conversation.active_path()[-1].reasoning
        assert "reasoner" in str(app.query_one(StatusLine).render())


async def test_reasoning_streams_into_pane_and_is_kept_per_message(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path, chat=ChatSettings(model="deepseek-flash", thinking=True))
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "why is the sky blue")
        answer = app.conversation.active_path()[-1]
        assert answer.reasoning and answer.reasoning_seconds is not None
        pane = app.query_one(ReasoningPane)
        assert pane.text == answer.reasoning
        assert pane.query_one("#reasoning-text", MarkdownLines).source == answer.reasoning
        block = app.query(AnswerBlock).last()
        assert block.query("ReasoningBlock")  # collapsed "Thought for N s"


async def test_the_reasoning_pane_shows_its_hint_only_while_there_is_no_reasoning(simulator, tmp_path):
    """The hint is plain styled text, not Markdown (issue 16: start-up): shown in an empty chat,
    gone once reasoning streams, back in a new chat."""
    app = make_app(simulator.url, tmp_path, chat=ChatSettings(model="deepseek-flash", thinking=True))
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(ReasoningPane)
        hint, text = pane.query_one("#reasoning-hint"), pane.query_one("#reasoning-text", MarkdownLines)
        assert hint.display and "thinking streams here" in str(hint.render())
        assert text.source == ""
        await send(app, pilot, "why is the sky blue")
        assert not hint.display
        assert text.source == app.conversation.active_path()[-1].reasoning
        await app.action_new_conversation()
        await pilot.pause()
        assert hint.display and text.source == ""


async def test_a_chat_mode_answer_does_not_show_an_older_answers_thinking(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path, chat=ChatSettings(model="deepseek-flash", thinking=True))
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "think first")
        pane = app.query_one(ReasoningPane)
        assert pane.text == app.conversation.active_path()[-1].reasoning != ""
        await pilot.press("ctrl+t")
        await send(app, pilot, "now chat")
        assert pane.text == ""
        assert "chat mode" in str(pane.query_one("#reasoning-title").render())


@pytest.mark.parametrize("size", [SIZE, (80, 24)])
async def test_the_chat_mode_reasoning_title_fits_the_pane(simulator, tmp_path, size):
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=size) as pilot:
        await send(app, pilot, "chat")
        title = app.query_one(ReasoningPane).query_one("#reasoning-title")
        await wait_until(lambda: "chat mode" in str(title.render()))
        assert cell_len(str(title.render())) <= title.content_region.width


async def test_an_answer_label_that_wraps_keeps_numbers_with_their_units(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:  # a chat column of ~46 cells
        await send(app, pilot, "a label of two lines")
        answer = app.conversation.active_path()[-1]
        seconds = f"{(answer.completed_at - answer.created_at).total_seconds():.1f}"
        meta = app.query(AnswerBlock).last().query_one(".meta")
        await wait_until(lambda: meta.size.height > 1)
        lines = str(meta.render()).splitlines()
        assert len(lines) == meta.size.height and all(cell_len(line) <= meta.size.width for line in lines)
        assert any(f"{seconds}\u00a0s" in line for line in lines), lines


def test_a_label_wraps_at_plain_spaces_only():
    from deepseek_tui.ui.widgets.label_line import wrap_label

    label = "deepseek-flash · chat · in 12 · out 3 · 10.5\u00a0s"
    assert wrap_label(label, 46) == [label]
    assert wrap_label(label, 44) == ["deepseek-flash · chat · in 12 · out 3 ·", "10.5\u00a0s"]
    assert wrap_label("abcdefgh", 3) == ["abc", "def", "gh"]  # a word longer than a line is cut


async def test_reasoning_pane_hidden_renders_nothing_until_shown(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path, chat=ChatSettings(model="deepseek-flash", thinking=True))
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(ReasoningPane)
        await pilot.press("f3")
        await wait_until(lambda: not pane.display)
        await send(app, pilot, "think hidden")
        assert pane.query_one("#reasoning-text", MarkdownLines).source == ""
        await pilot.press("f3")
        # Shown, the pane renders what it collected: that happens when Textual sends it Show.
        reasoning = app.conversation.active_path()[-1].reasoning
        await wait_until(lambda: pane.query_one("#reasoning-text", MarkdownLines).source == reasoning)


async def test_escape_cancels_and_keeps_partial_answer_on_disk(simulator, tmp_path):
    import threading

    release = threading.Event()  # the answer stops half-way until the test is done: Esc comes first
    simulator.inject(Fault.hold(after_chunks=40, release=release))
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        try:
            await send(app, pilot, "a long answer please", wait=False)
            await wait_until(lambda: app.progress is not None and app.progress.content_chars > 20)
            await pilot.press("escape")
            await wait_reply(app, pilot)
        finally:
            release.set()
        answer = app.conversation.active_path()[-1]
        assert answer.status == "cancelled"
        assert answer.content and answer_markdown(app) == answer.content
        meta = str(app.query(AnswerBlock).last().query_one(".meta").render())
        assert "cancelled" in meta
        assert "≈ in " in meta and "≈$" in meta  # usage never came: an estimate, marked
        assert "Σ ≈$" in str(app.query_one(StatusLine).render())
        stored = SessionStore(tmp_path / "data" / "sessions").load(app.conversation.id)
        assert stored.active_path()[-1].content == answer.content
        assert stored.active_path()[-1].usage_estimated and stored.active_path()[-1].cost == answer.cost


async def test_dropped_stream_keeps_partial_and_notifies(simulator, tmp_path):
    simulator.inject(Fault.drop(after_chunks=6))
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "drop me")
        answer = app.conversation.active_path()[-1]
        assert answer.status == "partial" and answer.content
        assert answer_markdown(app) == answer.content
        assert any("interrupted" in (n.title or "").lower() for n in app.notified)


async def test_server_error_after_retries_is_notified_and_prompt_kept_in_history(simulator, tmp_path):
    for _ in range(3):
        simulator.inject(Fault.status(503))
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "are you there")
        path = app.conversation.active_path()
        assert path[0].content == "are you there"
        assert path[-1].status == "failed"
        messages = [n.message for n in app.notified]
        assert any("503" in m or "overloaded" in m.lower() for m in messages)


async def test_retry_is_announced_then_succeeds(simulator, tmp_path):
    simulator.inject(Fault.status(429))
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "retry me")
        assert app.conversation.active_path()[-1].status == "complete"
        assert any((n.title or "") == "Retrying" for n in app.notified)


async def test_402_says_top_up(simulator, tmp_path):
    simulator.inject(Fault.status(402))
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: bool(app.account.balance_text))
        await send(app, pilot, "no money")
        assert any("top up" in (n.title or "").lower() for n in app.notified)
        assert any("Balance: ¥110.00." in n.message for n in app.notified)  # not "Balance: bal ¥…"


async def test_401_opens_key_screen(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path, api_key="sk-wrong-key")
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "hello")
        await pilot.pause()
        assert isinstance(app.screen, KeyScreen)
        assert "sk-wrong-key" not in " ".join(n.message for n in app.notified)


async def test_first_run_key_screen_validates_and_saves_with_mode_0600(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path, api_key=None)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(app, KeyScreen)
        await pilot.click("#key-input")
        await pilot.press(*"sk-bad")
        await pilot.press("enter")

        def asked_again() -> bool:  # a new key screen, once it is there, says why
            screen = app.screen
            return (
                isinstance(screen, KeyScreen)
                and screen.is_mounted
                and "rejected" in str(screen.query_one("#key-error").render())
            )

        await wait_until(asked_again)
        app.screen.query_one("#key-input").value = "sk-test"
        await pilot.press("enter")
        await wait_until(lambda: app.client is not None and not isinstance(app.screen, KeyScreen))
        config_file = tmp_path / "config.toml"
        assert 'api_key = "sk-test"' in config_file.read_text()
        assert stat.S_IMODE(os.stat(config_file).st_mode) == 0o600
        await send(app, pilot, "now it works")
        assert app.conversation.active_path()[-1].status == "complete"


async def test_settings_pane_changes_next_request_and_marks_inert(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path, chat=ChatSettings(model="deepseek-flash"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        await wait_until(lambda: bool(app.query(SettingsPane)) and app.query_one(SettingsPane).is_mounted)
        pane = app.query_one(SettingsPane)
        assert pane.display
        pane.query_one("#setting-temperature").value = "0.0"
        pane.query_one("#setting-max_tokens").value = "500"
        # Each edit reaches the app as a message; the request is built from what it has applied.
        await wait_until(
            lambda: (app.conversation.settings.temperature, app.conversation.settings.max_tokens) == (0.0, 500)
        )
        await send(app, pilot, "code please")
        body = chat_bodies(simulator)[-1]
        assert body["temperature"] == 0.0 and body["max_tokens"] == 500
        assert not app.query_one("#row-temperature", SettingRow).has_class("-inert")
        await pilot.press("ctrl+t")  # thinking: temperature is ignored by the API
        await pilot.pause()
        assert app.query_one("#row-temperature", SettingRow).has_class("-inert")
        await send(app, pilot, "think")
        body = chat_bodies(simulator)[-1]
        assert "temperature" not in body and body["thinking"] == {"type": "enabled"}
        config_file = tmp_path / "config.toml"  # saved by a timer, half a second after the last change
        await wait_until(lambda: config_file.exists() and "temperature = 0.0" in config_file.read_text())


async def test_showing_the_settings_pane_changes_no_setting(simulator, tmp_path):
    """Loading the pane must not come back as edits: its own Select/Switch/Input echoes once
    switched the model to deepseek-chat and back and dropped the effort for a moment (each time
    saving), and how it ended depended on when the next screen refresh came."""
    chat = ChatSettings(model="deepseek-flash", thinking=True, reasoning_effort="max")
    app = make_app(simulator.url, tmp_path, chat=chat, show_settings=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2", "f2")  # hide and show again
        await pilot.press("ctrl+n")  # another conversation: the pane is loaded again
        for _ in range(3):  # time for any echo to reach the app (there must be none)
            await pilot.pause()
        assert app.conversation.settings is chat, "the pane's own values came back as edits"


async def test_prompt_keys_newline_history_and_paste(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptArea)
        prompt.focus()
        await pilot.press("a", "ctrl+j", "b")
        await wait_until(lambda: prompt.text == "a\nb")
        await reply(app, pilot, "enter")
        assert app.conversation.active_path()[0].content == "a\nb"
        await pilot.press("up")
        await wait_until(lambda: prompt.text == "a\nb")
        await pilot.press("down")
        await wait_until(lambda: prompt.text == "")
        app.post_message(events.Paste("line one\nline two"))  # as the driver delivers it
        await wait_until(lambda: prompt.text == "line one\nline two")
        await pilot.pause()
        assert len(app.conversation.active_path()) == 2 and not app.is_replying  # the paste sent nothing


async def test_undo_of_a_long_paste_keeps_the_app_and_the_text(simulator, tmp_path):
    """Textual 8.2.8 raised ValueError here (Textualize/textual#6686) and the app ended."""
    from textual import events

    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptArea)
        prompt.focus()
        app.post_message(events.Paste("A\nB\n\nD\n"))
        await wait_until(lambda: prompt.text == "A\nB\n\nD\n")
        prompt.history.checkpoint()  # what a second's pause does in a terminal
        app.post_message(events.Paste("".join(f"line {n}\n" for n in range(300))))
        await wait_until(lambda: prompt.text.count("\n") == 304)
        prompt.history.checkpoint()
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert app.is_running and prompt.text == "A\nB\n\nD\n"
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert app.is_running and prompt.text.count("\n") == 304


async def test_help_lists_current_bindings_including_remaps(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path, keymap={"toggle_mode": "f11"})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await wait_for_screen(app, HelpScreen)
        rows = {keys: (text, binding_id) for keys, text, binding_id in app.binding_rows()}
        assert "f11" in rows and "chat and reasoner" in rows["f11"][0] and rows["f11"][1] == "toggle_mode"
        texts = " ".join(text for text, _ in rows.values())
        for key in ("n", "k", "m", "enter", "e", "r", "c"):  # a selected message's keys are listed too
            assert key in rows and rows[key][0].startswith("Selected message")
        assert "Continue this answer" in texts
        assert rows["shift+tab"][0].startswith("From the prompt to the attached files")
        assert rows["delete / backspace"][0] == "Attached files: Remove the selected attachment"
        for key, words in (("y / enter", "once"), ("a", "always"), ("n / escape", "refuse")):
            assert rows[key][0].startswith("Tool call question") and words in rows[key][0]
        await pilot.press("escape")
        await wait_until(lambda: not isinstance(app.screen, HelpScreen))
        await pilot.press("f11")
        await wait_until(lambda: app.conversation.settings.thinking is True)


async def test_opening_continues_most_recent_conversation(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "remember me")
        conversation_id = app.conversation.id
    again = make_app(simulator.url, tmp_path)
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.conversation.id == conversation_id
        assert "remember me" in str(again.query(UserBubble).first().query_one(".text").render())
    fresh = make_app(simulator.url, tmp_path, on_start="new")
    async with fresh.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert fresh.conversation.id != conversation_id


def save_long_conversation(tmp_path, turns: int, answer_lines: int = 1) -> None:
    from deepseek_tui.conversation.model import Conversation

    conversation = Conversation(settings=ChatSettings(model="deepseek-flash"))
    for i in range(turns):
        conversation.add_user(f"question {i}")
        reply = conversation.start_assistant("deepseek-flash", False)
        reply.content = "\n\n".join(f"answer {i}, paragraph {p}" for p in range(answer_lines))
        conversation.finish_assistant(reply.id)
    SessionStore(tmp_path / "data" / "sessions").save(conversation)


def mounted_ids(app) -> list[str]:
    return [view.message_id for view in app.query_one("#chat").message_views]


def in_view(app, widget) -> bool:
    return app.query_one("#chat").region.contains_region(widget.region)


async def test_long_conversation_mounts_recent_messages_only(simulator, tmp_path):
    """Older messages are mounted when the chat reaches the top; what was in view stays in view."""
    save_long_conversation(tmp_path, 300, answer_lines=6)
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        path = [m.id for m in app.conversation.active_path()]
        assert mounted_ids(app) == path[-MOUNT_WINDOW:]
        assert f"Show {600 - MOUNT_WINDOW} earlier messages" in str(app.query_one("#load-earlier").label)
        chat = app.query_one("#chat")
        chat.scroll_home(animate=False)
        first = app.query_one(f"#m-{path[-MOUNT_WINDOW]}")
        await wait_until(lambda: len(mounted_ids(app)) == 2 * MOUNT_WINDOW)
        assert mounted_ids(app) == path[-2 * MOUNT_WINDOW :]
        # The view is put back after the next refresh: no jump to the oldest loaded message.
        await wait_until(lambda: chat.scroll_y > 0 and in_view(app, first))
        chat.scroll_home(animate=False)
        await wait_until(lambda: len(mounted_ids(app)) == 3 * MOUNT_WINDOW)


async def test_the_wheel_asks_for_earlier_messages_when_all_fit(simulator, tmp_path):
    save_long_conversation(tmp_path, 30)  # one-line messages: the mounted ones fit on screen
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.query_one("#chat").max_scroll_y == 0 and len(mounted_ids(app)) == MOUNT_WINDOW
        chat = app.query_one("#chat")
        chat.post_message(events.MouseScrollUp(chat, 10, 10, 0, -1, 0, False, False, False))
        await wait_until(lambda: len(mounted_ids(app)) == 2 * MOUNT_WINDOW)


async def test_up_through_the_messages_goes_past_the_first_mounted_one(simulator, tmp_path):
    save_long_conversation(tmp_path, 30)
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        path = [m.id for m in app.conversation.active_path()]

        def selected() -> str | None:
            return getattr(app.focused, "message_id", None)

        await pilot.press("f8")  # select the last message
        await wait_until(lambda: selected() == path[-1])
        for step in range(1, MOUNT_WINDOW + 5):
            await pilot.press("up")  # each key goes to the message the one before selected
            await wait_until(lambda: selected() == path[-1 - step])
        assert app.focused is app.query_one(f"#m-{path[-MOUNT_WINDOW - 5]}")
        assert len(mounted_ids(app)) >= 2 * MOUNT_WINDOW
        await wait_until(lambda: in_view(app, app.focused))  # scrolled to once the layout knows where it is


async def test_a_long_session_unmounts_its_oldest_messages(simulator, tmp_path):
    """Every streamed flush lays out all mounted messages, so a long session keeps a bounded window."""
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for turn in range(MOUNT_WINDOW + 1):
            await send(app, pilot, f"turn {turn}")
        path = [m.id for m in app.conversation.active_path()]
        assert len(path) == 2 * MOUNT_WINDOW + 2
        assert len(mounted_ids(app)) <= 2 * MOUNT_WINDOW
        assert mounted_ids(app) == path[-len(mounted_ids(app)) :]
        hidden = len(path) - len(mounted_ids(app))
        assert f"Show {hidden} earlier messages" in str(app.query_one("#load-earlier").label)
        chat = app.query_one("#chat")
        mounted = len(mounted_ids(app))
        chat.scroll_home(animate=False)  # each time the chat reaches the top, up to MOUNT_WINDOW more
        # Mounted above, with the view put back where it was (so scrolling home moves again).
        await wait_until(lambda: len(mounted_ids(app)) > mounted and chat.scroll_y > 0)
        chat.scroll_home(animate=False)
        await wait_until(lambda: mounted_ids(app) == path)


async def test_demo_mode_shows_mark(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path, demo=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "DEMO" in str(app.query_one(StatusLine).render())
        await send(app, pilot, "hi demo")
        assert app.conversation.active_path()[-1].status == "complete"
        assert not (tmp_path / "config.toml").exists()


async def test_status_shows_balance_and_cost(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "cost?")
        await wait_until(lambda: "bal ¥" in str(app.query_one(StatusLine).render()))
        status = str(app.query_one(StatusLine).render())
        assert "¥110.00" in status and "Σ $" in status and "ctx" in status


async def test_error_text_with_brackets_is_shown_verbatim(simulator, tmp_path):
    simulator.inject(Fault.status(400, "messages[3].role: unknown variant [bold]Tool[/bold]"))
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "brackets")
        assert app.is_running
        # shown as typed: Textual would otherwise read [bold]…[/bold] (or choke on […]) as markup
        assert any("[bold]Tool[/bold]" in n.message and not n.markup for n in app.notified)


async def test_a_long_answer_is_followed_while_it_streams(simulator, tmp_path):
    """The chat keeps the growing answer's end in view, and its height matches its lines.

    The simulator holds the stream back half-way, so the mid-stream checks look at a screen that
    is known to be mid-stream, however fast or loaded the machine is.
    """
    import threading
    from html import unescape

    release = threading.Event()
    simulator.answer_tokens = 1200
    simulator.inject(Fault.hold(after_chunks=700, release=release))
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        try:
            await send(app, pilot, "tell me a long story", wait=False)
            chat = app.query_one("#chat")
            prompt = app.query_one(PromptArea)

            def shown() -> MarkdownLines | None:
                found = app.query(AnswerBlock)
                return found.last().query_one(MarkdownLines) if found else None

            def all_received_is_drawn() -> bool:
                view = shown()
                return (
                    app.progress is not None
                    and app.progress.content_chars > 0
                    and view is not None
                    and len(view.source) == app.progress.content_chars
                )

            await wait_until(all_received_is_drawn)
            await wait_until(lambda: chat.max_scroll_y > 0 and chat.scroll_y == chat.max_scroll_y)
            assert app.is_replying
            assert not prompt.cursor_blink  # a blink is a frame; the stream's own flushes are enough
        finally:
            release.set()
        await wait_reply(app, pilot)
        await pilot.pause()
        answer = shown()
        assert prompt.cursor_blink
        assert answer.source == app.conversation.active_path()[-1].content
        assert answer.region.height == answer.line_count
        assert chat.scroll_y == chat.max_scroll_y > 0
        last_words = answer.source.split()[-1].strip("*_`.,")
        screen = unescape(app.export_screenshot()).replace("\xa0", " ")
        assert last_words in screen


async def test_a_put_off_save_writes_the_conversation_it_was_meant_for(simulator, tmp_path):
    """The last save of a turn waits for a frame; a conversation opened meanwhile must not take its place."""
    from deepseek_tui.conversation.model import Conversation

    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "hello")
        finished = app.conversation
        finished.rename("renamed just before the turn's last save")
        app.saver.save_after_next_frame(finished)
        await app.show_conversation(Conversation())
        await pilot.pause()
        stored = SessionStore(tmp_path / "data" / "sessions").load(finished.id)
        assert stored.title == "renamed just before the turn's last save"


async def test_a_search_hit_older_than_the_mounted_messages_is_shown(simulator, tmp_path):
    save_long_conversation(tmp_path, 30)
    app = make_app(simulator.url, tmp_path, on_start="new")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        stored = SessionStore(tmp_path / "data" / "sessions").most_recent()
        early = stored.active_path()[4]  # far above the last MOUNT_WINDOW messages
        await app.open_session(stored.id, early.id)
        view = app.query_one(f"#m-{early.id}")
        # Marked and scrolled into view (once the app has refreshed); typing goes on in the prompt.
        await wait_until(lambda: app.chat.found_view is view and in_view(app, view))
        assert isinstance(app.focused, PromptArea)


async def test_the_status_line_changes_state_as_soon_as_enter_is_pressed(simulator, tmp_path):
    import threading

    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "first")
        status = app.query_one(StatusLine)
        assert "done" in str(status.render()) and "↑" in str(status.render())
        release = threading.Event()
        simulator.inject(Fault.hold(after_chunks=0, release=release))
        try:
            await send(app, pilot, "second", wait=False)
            shown = str(status.render())
            assert "sending" in shown and "done" not in shown and "↑" not in shown
        finally:
            release.set()
        await wait_reply(app, pilot)


async def test_a_new_exchange_is_shown_and_followed_after_looking_at_earlier_messages(simulator, tmp_path):
    """F8 and ↑ scroll the chat up; Esc, type, Enter: the new prompt and its reply come into view."""
    import threading

    simulator.answer_tokens = 300
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        for number in range(3):
            await send(app, pilot, f"question {number}")
        chat = app.query_one("#chat")
        await pilot.press("f8", "up", "up", "up", "up")
        await wait_until(lambda: chat.scroll_y < chat.max_scroll_y - 5)
        await pilot.press("escape")
        release = threading.Event()
        simulator.inject(Fault.hold(after_chunks=120, release=release))
        try:
            await send(app, pilot, "and now?", wait=False)
            await wait_until(lambda: app.progress is not None and app.progress.content_chars > 0)
            await wait_until(lambda: chat.scroll_y == chat.max_scroll_y)
            assert app.query(AnswerBlock).last().region.bottom <= chat.region.bottom
        finally:
            release.set()
        await wait_reply(app, pilot)
        await pilot.pause()
        assert chat.scroll_y == chat.max_scroll_y


async def test_typing_goes_to_the_prompt_after_the_settings_pane_closes(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        await wait_until(lambda: bool(app.query(SettingsPane)))
        app.query_one("#setting-model").focus()
        await pilot.press("enter")  # opens the model list
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("f2")
        await pilot.pause()
        assert not app.query_one(SettingsPane).display
        await pilot.press("a", "b", "c")
        assert app.query_one(PromptArea).text == "abc"


async def test_the_settings_pane_takes_the_keys_when_it_opens(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(2):  # the first opening mounts the pane, the second shows it again
            await pilot.press("f2")
            await wait_until(lambda: bool(app.query(SettingsPane)) and app.query_one(SettingsPane).display)
            await wait_until(lambda: app.focused is not None and app.query_one(SettingsPane) in app.focused.ancestors)
            await pilot.press("f2")
            await wait_until(lambda: isinstance(app.focused, PromptArea))


async def test_prompt_history_survives_a_restart(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "first question")
        await send(app, pilot, "second\nquestion")
    again = make_app(simulator.url, tmp_path)
    async with again.run_test(size=SIZE) as pilot:
        prompt = again.query_one(PromptArea)
        prompt.focus()
        await pilot.press("up")
        assert prompt.text == "second\nquestion"
        await pilot.press("up")
        assert prompt.text == "first question"


def test_prompt_history_is_bounded_merged_and_forgiving(tmp_path):
    from deepseek_tui import prompt_history

    path = tmp_path / "prompt-history.json"
    assert prompt_history.load(path) == []
    path.write_text("{not json")
    assert prompt_history.load(path) == []  # a bad file is an empty history, replaced on save
    for number in range(prompt_history.LIMIT + 5):
        prompt_history.remember(path, f"p{number}")
    prompt_history.remember(path, f"p{prompt_history.LIMIT + 4}")  # a repeat is kept once
    history = prompt_history.load(path)
    assert len(history) == prompt_history.LIMIT and history[-1] == f"p{prompt_history.LIMIT + 4}"
    assert history[0] == "p5"


def test_the_context_gauge_turns_yellow_at_half_and_red_at_four_fifths():
    from deepseek_tui.ui.widgets.status import StatusInfo, render_status

    def gauge_style(used: int) -> str:
        text = render_status(StatusInfo(model="m", context_used=used, context_window=1000))
        start = text.plain.index("█" if used else "░")
        return " ".join(str(span.style) for span in text.spans if span.start <= start < span.end)

    assert gauge_style(100) == "" and gauge_style(499) == ""
    assert gauge_style(500) == "yellow" and gauge_style(799) == "yellow"
    assert gauge_style(800) == "bold red" and gauge_style(1000) == "bold red"


async def test_a_bug_during_a_reply_is_reported_and_keeps_the_app_and_the_text(simulator, tmp_path, monkeypatch):
    from deepseek_tui.ui.reply import ReplyDisplay

    original = ReplyDisplay.show
    seen = []

    async def broken_show(self, event):
        seen.append(event)
        if len(seen) == 8:
            raise RuntimeError("display bug")
        await original(self, event)

    monkeypatch.setattr(ReplyDisplay, "show", broken_show)
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "break the display")
        assert app.is_running
        note = next(n for n in app.notified if n.title == "Unexpected error in this reply")
        assert "display bug" in note.message and "crash-" in note.message
        answer = app.conversation.active_path()[-1]
        assert answer.status == "partial" and answer.content and "display bug" in answer.error
    stored = SessionStore(tmp_path / "data" / "sessions").load(app.conversation.id)
    assert stored.active_path()[-1].content == answer.content


async def test_out_of_range_numbers_are_marked_and_never_pretend_to_be_sent(simulator, tmp_path):
    from scenes import settle_account

    app = make_app(simulator.url, tmp_path, chat=ChatSettings(model="deepseek-flash", temperature=1.3))
    async with app.run_test(size=SIZE) as pilot:
        await settle_account(pilot)  # the model list's arrival reloads the pane: not what this is about
        await pilot.press("f2")
        await wait_until(lambda: bool(app.query(SettingsPane)))
        pane = app.query_one(SettingsPane)
        preset = pane.query_one("#temperature-preset")
        await wait_until(lambda: preset.value == 1.3)
        temperature = pane.query_one("#setting-temperature")
        temperature.focus()
        await wait_until(lambda: temperature.has_focus)
        temperature.value = "5"
        row = pane.query_one("#row-temperature", SettingRow)
        await wait_until(lambda: row.has_class("-invalid"))
        note = str(row.query_one(".note").render())
        assert "allowed 0.0 to 2.0" in note and "1.3 is sent" in note
        assert app.conversation.settings.temperature == 1.3
        temperature.value = "0.7"
        await wait_until(lambda: app.conversation.settings.temperature == 0.7)
        await wait_until(lambda: not row.has_class("-invalid") and preset.is_blank())  # 0.7 is no preset
        max_tokens = pane.query_one("#setting-max_tokens")
        max_tokens.focus()
        await wait_until(lambda: max_tokens.has_focus)
        max_tokens.value = "99999"
        await wait_until(lambda: app.conversation.settings.max_tokens == 99999)
        max_tokens.value = "99999999"  # typed on: above the model's maximum
        max_row = pane.query_one("#row-max_tokens", SettingRow)
        await wait_until(lambda: max_row.has_class("-invalid"))
        assert "allowed 1 to 393216" in str(max_row.query_one(".note").render())
        app.query_one(PromptArea).focus()  # leaving the field shows what is sent again
        await wait_until(lambda: max_tokens.value == "99999" and not max_row.has_class("-invalid"))
        await send(app, pilot, "go")
        body = [r.body for r in simulator.requests if r.path.endswith("/chat/completions")][-1]
        assert body["max_tokens"] == 99999


def test_the_status_line_fits_narrow_terminals_keeping_state_cost_and_balance():
    from deepseek_tui.ui.widgets.status import StatusInfo, render_status

    info = StatusInfo(
        model="deepseek-flash",
        mode="reasoner·high",
        state="answering 52 tok/s",
        turn_tokens="↑1,240 93% hit ↓412",
        conversation_cost="Σ $0.00026",
        pricing="peak ×2 until 10:00 UTC",
        context_used=212_000,
        context_window=1_048_576,
        balance="bal ¥110.00",
        demo=True,
    )
    full = render_status(info).plain
    assert "↑1,240" in full and "until 10:00" in full and "█" in full
    for width in (118, 100, 78):
        fitted = render_status(info, width).plain
        assert len(fitted) <= width
        assert "answering 52 tok/s" in fitted and "Σ $0.00026" in fitted and "¥110.00" in fitted
    assert "█" not in render_status(info, 100).plain  # the gauge bar gave way first


def test_the_demo_badge_keeps_its_word_or_goes():
    from deepseek_tui.ui.widgets.status import StatusInfo, render_status

    info = StatusInfo(
        model="deepseek-flash",
        mode="chat",
        state="answering 52 tok/s",
        turn_tokens="↑1,240 93% hit ↓412",
        conversation_cost="Σ $0.00026",
        context_used=212_000,
        context_window=1_048_576,
        balance="bal ¥110.00",
        demo=True,
    )
    for width in range(60, 121):
        fitted = render_status(info, width).plain
        assert fitted.startswith((" DEMO  deepseek-flash", "deepseek-flash")), fitted
    assert render_status(info, 80).plain.startswith(" DEMO ")  # the gauge and the context go first
