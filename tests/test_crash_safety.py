"""Killing the app with SIGKILL mid-stream leaves the partial answer on disk (real process, real pty)."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

from deepseek_tui.conversation.model import STALE_STREAM_ERROR
from deepseek_tui.conversation.store import SessionStore


def _drain(fd: int, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            if not os.read(fd, 65536):
                return
        except OSError:
            return


def _wait(predicate, timeout: float) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def _saved_answer(directory: Path) -> str:
    """The text of the last message of the session saved in `directory`, once it is an answer.

    Read file by file: listing would write the store's index next to the app's own.
    """
    for path in directory.glob("*.json"):
        if path.name.startswith("."):
            continue
        try:
            last = SessionStore(directory).load(path.stem).active_path()[-1]
        except Exception:  # not there yet (saves are atomic: never half a file)
            continue
        return last.content if last.role == "assistant" else ""
    return ""


def test_sigkill_mid_stream_keeps_partial_answer(simulator, tmp_path):
    simulator.token_rate = 40.0
    simulator.answer_tokens = 2000
    sessions = tmp_path / "data" / "deepseek-tui" / "sessions"
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {**os.environ, "DEEPSEEK_API_KEY": "sk-test", "TERM": "xterm-256color"}
    process = subprocess.Popen(
        [sys.executable, "-m", "deepseek_tui", "--base-url", simulator.url, "--model", "deepseek-flash"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    stop = threading.Event()
    reader = threading.Thread(target=_drain, args=(master, stop), daemon=True)
    reader.start()
    try:
        _wait(lambda: any(r.path == "/user/balance" for r in simulator.requests), 60)
        os.write(master, b"tell me a long story\r")
        _wait(lambda: any(r.path.endswith("/chat/completions") for r in simulator.requests), 30)
        # Killed once an autosave (every 2 s while the answer streams, 50 s long) has kept part
        # of it, however long that takes on this machine.
        _wait(lambda: len(_saved_answer(sessions)) > 100, 60)
        process.kill()
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
        stop.set()
        os.close(master)
    store = SessionStore(sessions)
    [summary] = store.list_sessions()
    answer = store.load(summary.id).active_path()[-1]
    assert answer.role == "assistant" and len(answer.content) > 100
    assert answer.status == "partial" and answer.error == STALE_STREAM_ERROR
