"""`deepseek-tui ask --tools [--yes]` in-process against the simulator, with a real MCP server (stdio)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
import tomli_w

from deepseek_tui import cli
from deepseek_tui.client import DeepSeekClient, RetryPolicy, Timeouts
from deepseek_tui.conversation import SessionStore
from deepseek_tui.conversation.tool_loop import REFUSED
from deepseek_tui.pipe import ExitCode

KEY = "sk-test"
SERVER = Path(__file__).parent / "mcp_servers" / "stdio_server.py"


def fast_client(key: str, url: str) -> DeepSeekClient:
    return DeepSeekClient(
        key,
        url,
        timeouts=Timeouts(connect=2, idle=5, deadline=30),
        retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.05, jitter=False),
    )


@pytest.fixture
def env(simulator, monkeypatch, tmp_path):
    monkeypatch.setenv("DEEPSEEK_API_KEY", KEY)
    monkeypatch.setenv("DEEPSEEK_BASE_URL", simulator.url)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal: nobody to ask
    return simulator


def config_file(tmp_path: Path, **server) -> Path:
    table = {"command": sys.executable, "args": [str(SERVER), "--hello", "box ready"], **server}
    path = tmp_path / "config.toml"
    path.write_text(
        tomli_w.dumps(
            {
                "chat": {"model": "deepseek-flash", "thinking": True},
                "mcp": {"servers": {"box": table}},
                "tools": {"start_timeout": 30},
            }
        )
    )
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv), client_factory=fast_client)
    out, err = capsys.readouterr()
    assert KEY not in out + err
    return code, out, err


def chat_bodies(simulator) -> list[dict]:
    return [r.body for r in simulator.requests if r.path.endswith("/chat/completions")]


def test_with_yes_the_calls_run_and_go_to_stderr(env, capsys, tmp_path):
    code, out, err = run(
        capsys,
        "ask",
        "--config",
        str(config_file(tmp_path)),
        "--tools",
        "--yes",
        "--usage",
        "Use lookup_city for Oslo, then add 2 and 40",
    )
    assert code == ExitCode.OK
    assert '→ box · lookup_city {"city": "Oslo"}' in err
    assert "← box · lookup_city · ✓" in err and "Oslo has 3 rivers and 12 bridges." in err
    assert '→ box · add {"a": 2, "b": 40}' in err and ": 42" in err
    assert "usage: 2 tool rounds · " in err and "(3 requests)" in err
    assert "42" in out and "→" not in out
    assert len(chat_bodies(env)) == 3 and all(body["tools"] for body in chat_bodies(env))


def test_without_a_terminal_calls_are_refused_unless_yes(env, capsys, tmp_path):
    code, out, err = run(capsys, "ask", "--config", str(config_file(tmp_path)), "--tools", "Use add 2 and 40")
    assert code == ExitCode.OK
    assert "refused box · add: no terminal to confirm the call (--yes runs tool calls without asking)" in err
    assert "← box · add · refused" in err
    assert chat_bodies(env)[1]["messages"][-1]["content"] == REFUSED


def test_a_tool_the_config_lets_run_without_asking_runs_without_yes(env, capsys, tmp_path):
    path = config_file(tmp_path, tools={"add": {"confirm": False}})
    code, out, err = run(capsys, "ask", "--config", str(path), "--tools", "Use add 2 and 40")
    assert code == ExitCode.OK and "← box · add · ✓" in err and "refused" not in err


def test_a_saved_session_with_tool_turns_continues(env, capsys, tmp_path):
    path = config_file(tmp_path)
    code, _, err = run(capsys, "ask", "--config", str(path), "--tools", "--yes", "--save", "Use add 1 and 2")
    assert code == ExitCode.OK and "saved as session" in err
    code, out, err = run(
        capsys, "ask", "--config", str(path), "--tools", "--yes", "--continue", "Use lookup_city for Bergen"
    )
    assert code == ExitCode.OK and "Bergen has 3 rivers" in err
    store = SessionStore(tmp_path / "data" / "deepseek-tui" / "sessions")
    session = store.load(store.most_recent().id)
    assert [m.role for m in session.active_path()] == ["user", "assistant", "tool", "assistant"] * 2
    assert all(m.tool_run.outcome == "ok" for m in session.active_path() if m.role == "tool")


def test_tools_without_servers_is_a_usage_error(env, capsys, tmp_path):
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    code, out, err = run(capsys, "ask", "--config", str(empty), "--tools", "hi")
    assert code == ExitCode.USAGE and "--tools: no MCP servers are configured" in err
    assert chat_bodies(env) == []


def test_a_server_that_fails_is_reported_and_the_answer_comes_without_tools(env, capsys, tmp_path):
    path = config_file(tmp_path, args=["-c", "import sys; print('no licence', file=sys.stderr); sys.exit(3)"])
    code, out, err = run(capsys, "ask", "--config", str(path), "--tools", "Use add 1 and 2")
    assert code == ExitCode.OK and out
    assert "MCP server box did not start" in err and "box stderr: no licence" in err
    assert "no tools are available: answering without them" in err
    assert "tools" not in chat_bodies(env)[0]
