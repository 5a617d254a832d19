"""Pipe mode on a terminal shows escape sequences inert; into a pipe (or with --raw) they pass as
they came. Real processes: the terminal case runs `deepseek-tui ask` on a pty."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

from deepseek_tui.simulator import Fault

OSC_52 = "\x1b]52;c;SGVsbG8=\x1b\\"
OSC_TITLE = "\x1b]2;PWNED\x1b\\"
PROMPT = f"say {OSC_TITLE}{OSC_52} now"
"""The simulator's answer and reasoning quote the question, so both carry the sequences."""


def _env(simulator) -> dict[str, str]:
    return dict(
        os.environ,
        DEEPSEEK_API_KEY="sk-test",
        DEEPSEEK_BASE_URL=simulator.url,
        PYTHONIOENCODING="utf-8",
        TERM="xterm-256color",
    )


def _ask_args(*extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "deepseek_tui",
        "ask",
        "--model",
        "deepseek-flash",
        "--think",
        "--show-reasoning",
        *extra,
        PROMPT,
    ]


def run_on_terminal(args: list[str], env: dict[str, str]) -> tuple[int, bytes]:
    """Run with stdout and stderr on one pty; returns the exit code and every byte written."""
    master, slave = pty.openpty()
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    received = bytearray()
    try:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the process closed its end
                break
            if not chunk:
                break
            received.extend(chunk)
        code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    return code, bytes(received)


def test_a_terminal_gets_the_answer_reasoning_and_notes_inert(simulator):
    code, shown = run_on_terminal(_ask_args(), _env(simulator))
    assert code == 0, shown
    assert b"\x1b]" not in shown and b"\x1b[" not in shown
    text = shown.decode("utf-8")
    assert "You asked: “say ␛]2;PWNED␛\\␛]52;c;SGVsbG8=␛\\ now”" in text  # the answer
    assert "The user wrote “say ␛]2;PWNED␛\\" in text  # the reasoning, on stderr


def test_a_server_message_on_a_terminal_is_inert(simulator):
    simulator.inject(Fault.status(400, "rejected " + OSC_TITLE))
    code, shown = run_on_terminal(_ask_args(), _env(simulator))
    assert code != 0
    assert b"\x1b]" not in shown
    assert "rejected ␛]2;PWNED␛\\" in shown.decode("utf-8")


def test_raw_passes_escape_sequences_to_a_terminal(simulator):
    code, shown = run_on_terminal(_ask_args("--raw"), _env(simulator))
    assert code == 0
    assert OSC_TITLE.encode() + OSC_52.encode() in shown


def test_pipes_get_exactly_what_the_model_said(simulator):
    done = subprocess.run(_ask_args(), capture_output=True, env=_env(simulator), timeout=30)
    assert done.returncode == 0
    out, err = done.stdout.decode("utf-8"), done.stderr.decode("utf-8")
    assert f"You asked: “say {OSC_TITLE}{OSC_52} now”" in out
    assert f"The user wrote “say {OSC_TITLE}{OSC_52} now”" in err
    assert "␛" not in out + err
