"""Two windows on one conversation keep every turn: two real app processes on ptys, and `ask
--continue` while the app (Pilot) has the conversation open."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from ui_support import SIZE, PtyApp, make_app, send, wait_blocking, wait_until

from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.conversation import Conversation, SessionStore
from deepseek_tui.ui.widgets.messages import UserBubble


def started_session(sessions) -> Conversation:
    conversation = Conversation(settings=ChatSettings(model="deepseek-flash"))
    conversation.add_user("the first question")
    reply = conversation.start_assistant("deepseek-flash", False)
    reply.content = "the first answer"
    conversation.finish_assistant(reply.id)
    SessionStore(sessions).save(conversation)
    return conversation


def test_two_app_processes_on_one_conversation_keep_both_turns(simulator, tmp_path):
    sessions = tmp_path / "data" / "sessions"
    conversation = started_session(sessions)
    config = tmp_path / "config.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n[chat]\nmodel = "deepseek-flash"\n')
    windows: list[PtyApp] = []
    try:
        for _ in range(2):
            windows.append(
                PtyApp(
                    ["-m", "deepseek_tui", "--config", str(config), "--base-url", simulator.url],
                    {"DEEPSEEK_API_KEY": "sk-test"},
                )
            )
        wait_blocking(lambda: sum(r.path == "/user/balance" for r in simulator.requests) >= 2)  # both drawn
        for name, window in zip(("left", "right"), windows, strict=True):
            window.type(f"question from the {name} window\r")

        def answered() -> list[str]:
            stored = SessionStore(sessions).load(conversation.id)
            return [m.content for m in stored.messages if m.role == "assistant" and m.status == "complete"]

        wait_blocking(lambda: sum("from the" in answer for answer in answered()) == 2)
        for window in windows:
            window.type("\x11")  # ctrl+q
        codes = [window.wait() for window in windows]
    finally:
        for window in windows:
            window.close()
    assert codes == [0, 0]
    stored = SessionStore(sessions).load(conversation.id)
    questions = [m.content for m in stored.messages if m.role == "user"]
    assert questions[0] == "the first question"
    assert sorted(questions[1:]) == ["question from the left window", "question from the right window"]
    assert len(stored) == 6 and all(m.status == "complete" for m in stored.messages)


async def test_ask_continue_while_the_app_has_the_conversation_open(simulator, tmp_path):
    sessions = tmp_path / "data" / "sessions"
    conversation = started_session(sessions)
    config = tmp_path / "ask.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n')
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        assert app.conversation.id == conversation.id
        await send(app, pilot, "from the app")
        env = dict(os.environ, DEEPSEEK_API_KEY="sk-test", DEEPSEEK_BASE_URL=simulator.url)
        ask = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "deepseek_tui",
            "ask",
            "--config",
            str(config),
            "--continue",
            conversation.id,
            "from ask",
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(ask.communicate(), 30)
        assert ask.returncode == 0, err
        await pilot.press("ctrl+t")  # changing a setting saves: the save merges ask's turn in
        await wait_until(lambda: any("from ask" in str(b._text) for b in app.query(UserBubble)))
        assert any("changed in another window: 2 new messages" in n.message for n in app.notified)
        await send(app, pilot, "from the app again")
    stored = SessionStore(sessions).load(conversation.id)
    questions = [m.content for m in stored.active_path() if m.role == "user"]
    assert questions == ["the first question", "from the app", "from ask", "from the app again"]
    assert len(stored) == 8


async def test_a_turn_saved_elsewhere_just_before_sending_does_not_disturb_the_reply(simulator, tmp_path):
    """The save before the request merges the other window's turn in; the redraw that asks for
    must wait for the reply, which streams into its own widget (this crashed with DuplicateIds)."""
    sessions = tmp_path / "data" / "sessions"
    conversation = started_session(sessions)
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        other = SessionStore(sessions).load(conversation.id)
        other.add_user("from the other window")
        SessionStore(sessions).save(other)
        await send(app, pilot, "from this window")
        for _ in range(3):
            await pilot.pause()
        assert app.is_running
        reply = app.conversation.active_path()[-1]
        assert reply.status == "complete" and "from this window" in reply.content
        assert any("changed in another window: 1 new message" in n.message for n in app.notified)
    stored = SessionStore(sessions).load(conversation.id)
    assert {m.content for m in stored.messages if m.role == "user"} == {
        "the first question",
        "from the other window",
        "from this window",
    }
