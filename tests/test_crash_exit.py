"""An unexpected error: the conversation is saved, the traceback goes to a file in the state dir
(without the key), one line says where, and the exit status is 70 (before: 0 and a traceback
with local variables, the key among them, printed on the terminal)."""

from __future__ import annotations

import inspect
import os
import re
import threading
from pathlib import Path

import pytest
from textual.app import App
from ui_support import SIZE, PtyApp, make_app, send, wait_blocking, wait_until

from deepseek_tui import cli
from deepseek_tui.conversation import SessionStore
from deepseek_tui.crash import CRASH_EXIT_CODE, crash_dir
from deepseek_tui.simulator import Fault
from deepseek_tui.ui.crash_guard import CrashGuard

KEY = "sk-test"


def boom(*_args) -> None:
    raise RuntimeError(f"boom (the key {KEY} must not show)")


async def test_a_crash_saves_the_conversation_and_writes_the_traceback_to_a_file(simulator, tmp_path):
    release = threading.Event()
    app = make_app(simulator.url, tmp_path)
    try:
        with pytest.raises(RuntimeError, match="boom"):
            async with app.run_test(size=SIZE) as pilot:
                await send(app, pilot, "a question that was answered")
                simulator.inject(Fault.hold(4, release))
                await send(app, pilot, "a question still being answered", wait=False)
                await wait_until(lambda: len(app.conversation.active_path()[-1].content) > 0)
                app.action_help = boom  # F1 now raises: an unexpected error in a key handler
                await pilot.press("f1")
                await wait_until(lambda: not app.is_running)
    finally:
        release.set()
    report = app.crash_report
    assert report is not None and app.crash_saved and report.path is not None
    assert report.path.parent == crash_dir() and report.path.name.startswith("crash-20261125-120000")
    text = report.path.read_text()
    assert "Traceback" in text and "RuntimeError: boom" in text and "in boom" in text
    assert KEY not in text and "[REDACTED]" in text
    assert report.path.stat().st_mode & 0o777 == 0o600
    stored = SessionStore(tmp_path / "data" / "sessions").load(app.conversation.id)
    questions = [m.content for m in stored.messages if m.role == "user"]
    assert questions == ["a question that was answered", "a question still being answered"]
    assert stored.active_path()[-1].role == "assistant" and stored.active_path()[-1].content


CRASHING_APP = """
import sys
from deepseek_tui.ui.app import DeepSeekApp
def boom(self):
    raise RuntimeError("boom (the key sk-test must not show)")
DeepSeekApp.action_help = boom
from deepseek_tui.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_crashed_app_process_exits_70_with_one_line_and_a_restored_terminal(simulator, tmp_path):
    app = PtyApp(
        ["-c", CRASHING_APP, "--base-url", simulator.url, "--model", "deepseek-flash"], {"DEEPSEEK_API_KEY": KEY}
    )
    try:
        wait_blocking(lambda: any(r.path == "/user/balance" for r in simulator.requests))  # first frame drawn
        app.type(b"\x1bOP")  # F1
        code = app.wait()
    finally:
        app.close()
    assert code == CRASH_EXIT_CODE == 70
    text = app.output.decode("utf-8", "replace")
    assert KEY not in text and "Traceback" not in text
    assert text.rfind("\x1b[?1049l") > text.rfind("\x1b[?1049h") >= 0  # left the alternate screen
    line = text[text.rfind("\x1b[?1049l") :]
    match = re.search(
        r"deepseek-tui: stopped by an unexpected error \(RuntimeError: boom \(the key \[REDACTED\] "
        r"must not show\)\)\. The conversation was saved; details in (\S+\.txt)",
        line,
    )
    assert match, line
    report = Path(match.group(1))
    assert report.parent == Path(os.environ["XDG_STATE_HOME"]) / "deepseek-tui"
    assert "RuntimeError: boom" in report.read_text() and KEY not in report.read_text()


def test_a_crash_in_a_subcommand_is_one_line_and_exit_70(monkeypatch, capsys):
    monkeypatch.setattr(cli, "run_subcommand", boom)
    monkeypatch.setenv("DEEPSEEK_API_KEY", KEY)
    assert cli.main(["balance"]) == CRASH_EXIT_CODE
    err = capsys.readouterr().err
    assert err.startswith("deepseek-tui: stopped by an unexpected error (RuntimeError: boom")
    assert KEY not in err and len(err.splitlines()) == 1
    [report] = crash_dir().glob("crash-*.txt")
    assert KEY not in report.read_text() and "Traceback" in report.read_text()


def test_crash_guard_overrides_textuals_hook_as_it_is_today():
    """CrashGuard overrides a private Textual method and clears a private list: a Textual that
    changes either must fail here."""
    assert list(inspect.signature(App._handle_exception).parameters) == ["self", "error"]
    assert isinstance(App()._exit_renderables, list)
    assert CrashGuard._handle_exception.__qualname__ == "CrashGuard._handle_exception"


async def test_a_crash_when_nothing_can_be_saved_or_written_still_says_so(simulator, tmp_path, monkeypatch):
    state = tmp_path / "state-is-a-file"
    state.write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(state))  # the report cannot be written under a file
    app = make_app(simulator.url, tmp_path)

    def broken_save(conversation):
        raise OSError(28, "No space left on device")

    with pytest.raises(RuntimeError, match="boom"):
        async with app.run_test(size=SIZE) as pilot:
            await send(app, pilot, "a question")
            app.store.save = broken_save
            app.action_help = boom
            await pilot.press("f1")
            await wait_until(lambda: not app.is_running)
    report = app.crash_report
    assert report is not None and not app.crash_saved and report.path is None
    from deepseek_tui.crash import crash_line

    line = crash_line(report, saved="The conversation could not be saved; ")
    assert "RuntimeError: boom (the key [REDACTED] must not show)" in line
    assert "the details could not be written (" in line and KEY not in line
