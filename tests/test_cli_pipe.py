"""The command-line tools as a user runs them: `python -m deepseek_tui ask|balance|models|fim` in a
subprocess against the local simulator, checking stdout, stderr, exit codes and stored sessions."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import pytest

from deepseek_tui.config import AppConfig
from deepseek_tui.conversation import SessionStore
from deepseek_tui.pipe import ExitCode
from deepseek_tui.simulator import Fault

KEY = "sk-test"


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(simulator):
    """Run the CLI with the simulator's key and URL and the test's isolated XDG dirs."""
    env = dict(os.environ, DEEPSEEK_API_KEY=KEY, DEEPSEEK_BASE_URL=simulator.url, PYTHONIOENCODING="utf-8")

    def run(*args: str, stdin: str | None = "", env_changes: dict[str, str | None] | None = None) -> Run:
        run_env = dict(env)
        for name, value in (env_changes or {}).items():
            if value is None:
                run_env.pop(name, None)
            else:
                run_env[name] = value
        done = subprocess.run(
            [sys.executable, "-m", "deepseek_tui", *args],
            input=stdin,
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=run_env,
            timeout=30,
        )
        assert KEY not in done.stdout and KEY not in done.stderr
        assert "Traceback" not in done.stderr
        return Run(done.returncode, done.stdout, done.stderr)

    run.env = env
    return run


def chat_bodies(simulator) -> list[dict]:
    return [r.body for r in simulator.requests if r.path.endswith("/chat/completions")]


def store() -> SessionStore:
    return SessionStore(AppConfig().sessions_dir())


# --- ask ---------------------------------------------------------------------------------------


def test_ask_prints_the_answer_from_the_argument(cli, simulator):
    run = cli("ask", "Hello there")
    assert run.code == ExitCode.OK
    assert "You asked: “Hello there”" in run.out and run.out.endswith("\n")
    assert run.err == ""
    body = chat_bodies(simulator)[-1]
    assert body["stream"] is True and body["messages"] == [{"role": "user", "content": "Hello there"}]
    assert store().list_sessions() == []  # nothing stored without --save


def test_ask_reads_the_prompt_from_stdin(cli, simulator):
    assert cli("ask", stdin="question from a pipe\n").code == 0
    assert cli("ask", "-", stdin="dash means stdin").code == 0
    contents = [body["messages"][-1]["content"] for body in chat_bodies(simulator)]
    assert contents == ["question from a pipe\n", "dash means stdin"]


def test_ask_options_shape_the_request(cli, simulator):
    run = cli(
        "ask",
        "--model",
        "deepseek-v4-pro",
        "--think",
        "--effort",
        "max",
        "--system",
        "Be brief",
        "--max-tokens",
        "300",
        "q",
    )
    assert run.code == 0
    body = chat_bodies(simulator)[-1]
    assert body["model"] == "deepseek-v4-pro"
    assert body["thinking"] == {"type": "enabled"} and body["reasoning_effort"] == "max"
    assert body["messages"][0] == {"role": "system", "content": "Be brief"}
    assert body["max_tokens"] == 300
    cli("ask", "--model", "deepseek-flash", "--no-think", "--temperature", "0.2", "q")
    body = chat_bodies(simulator)[-1]
    assert body["model"] == "deepseek-flash" and body["temperature"] == 0.2
    assert body["thinking"] == {"type": "disabled"} and "reasoning_effort" not in body


def test_reasoning_goes_to_stderr_only_when_asked(cli):
    shown = cli("ask", "--think", "--show-reasoning", "why is the sky blue")
    assert shown.code == 0
    assert "The user wrote" in shown.err and "The user wrote" not in shown.out
    assert "You asked" in shown.out
    hidden = cli("ask", "--think", "why is the sky blue")
    assert "The user wrote" not in hidden.out + hidden.err
    assert hidden.out == shown.out


def test_json_mode_adds_the_hint_and_prints_json(cli, simulator):
    run = cli("ask", "--json", "list three colors")
    assert run.code == 0
    assert json.loads(run.out)["question"] == "list three colors"
    assert "added to this request's system prompt" in run.err
    body = chat_bodies(simulator)[-1]
    assert body["response_format"] == {"type": "json_object"}
    assert "json" in body["messages"][0]["content"].lower() and body["messages"][0]["role"] == "system"

    run = cli("ask", "--json", "give me JSON about colors")
    assert run.code == 0 and run.err == ""
    assert [m["role"] for m in chat_bodies(simulator)[-1]["messages"]] == ["user"]


def test_save_then_continue_appends_to_the_stored_session(cli, simulator):
    first = cli("ask", "--save", "first question")
    assert first.code == 0 and "saved as session" in first.err
    [summary] = store().list_sessions()
    assert summary.id in first.err

    second = cli("ask", "--continue", "second question")
    assert second.code == 0 and "turn 2" in second.out
    conversation = store().load(summary.id)
    path = conversation.active_path()
    assert [(m.role, m.status) for m in path] == [
        ("user", "complete"),
        ("assistant", "complete"),
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    assert path[2].content == "second question"
    assert path[3].content.strip() == second.out.strip()
    assert path[1].usage is not None and path[1].cost is not None

    messages = chat_bodies(simulator)[-1]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[0]["content"] == "first question"
    assert messages[1]["content"] == path[1].content

    third = cli("ask", "--continue", summary.id, "third question", "--no-save")
    assert third.code == 0
    assert len(chat_bodies(simulator)[-1]["messages"]) == 5
    assert len(store().load(summary.id).active_path()) == 4


def test_continue_without_a_session_is_a_usage_error(cli):
    run = cli("ask", "--continue", "hello")
    assert run.code == ExitCode.USAGE and "no stored conversation" in run.err
    run = cli("ask", "--continue", "deadbeef", "hello")
    assert run.code == ExitCode.USAGE and "no session 'deadbeef'" in run.err


@pytest.mark.parametrize(
    ("fault", "code", "wording"),
    [
        (Fault.status(401), ExitCode.AUTH, "Authentication Fails"),
        (Fault.status(402), ExitCode.BALANCE, "Insufficient Balance"),
        (Fault.status(400), ExitCode.BAD_REQUEST, "Invalid Format"),
        (Fault.status(422), ExitCode.BAD_REQUEST, "Invalid Parameters"),
    ],
)
def test_api_errors_have_their_exit_code_cause_and_remedy(cli, simulator, fault, code, wording):
    simulator.inject(fault)
    run = cli("ask", "hi")
    assert run.code == code
    assert run.out == ""
    assert wording in run.err and "remedy:" in run.err


def test_interrupted_stream_prints_what_arrived(cli, simulator):
    simulator.inject(Fault.drop(after_chunks=6))
    run = cli("ask", "--save", "tell me about tables")
    assert run.code == ExitCode.INTERRUPTED
    assert run.out.startswith("## Answer") and run.out.endswith("\n")
    assert "Answer interrupted" in run.err and "partial answer is kept in session" in run.err
    [summary] = store().list_sessions()
    answer = store().load(summary.id).active_path()[-1]
    assert answer.status == "partial" and answer.content and answer.content in run.out


def test_no_key_is_an_auth_error(cli):
    run = cli("ask", "hi", env_changes={"DEEPSEEK_API_KEY": None})
    assert run.code == ExitCode.AUTH and "no API key" in run.err and "DEEPSEEK_API_KEY" in run.err


def test_wrong_key_never_shows_up(cli):
    wrong = "sk-wrong0123456789abcdefghij"
    run = cli("balance", env_changes={"DEEPSEEK_API_KEY": wrong})
    assert run.code == ExitCode.AUTH
    assert wrong not in run.out + run.err and "Authentication Fails" in run.err


def test_usage_errors_exit_2(cli):
    assert cli("ask", "--effort", "extreme", "q").code == ExitCode.USAGE
    assert cli("ask", "--think", "--effort", "none", "q").code == ExitCode.USAGE
    assert cli("ask", "--temperature", "5", "q").code == ExitCode.USAGE
    assert cli("ask", stdin="   \n").code == ExitCode.USAGE
    assert cli("--demo", "ask", "q").code == ExitCode.USAGE


def test_ctrl_c_stops_cleanly_and_keeps_the_partial_answer(cli, simulator):
    release = threading.Event()  # the answer stops half-way until the test is done: Ctrl+C comes first
    simulator.inject(Fault.hold(after_chunks=20, release=release))
    process = subprocess.Popen(
        [sys.executable, "-m", "deepseek_tui", "ask", "--save", "a slow answer please"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=cli.env,
        bufsize=0,
    )
    try:
        first = process.stdout.read(20)
        assert first
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=15)
    finally:
        release.set()
        if process.poll() is None:
            process.kill()
    err_text = err.decode()
    assert process.returncode == ExitCode.CANCELLED
    assert "Traceback" not in err_text and "stopped (Ctrl+C)" in err_text
    [summary] = store().list_sessions()
    answer = store().load(summary.id).active_path()[-1]
    assert answer.status == "cancelled"
    assert answer.content and (first + out).decode().startswith(answer.content)


def wait_until_blocked(process: subprocess.Popen, timeout: float = 30) -> None:
    """Wait until `process` sleeps in a system call: for `ask` without a prompt, reading stdin
    (nothing before that sleeps). A signal sent earlier, while Python is still starting, ends
    it before it can handle Ctrl+C, and how long starting takes depends on the machine."""
    stat = f"/proc/{process.pid}/stat"
    if not os.path.exists(stat):
        pytest.skip("needs /proc to tell when the process waits for input")
    end = time.monotonic() + timeout
    while True:
        with open(stat) as file:
            state = file.read().rpartition(")")[2].split()[0]
        if state == "S":
            return
        assert process.poll() is None and time.monotonic() < end, "the process did not wait for input"
        time.sleep(0.01)


def test_ctrl_c_while_reading_stdin_exits_130(cli):
    process = subprocess.Popen(
        [sys.executable, "-m", "deepseek_tui", "ask"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli.env,
    )
    wait_until_blocked(process)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=15)
    assert process.returncode == ExitCode.CANCELLED
    assert b"Traceback" not in err and out == b""


def test_closed_stdout_stops_quietly(cli, simulator):
    release = threading.Event()  # the rest of the answer comes only once stdout is closed
    simulator.inject(Fault.hold(after_chunks=10, release=release))
    process = subprocess.Popen(
        [sys.executable, "-m", "deepseek_tui", "ask", "a long answer"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli.env,
        bufsize=0,
    )
    try:
        assert process.stdout.read(5)
        process.stdout.close()  # like `| head -c 5`
    finally:
        release.set()
    err = process.stderr.read()
    assert process.wait(timeout=15) == ExitCode.OK
    assert b"Traceback" not in err and b"Exception ignored" not in err


def test_help_documents_the_exit_codes(cli):
    run = cli("ask", "--help")
    assert run.code == 0
    for code in ExitCode:
        assert f"\n  {code.value:<4} " in run.out


# --- balance and models ------------------------------------------------------------------------


def test_balance_text_and_json(cli, simulator):
    run = cli("balance")
    assert run.code == 0
    assert "available: yes" in run.out and "CNY 110.00 (granted 10.00, topped up 100.00)" in run.out
    simulator.balance = {
        "is_available": False,
        "balance_infos": [
            {"currency": "USD", "total_balance": "0.00", "granted_balance": "0.00", "topped_up_balance": "0.00"},
        ],
    }
    data = json.loads(cli("balance", "--json").out)
    assert data == {
        "is_available": False,
        "balances": [
            {"currency": "USD", "total": "0.00", "granted": "0.00", "topped_up": "0.00"},
        ],
    }
    assert "available: no" in cli("balance").out


def test_models_text_and_json(cli, tmp_path):
    run = cli("models")
    assert run.code == 0
    blocks = run.out.split("\n\n")
    assert [b.split()[0] for b in blocks[:2]] == ["deepseek-flash", "deepseek-v4-pro"]
    flash, pro = blocks[:2]
    assert "context 1,048,576 tokens" in flash and "max output 393,216" in flash
    assert "by the thinking parameter" in flash and "none, low, high, max" in flash
    assert "features: json, tools, prefix, fim, vision" in flash
    assert "prices per 1M tokens (USD): off-peak cache hit $0.003 · cache miss $0.15 · output $0.60" in flash
    assert "prices per 1M tokens (USD): off-peak cache hit $0.022 · cache miss $0.66 · output $1.98" in pro
    assert "peak pricing Mon-Fri 01:00-04:00, 06:00-10:00 UTC" in flash
    assert "deepseek-reasoner → deepseek-flash with thinking on, retired 2026-07-24" in run.out
    assert "deepseek-chat → deepseek-flash with thinking off" in run.out

    config = tmp_path / "config.toml"
    config.write_text('currency = "CNY"\n[models.my-model]\ncontext_window = 1000\n', encoding="utf-8")
    data = json.loads(cli("models", "--json", "--config", str(config)).out)
    by_id = {entry["id"]: entry for entry in data["models"]}
    assert list(by_id) == ["deepseek-flash", "deepseek-v4-pro", "my-model"]
    assert list(by_id["deepseek-flash"]["prices"]["currencies"]) == ["CNY", "USD"]
    assert by_id["deepseek-v4-pro"]["features"] == ["json", "tools", "prefix", "fim"]
    assert by_id["my-model"]["listed_by_api"] is False and by_id["my-model"]["context_window"] == 1000
    assert {r["id"]: (r["successor"], r["thinking"]) for r in data["retired"]}["deepseek-reasoner"] == (
        "deepseek-flash",
        True,
    )


# --- fim ---------------------------------------------------------------------------------------


def test_fim_from_files(cli, simulator, tmp_path):
    (tmp_path / "before.py").write_text("def add(a, b):", encoding="utf-8")
    (tmp_path / "after.py").write_text("\nprint(add(1, 2))\n", encoding="utf-8")
    run = cli(
        "fim",
        "--prefix-file",
        str(tmp_path / "before.py"),
        "--suffix-file",
        str(tmp_path / "after.py"),
        "--model",
        "deepseek-flash",
        "--max-tokens",
        "64",
    )
    assert run.code == 0 and run.err == ""
    assert "# filled in by the DeepSeek simulator" in run.out and not run.out.endswith("\n\n")
    request = [r for r in simulator.requests if r.path == "/beta/completions"][-1].body
    assert request["prompt"] == "def add(a, b):" and request["suffix"] == "\nprint(add(1, 2))\n"
    assert request["model"] == "deepseek-flash" and request["max_tokens"] == 64


def test_fim_from_stdin_with_usage(cli, simulator):
    run = cli("fim", "--suffix", "\n", "--usage", stdin="def f(x):")
    assert run.code == 0 and "return result" in run.out
    assert run.err.startswith("deepseek-tui: usage: in ") and "$" in run.err
    assert [r for r in simulator.requests if r.path == "/beta/completions"][-1].body["prompt"] == "def f(x):"


def test_fim_rejects_models_and_limits(cli):
    run = cli("fim", "--model", "deepseek-v9", stdin="x")
    assert run.code == ExitCode.USAGE and "cannot do fill-in-the-middle" in run.err and "deepseek-flash" in run.err
    retired = cli("fim", "--model", "deepseek-chat", "--suffix", "\n", stdin="def f(x):")
    assert (
        retired.code == 0
        and "deepseek-chat was retired by DeepSeek on 2026-07-24: --model now uses deepseek-flash." in retired.err
    )
    assert cli("fim", "--max-tokens", "5000", stdin="x").code == ExitCode.USAGE
    assert cli("fim", "--prefix-file", "/nonexistent/file").code == ExitCode.USAGE


def test_pipe_mode_does_not_load_textual():
    check = "import sys, deepseek_tui.cli; sys.exit('textual' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", check], timeout=30).returncode == 0


def test_one_off_flags_shape_that_request_only(cli, simulator):
    """`ask --save --max-tokens 30`: that request is cut at 30; the stored chat keeps the defaults."""
    run = cli("ask", "--save", "--max-tokens", "30", "Start a plan")
    assert run.code == 0
    assert chat_bodies(simulator)[-1]["max_tokens"] == 30
    (summary,) = [s for s in store().list_sessions()]
    stored = store().load(summary.id)
    assert stored.settings.max_tokens is None
    run = cli("ask", "--continue", summary.id, "Go on")
    assert run.code == 0 and "max_tokens" not in chat_bodies(simulator)[-1]
