"""Config file: defaults, parsing errors, mode 0600, env precedence, the example file."""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path

import pytest

from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.cli import apply_overrides, build_parser
from deepseek_tui.config import AppConfig, ConfigError, load_config, parse_config, save_config

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


def test_missing_file_gives_defaults(tmp_path):
    assert load_config(tmp_path / "nope.toml") == AppConfig()


def test_save_creates_mode_0600_and_round_trips(tmp_path):
    path = tmp_path / "sub" / "config.toml"
    config = AppConfig(
        api_key="sk-secret",
        chat=ChatSettings(model="deepseek-v4-pro", temperature=0.0),
        keymap={"toggle_mode": "f5"},
        currency="CNY",
    )
    save_config(config, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_config(path) == config


def test_bad_toml_is_reported_and_left_alone(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("model = [unclosed")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)
    assert path.read_text() == "model = [unclosed"


@pytest.mark.parametrize(
    "doc, message",
    [
        ({"currency": "EUR"}, "currency must be one of"),
        ({"chat": {"temperature": "hot"}}, "temperature must be a number"),
        ({"keymap": {"toggle_mode": 5}}, "keymap"),
        ({"models": {"x": {"bogus": 1}}}, "unknown field"),
        ({"show_reasoning": "yes"}, "wrong type"),
    ],
)
def test_bad_values_name_the_key(doc, message):
    with pytest.raises(ConfigError, match=message):
        parse_config(doc)


def test_environment_wins_but_is_never_saved(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-from-env")
    monkeypatch.setenv("DEEPSEEK_BASE_URL", "http://127.0.0.1:9")
    config = AppConfig(api_key="sk-from-file")
    assert config.effective_api_key() == "sk-from-env"
    assert config.effective_base_url() == "http://127.0.0.1:9"
    save_config(config, tmp_path / "c.toml")
    assert "sk-from-env" not in (tmp_path / "c.toml").read_text()
    demo = AppConfig(api_key="sk-demo", base_url="http://sim", use_environment=False)
    assert demo.effective_api_key() == "sk-demo" and demo.effective_base_url() == "http://sim"


def test_repr_hides_key():
    assert "sk-secret" not in repr(AppConfig(api_key="sk-secret"))


def test_cli_options_override_for_this_run_only():
    args = build_parser().parse_args(["--base-url", "http://x", "--model", "deepseek-v4-pro", "--think"])
    config = apply_overrides(AppConfig(), args)
    assert config.effective_base_url() == "http://x" and config.base_url != "http://x"
    assert (config.chat.model, config.chat.thinking) == ("deepseek-v4-pro", True)
    assert config.notices == ()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--model", "deepseek-reasoner"], ("deepseek-flash", True)),
        (["--model", "deepseek-chat"], ("deepseek-flash", False)),
        (["--model", "deepseek-reasoner", "--no-think"], ("deepseek-flash", False)),  # --think wins
        (["--model", "deepseek-chat", "--think"], ("deepseek-flash", True)),
    ],
)
def test_a_retired_model_on_the_command_line_moves_to_its_successor(argv, expected):
    config = apply_overrides(AppConfig(), build_parser().parse_args(argv))
    assert (config.chat.model, config.chat.thinking) == expected
    [notice] = config.notices
    assert notice.startswith(f"{argv[1]} was retired by DeepSeek on 2026-07-24: --model now uses deepseek-flash")
    assert not config.names_retired_model  # the file is not rewritten for a --model


def test_a_config_file_naming_a_retired_model_moves_to_its_successor(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        '[chat]\nmodel = "deepseek-reasoner"\nreasoning_effort = "medium"\n'
        "[models.deepseek-v4-flash]\nprices_usd = [0.007, 0.22, 0.66]\n"
    )
    config = load_config(path)
    assert (config.chat.model, config.chat.thinking, config.chat.reasoning_effort) == ("deepseek-flash", True, "high")
    assert config.names_retired_model
    assert config.notices == (
        f"deepseek-reasoner was retired by DeepSeek on 2026-07-24: [chat] in {path} now uses deepseek-flash "
        "with thinking on.",
        f"[models.deepseek-v4-flash] in {path} is ignored: DeepSeek retired deepseek-v4-flash.",
    )
    assert "deepseek-v4-flash" not in config.catalogue()
    save_config(config, path)  # what the app does once it has told the user
    again = load_config(path)
    assert again.chat.model == "deepseek-flash" and not again.names_retired_model
    assert "notices" not in path.read_text()


def test_effort_none_in_the_file_means_thinking_off():
    config = parse_config({"chat": {"model": "deepseek-flash", "thinking": True, "reasoning_effort": "none"}})
    assert (config.chat.thinking, config.chat.reasoning_effort) == (False, None)
    assert config.notices == ()


def test_example_file_parses_and_every_setting_is_documented():
    text = EXAMPLE.read_text()
    config = parse_config(tomllib.loads(text))
    assert config.chat.model == "deepseek-flash" and config.notices == ()
    documented = text.replace("# ", "")
    for name in (
        "api_key",
        "base_url",
        "session_format",
        "currency",
        "on_start",
        "theme",
        "show_reasoning",
        "show_settings",
        "data_dir",
        *ChatSettings.__dataclass_fields__,
    ):
        assert f"{name} =" in documented, name
    from deepseek_tui.ui.app import DeepSeekApp

    for binding in DeepSeekApp.BINDINGS:
        if binding.id != "quit":
            assert f"{binding.id} =" in documented, binding.id
