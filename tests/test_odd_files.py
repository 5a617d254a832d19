"""Odd files never crash or freeze anything: a session id stored twice, an integer too long to
parse, a directory or a named pipe where a file should be. The app (Pilot) and `ask --continue`
(a real process) both answer with a clear message and leave the files alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from textual.widgets import Input, OptionList
from ui_support import SIZE, FifoTrap, make_app, wait_for_screen, wait_until

from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.conversation import Conversation, SessionStore, UnreadableSession, codec
from deepseek_tui.pipe import ExitCode
from deepseek_tui.ui.screens.main import MainScreen
from deepseek_tui.ui.screens.sessions import SessionsScreen
from deepseek_tui.ui.screens.transfer import ImportScreen

HUGE = '{"kind": "deepseek-tui-session", "schema_version": ' + "9" * 5000 + "}"


def sessions_dir(tmp_path: Path) -> Path:
    return tmp_path / "data" / "sessions"


def stored(tmp_path: Path, session_id: str, question: str, fmt: str = "json") -> Conversation:
    conversation = Conversation(id=session_id, settings=ChatSettings(model="deepseek-flash"))
    conversation.add_user(question)
    reply = conversation.start_assistant("deepseek-flash", False)
    reply.content = f"answer to {question}"
    conversation.finish_assistant(reply.id)
    directory = sessions_dir(tmp_path)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{session_id}.{fmt}").write_bytes(codec.encode(conversation, fmt))
    return conversation


def option_labels(screen: SessionsScreen) -> list[str]:
    option_list = screen.query_one("#sessions-list", OptionList)
    return [str(option_list.get_option_at_index(i).prompt) for i in range(option_list.option_count)]


async def test_picker_lists_a_session_id_stored_twice_without_crashing(simulator, tmp_path):
    stored(tmp_path, "twin", "json twin")
    stored(tmp_path, "twin", "toml twin", "toml")
    (sessions_dir(tmp_path) / "broken.json").write_text("{not json")
    (sessions_dir(tmp_path) / "broken.toml").write_text("not = = toml")
    before = {p.name: p.read_bytes() for p in sessions_dir(tmp_path).iterdir()}
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        assert app.conversation.id == "twin" and app.conversation.title == "json twin"
        await pilot.press("ctrl+o")
        screen = await wait_for_screen(app, SessionsScreen)
        labels = option_labels(screen)
        assert sum("json twin" in label for label in labels) == 1
        assert any("twin.toml" in label and "same session id as twin.json" in label for label in labels)
        assert any("broken.json" in label for label in labels) and any("broken.toml" in label for label in labels)
        await pilot.press("enter")  # opens the highlighted row: the twin already open
        await wait_for_screen(app, MainScreen)
        assert app.is_running and app.conversation.title == "json twin"
    assert {p.name: p.read_bytes() for p in sessions_dir(tmp_path).iterdir() if p.name in before} == before


async def _import(app, pilot, path: Path) -> str:
    known = len(app.notified)
    await pilot.press("f9")
    screen = await wait_for_screen(app, ImportScreen)
    screen.query_one(Input).value = str(path)
    await pilot.press("enter")
    await wait_until(lambda: len(app.notified) > known)
    return app.notified[-1].message


@pytest.mark.parametrize("kind", ["huge integer", "directory", "named pipe", "not UTF-8"])
async def test_import_of_an_odd_file_is_a_clear_message(simulator, tmp_path, kind):
    path = tmp_path / "odd.json"
    trap = None
    if kind == "huge integer":
        path.write_text(HUGE)
    elif kind == "directory":
        path.mkdir()
    elif kind == "named pipe":
        trap = FifoTrap(path)
    else:
        path.write_bytes(b'{"title": "\xff\xfe"}')
    app = make_app(simulator.url, tmp_path, on_start="new")
    try:
        async with app.run_test(size=SIZE) as pilot:
            message = await _import(app, pilot, path)
            expected = {
                "huge integer": "a number in it is too long",
                "directory": "it is a directory, not a regular file",
                "named pipe": "it is a named pipe, not a regular file",
                "not UTF-8": "not UTF-8 text",
            }[kind]
            assert message.startswith("Import failed: cannot import odd.json") and expected in message
            app.query_one("#prompt").load_text("still here")  # the app answers
            await pilot.pause()
            assert app.is_running and app.query_one("#prompt").text == "still here"
            assert not (sessions_dir(tmp_path).exists() and any(sessions_dir(tmp_path).glob("*.json")))
    finally:
        if trap is not None:
            trap.close()
            assert not trap.opened, "the pipe was opened: a blocking read froze the app"


# --- ask --continue ---------------------------------------------------------------------------------


def ask_continue(simulator, session_id: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, DEEPSEEK_API_KEY="sk-test", DEEPSEEK_BASE_URL=simulator.url, PYTHONIOENCODING="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "deepseek_tui", "ask", "--continue", session_id, "next question"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )


def default_sessions() -> Path:
    from deepseek_tui.config import AppConfig

    return AppConfig().sessions_dir()


@pytest.mark.parametrize("kind", ["huge integer", "directory", "named pipe"])
def test_ask_continue_with_an_odd_session_file_is_a_clear_message(simulator, kind):
    directory = default_sessions()
    directory.mkdir(parents=True)
    path = directory / "odd.json"
    trap = None
    if kind == "huge integer":
        path.write_text(HUGE)
    elif kind == "directory":
        path.mkdir()
    else:
        trap = FifoTrap(path)
    try:
        done = ask_continue(simulator, "odd")
    finally:
        if trap is not None:
            trap.close()
            assert not trap.opened
    assert done.returncode == ExitCode.LOCAL, done.stderr
    assert "Traceback" not in done.stderr
    expected = {"huge integer": "too long", "directory": "a directory", "named pipe": "a named pipe"}[kind]
    assert "cannot read session odd" in done.stderr and expected in done.stderr
    assert not any(r.path.endswith("/chat/completions") for r in simulator.requests)


def test_ask_continue_with_twin_files_uses_the_json_one_and_leaves_the_toml(simulator):
    store = SessionStore(default_sessions())
    conversation = Conversation(id="twin", settings=ChatSettings(model="deepseek-flash"))
    conversation.add_user("json twin")
    store.save(conversation)
    toml = default_sessions() / "twin.toml"
    toml.write_text("not even toml")
    done = ask_continue(simulator, "twin")
    assert done.returncode == 0, done.stderr
    assert [m.content for m in store.load("twin").messages][:2] == ["json twin", "next question"]
    assert toml.read_text() == "not even toml"


async def test_an_absurd_token_count_is_reported_not_drawn(simulator, tmp_path):
    """A 400-digit count parses, but shown as "N k" it overflowed a float and crashed the start."""
    conversation = stored(tmp_path, "huge-usage", "question")
    path = sessions_dir(tmp_path) / "huge-usage.json"
    document = json.loads(path.read_text())
    document["messages"][1]["usage"] = {"prompt_tokens": 10**400, "completion_tokens": 1}
    path.write_text(json.dumps(document))
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.is_running and app.conversation.id != conversation.id
        [listed] = SessionStore(sessions_dir(tmp_path)).list_sessions()
        assert isinstance(listed, UnreadableSession) and "prompt_tokens: too large" in listed.reason


def test_non_finite_numbers_and_huge_integers_are_codec_errors(tmp_path):
    conversation = Conversation(settings=ChatSettings(model="deepseek-flash"))
    conversation.add_user("q")
    document = json.loads(codec.encode(conversation, "json"))
    document["messages"][0]["cost"] = float("nan")
    with pytest.raises(codec.CodecError, match="cost: not a finite number"):
        codec.decode(json.dumps(document).encode(), "json")
    with pytest.raises(codec.CodecError, match="too long"):
        codec.decode(HUGE.encode(), "json")
    with pytest.raises(codec.CodecError, match="too long"):
        codec.decode(b"schema_version = " + b"9" * 5000, "toml")


def test_a_config_file_with_a_huge_integer_is_a_config_error(tmp_path):
    from deepseek_tui.config import ConfigError, load_config

    path = tmp_path / "config.toml"
    path.write_text("[chat]\nmax_tokens = " + "9" * 5000 + "\n")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(path)
