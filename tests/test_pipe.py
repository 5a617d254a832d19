"""Pipe mode in-process: `cli.main(argv, client_factory=...)` with fast retries for the retry-heavy
failure classes, the argument plumbing to the TUI, and the pure formatting helpers."""

from __future__ import annotations

import io
import json
import socket
from datetime import datetime, timezone

import pytest

from deepseek_tui import cli
from deepseek_tui.catalogue import Catalogue
from deepseek_tui.client import (
    AuthenticationFailed,
    BadRequest,
    ConnectionFailed,
    DeepSeekClient,
    InsufficientBalance,
    InvalidParameters,
    RateLimited,
    RetryPolicy,
    ServerError,
    StreamInterrupted,
    Timeouts,
)
from deepseek_tui.client.results import ModelInfo
from deepseek_tui.config import AppConfig
from deepseek_tui.conversation import SessionStore
from deepseek_tui.pipe import ExitCode, exit_code_for
from deepseek_tui.pipe.account import merge_models, models_json, models_text, price
from deepseek_tui.simulator import Fault

KEY = "sk-test"


def fast_client(key: str, url: str) -> DeepSeekClient:
    return DeepSeekClient(
        key, url,
        timeouts=Timeouts(connect=2, idle=3, deadline=20),
        retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05, jitter=False),
    )


@pytest.fixture
def env(simulator, monkeypatch):
    monkeypatch.setenv("DEEPSEEK_API_KEY", KEY)
    monkeypatch.setenv("DEEPSEEK_BASE_URL", simulator.url)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    return simulator


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv), client_factory=fast_client)
    out, err = capsys.readouterr()
    assert KEY not in out + err
    return code, out, err


def completion_requests(simulator) -> list:
    return [r for r in simulator.requests if r.path.endswith("completions")]


# --- failure classes that need retries ---------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limit_and_server_errors_exit_5_after_retries(env, capsys, status):
    for _ in range(3):
        env.inject(Fault.status(status))
    code, out, err = run(capsys, "ask", "hi")
    assert code == ExitCode.UNAVAILABLE
    assert out == ""
    assert err.count("; retry ") == 2  # a note per retry, then the error
    assert f"error: {status} " in err and "remedy:" in err
    assert len(completion_requests(env)) == 3


def test_a_retry_that_succeeds_exits_0(env, capsys):
    env.inject(Fault.status(429))
    code, out, err = run(capsys, "ask", "hi")
    assert code == ExitCode.OK and "You asked" in out
    assert "429 Rate Limit Reached" in err and "retry 1" in err


def test_unreachable_server_exits_5(env, capsys):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, out, err = run(capsys, "ask", "--base-url", f"http://127.0.0.1:{port}", "hi")
    assert code == ExitCode.UNAVAILABLE and "Connection failed" in err


def test_drop_before_any_output_is_retried_then_unavailable(env, capsys):
    for _ in range(3):
        env.inject(Fault.drop(after_chunks=0))
    code, out, err = run(capsys, "ask", "hi")
    assert code == ExitCode.UNAVAILABLE and out == ""


def test_interrupted_fim_prints_the_partial_completion(env, capsys):
    env.inject(Fault.drop(after_chunks=4))
    code, out, err = run(capsys, "fim", "--suffix", "x", "--prefix-file", __file__)
    assert code == ExitCode.INTERRUPTED and out and "Answer interrupted" in err


def test_unsaveable_session_exits_8_after_printing(env, capsys, tmp_path):
    blocked = tmp_path / "data-is-a-file"
    blocked.write_text("", encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(f'data_dir = "{blocked}"\n', encoding="utf-8")
    code, out, err = run(capsys, "--config", str(config), "ask", "--save", "hi")
    assert code == ExitCode.LOCAL and "You asked" in out and "could not save the session" in err


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (AuthenticationFailed(status=401), ExitCode.AUTH),
        (InsufficientBalance(status=402), ExitCode.BALANCE),
        (BadRequest(status=400), ExitCode.BAD_REQUEST),
        (InvalidParameters(status=422), ExitCode.BAD_REQUEST),
        (RateLimited(status=429), ExitCode.UNAVAILABLE),
        (ServerError(status=500), ExitCode.UNAVAILABLE),
        (ConnectionFailed("refused"), ExitCode.UNAVAILABLE),
        (StreamInterrupted("eof", partial_content="half"), ExitCode.INTERRUPTED),
        (StreamInterrupted("eof"), ExitCode.UNAVAILABLE),
    ],
)
def test_exit_code_for_each_error_class(error, code):
    assert exit_code_for(error) == code


# --- prompt and session handling ---------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_prompt_on_a_terminal_is_a_usage_error(env, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", _Terminal(""))
    code, out, err = run(capsys, "ask")
    assert code == ExitCode.USAGE and "no prompt" in err
    assert completion_requests(env) == []


def test_continue_value_without_prompt_is_the_prompt(env, capsys):
    assert run(capsys, "ask", "--save", "first")[0] == 0
    code, out, err = run(capsys, "ask", "--continue", "follow up")
    assert code == 0
    messages = completion_requests(env)[-1].body["messages"]
    assert [m["content"] for m in messages if m["role"] == "user"] == ["first", "follow up"]


def test_top_level_model_and_think_reach_the_subcommand(env, capsys):
    assert run(capsys, "--model", "deepseek-chat", "--think", "ask", "hi")[0] == 0
    assert completion_requests(env)[-1].body["model"] == "deepseek-reasoner"


def test_continue_keeps_the_session_settings(env, capsys):
    assert run(capsys, "ask", "--save", "--model", "deepseek-v4-pro", "--system", "Be terse", "one")[0] == 0
    assert run(capsys, "ask", "--continue", "two")[0] == 0
    body = completion_requests(env)[-1].body
    assert body["model"] == "deepseek-v4-pro" and body["messages"][0]["content"] == "Be terse"
    [summary] = SessionStore(AppConfig().sessions_dir()).list_sessions()
    assert summary.message_count == 4


def test_usage_flag_prints_tokens_and_cost(env, capsys):
    code, out, err = run(capsys, "ask", "--usage", "hi")
    assert code == 0 and "usage: in " in err and "$" in err


def test_inert_option_gets_a_note(env, capsys):
    code, out, err = run(capsys, "ask", "--think", "--temperature", "0.5", "hi")
    assert code == 0 and "temperature: ignored by the API in thinking mode" in err
    assert "temperature" not in completion_requests(env)[-1].body


# --- the TUI keeps its options -----------------------------------------------------------------


def test_no_subcommand_starts_the_app_with_the_overrides(monkeypatch):
    started = {}

    def fake_run_app(config, *, config_path=None, demo=False):
        started.update(config=config, demo=demo)
        return 0

    monkeypatch.setattr("deepseek_tui.ui.launch.run_app", fake_run_app)
    assert cli.main(["--base-url", "http://localhost:1", "--model", "deepseek-chat", "--think"]) == 0
    config = started["config"]
    assert config.effective_base_url() == "http://localhost:1"
    assert (config.chat.model, config.chat.thinking) == ("deepseek-reasoner", True)
    assert cli.main(["--demo"]) == 0 and started["demo"] is True


# --- models formatting -------------------------------------------------------------------------


def test_unknown_models_get_conservative_defaults():
    listed = [ModelInfo("deepseek-v4-flash"), ModelInfo("deepseek-v9-mystery")]
    rows = merge_models(listed, Catalogue())
    assert [row.spec.id for row in rows[:2]] == ["deepseek-v4-flash", "deepseek-v9-mystery"]
    assert {row.spec.id for row in rows if not row.listed} == {"deepseek-chat", "deepseek-reasoner", "deepseek-v4-pro"}
    noon = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
    text = models_text(rows, "USD", noon)
    mystery = text.split("\n\n")[1]
    assert "not in catalogue: conservative defaults" in mystery and "prices: unknown in USD" in mystery
    assert "no thinking switch" in mystery
    assert "(not now)" in text.split("\n\n")[0]
    data = models_json(rows, "USD", datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc))
    assert data[0]["prices"]["peak"]["in_effect_now"] is True
    assert data[1]["in_catalogue"] is False and data[1]["prices"] is None
    json.dumps(data)


def test_price_keeps_significant_decimals():
    assert price(0.007, "USD") == "$0.007"
    assert price(2.0, "CNY") == "¥2.00"
    assert price(0.28, "USD") == "$0.28"


def test_json_cut_off_at_max_tokens_is_explained(env, capsys):
    code, out, err = run(capsys, "ask", "--json", "--max-tokens", "5", "json please")
    assert code == ExitCode.OK and out.startswith("{")
    assert "cut off at max_tokens, so the JSON is incomplete" in err


def test_continue_takes_the_short_id_the_picker_shows(env, capsys):
    assert run(capsys, "ask", "--save", "first")[0] == 0
    [summary] = SessionStore(AppConfig().sessions_dir()).list_sessions()
    assert run(capsys, "ask", "--continue", summary.id[:8], "second")[0] == 0
    [summary] = SessionStore(AppConfig().sessions_dir()).list_sessions()
    assert summary.message_count == 4
    code, _, err = run(capsys, "ask", "--continue", "zzzzzzzz", "third")
    assert code != 0 and "no session 'zzzzzzzz'" in err
