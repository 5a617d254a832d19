"""Pipe mode in-process: `cli.main(argv, client_factory=...)` with fast retries for the retry-heavy
failure classes, the argument plumbing to the TUI, and the pure formatting helpers."""

from __future__ import annotations

import io
import json
import socket
from datetime import UTC, datetime

import pytest

from deepseek_tui import cli
from deepseek_tui.catalogue import Catalogue
from deepseek_tui.chat_settings import ChatSettings
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
from deepseek_tui.client.events import Usage
from deepseek_tui.client.results import ModelInfo
from deepseek_tui.config import AppConfig
from deepseek_tui.conversation import Conversation, SessionStore
from deepseek_tui.pipe import ExitCode, exit_code_for
from deepseek_tui.pipe.account import merge_models, models_json, models_text, price
from deepseek_tui.simulator import Fault

KEY = "sk-test"


def fast_client(key: str, url: str) -> DeepSeekClient:
    return DeepSeekClient(
        key,
        url,
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
    assert run(capsys, "--model", "deepseek-v4-pro", "--think", "ask", "hi")[0] == 0
    body = completion_requests(env)[-1].body
    assert body["model"] == "deepseek-v4-pro" and body["thinking"] == {"type": "enabled"}


@pytest.mark.parametrize(("retired", "thinking"), [("deepseek-reasoner", "enabled"), ("deepseek-chat", "disabled")])
def test_a_retired_model_answers_on_its_successor_and_says_so_once(env, capsys, retired, thinking):
    code, out, err = run(capsys, "ask", "--model", retired, "hello")
    assert code == ExitCode.OK and "You asked" in out
    body = completion_requests(env)[-1].body
    assert body["model"] == "deepseek-flash" and body["thinking"] == {"type": thinking}
    mode = "on" if thinking == "enabled" else "off"
    assert err == (
        f"deepseek-tui: {retired} was retired by DeepSeek on 2026-07-24: --model now uses deepseek-flash "
        f"with thinking {mode}.\n"
    )


def test_ask_hello_sends_deepseek_flash(env, capsys):
    code, out, err = run(capsys, "ask", "hello")
    assert code == ExitCode.OK and err == ""
    body = completion_requests(env)[-1].body
    assert body["model"] == "deepseek-flash" and body["thinking"] == {"type": "disabled"}


@pytest.mark.parametrize(("effort", "thinking", "sent"), [("none", "disabled", None), ("medium", "enabled", "high")])
def test_effort_none_is_no_thinking_and_aliases_are_accepted(env, capsys, effort, thinking, sent):
    assert run(capsys, "ask", "--effort", effort, "hi")[0] == ExitCode.OK
    body = completion_requests(env)[-1].body
    assert body["thinking"] == {"type": thinking} and body.get("reasoning_effort") == sent


def test_a_model_the_api_does_not_accept_is_explained(env, capsys):
    code, out, err = run(capsys, "ask", "--model", "deepseek-v9", "hi")
    assert code == ExitCode.MODEL == 9 and out == ""
    assert "The supported API model names are deepseek-flash or deepseek-v4-pro, but you passed deepseek-v9" in err
    assert "remedy: Use deepseek-flash or deepseek-v4-pro" in err
    assert len(completion_requests(env)) == 1


def test_a_session_stored_with_a_retired_model_continues_on_its_successor(env, capsys):
    """A session file from before V4.1: settings and history name deepseek-reasoner."""
    conversation = Conversation(settings=ChatSettings(model="deepseek-reasoner"))  # the old default: thinking False
    conversation.add_user("first")
    old = conversation.start_assistant("deepseek-reasoner", thinking=True)
    old.content, old.reasoning = "An old answer.", "Old reasoning."
    conversation.finish_assistant(old.id, usage=Usage(prompt_tokens=10, completion_tokens=20, cache_miss_tokens=10))
    old.cost, old.currency = 0.0123, "USD"
    store = SessionStore(AppConfig().sessions_dir())
    store.save(conversation)
    code, out, err = run(capsys, "ask", "--continue", conversation.id, "second")
    assert code == ExitCode.OK
    assert err.count("deepseek-reasoner was retired by DeepSeek") == 1
    body = completion_requests(env)[-1].body
    assert body["model"] == "deepseek-flash" and body["thinking"] == {"type": "enabled"}
    saved = store.load(conversation.id)
    first_reply, new_reply = [m for m in saved.active_path() if m.role == "assistant"]
    assert (first_reply.model, first_reply.cost, first_reply.content) == ("deepseek-reasoner", 0.0123, "An old answer.")
    assert new_reply.model == "deepseek-flash" and new_reply.thinking
    assert saved.settings.model == "deepseek-flash" and saved.settings.thinking


def test_continue_keeps_the_session_settings(env, capsys):
    assert run(capsys, "ask", "--save", "--model", "deepseek-v4-pro", "--system", "Be terse", "one")[0] == 0
    assert run(capsys, "ask", "--continue", "two")[0] == 0
    body = completion_requests(env)[-1].body
    assert body["model"] == "deepseek-v4-pro" and body["messages"][0]["content"] == "Be terse"
    [summary] = SessionStore(AppConfig().sessions_dir()).list_sessions()
    assert summary.message_count == 4


PRICE_FACTOR = {"weekday-peak": 2.0, "weekday-off-peak": 1.0, "saturday": 1.0}
"""deepseek-flash at each pinned moment: peak prices are double, on weekdays only (reference §12)."""


def test_usage_flag_prints_tokens_and_cost(env, capsys, any_moment):
    """The cost is today's price at the moment the answer completed (the pinned clock)."""
    code, out, err = run(capsys, "ask", "--save", "--usage", "hi")
    assert code == 0 and "usage: in " in err
    [summary] = SessionStore(AppConfig().sessions_dir()).list_sessions()
    reply = SessionStore(AppConfig().sessions_dir()).load(summary.id).active_path()[-1]
    usage = reply.usage
    off_peak = (usage.cache_hit_tokens * 0.003 + usage.cache_miss_tokens * 0.15 + usage.completion_tokens * 0.60) / 1e6
    assert reply.cost == pytest.approx(off_peak * PRICE_FACTOR[any_moment])
    assert f"· ${reply.cost:.5f}" in err


def test_unknown_prices_say_unknown(env, capsys, monkeypatch, tmp_path):
    """deepseek-flash has no off-peak CNY price: the cost is "unknown", never a guess."""
    config = tmp_path / "cny.toml"
    config.write_text('currency = "CNY"\n')
    monkeypatch.setenv("DEEPSEEK_TUI_CONFIG", str(config))
    code, out, err = run(capsys, "ask", "--usage", "hi")
    assert code == 0 and err.rstrip().endswith("· cost unknown") and "¥" not in err


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
    assert (config.chat.model, config.chat.thinking) == ("deepseek-flash", True)
    assert config.notices and "deepseek-chat was retired" in config.notices[0]
    assert cli.main(["--demo"]) == 0 and started["demo"] is True


# --- models formatting -------------------------------------------------------------------------


def test_models_listing_marks_unknown_and_unlisted_models():
    listed = [ModelInfo("deepseek-flash"), ModelInfo("deepseek-v9-mystery"), ModelInfo("deepseek-chat")]
    rows = merge_models(listed, Catalogue())
    assert [(row.spec.id, row.listed) for row in rows] == [
        ("deepseek-flash", True),
        ("deepseek-v9-mystery", True),
        ("deepseek-v4-pro", False),
    ]  # a retired name the server still lists is not offered
    wednesday_noon = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    blocks = models_text(rows, "USD", wednesday_noon).split("\n\n")
    flash, mystery, pro = blocks
    assert "prices per 1M tokens (USD): off-peak cache hit $0.003 · cache miss $0.15 · output $0.60" in flash
    assert "    peak cache hit $0.006 · cache miss $0.30 · output $1.20" in flash
    assert "prices per 1M tokens (CNY): off-peak unknown" in flash
    assert "    peak cache hit unknown · cache miss ¥2.00 · output ¥8.00" in flash
    assert "peak pricing Mon-Fri 01:00-04:00, 06:00-10:00 UTC (not now)" in flash
    assert "features: json, tools, prefix, fim, vision" in flash
    assert "max output 393,216 (default 8,192; thinking 65,536; effort max 131,072)" in flash
    assert "efforts: none, low, high, max (default high; none = no thinking;" in flash
    assert "not in catalogue: conservative defaults, price unknown" in mystery and "prices: unknown" in mystery
    assert "no thinking switch" in mystery
    assert "not listed by /models: retired (or known only from the config), not offered" in pro
    saturday_peak_hour = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    assert "(not now)" in models_text(rows, "USD", saturday_peak_hour)
    data = models_json(rows, "USD", datetime(2026, 11, 25, 2, 0, tzinfo=UTC))
    assert data[0]["prices"]["peak_hours"] == {
        "days": ["Mon", "Tue", "Wed", "Thu", "Fri"],
        "windows_utc": ["01:00-04:00", "06:00-10:00"],
        "in_effect_now": True,
    }
    assert data[0]["prices"]["currencies"]["CNY"] == {
        "off_peak": None,
        "peak": {"cache_hit": None, "cache_miss": 2.0, "output": 8.0},
    }
    assert data[1]["in_catalogue"] is False and data[1]["prices"] is None
    assert data[2]["listed_by_api"] is False
    json.dumps(data)


def test_price_keeps_significant_decimals():
    assert price(0.007, "USD") == "$0.007"
    assert price(2.0, "CNY") == "¥2.00"
    assert price(0.28, "USD") == "$0.28"
    assert price(None, "CNY") == "unknown"


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
