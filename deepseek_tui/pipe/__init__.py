"""Pipe mode: `ask`, `balance`, `models` and `fim` without the UI (plain stdout/stderr, no Textual).

The answer goes to stdout as it arrives; notes, reasoning and errors go to stderr. Every command
returns an exit code from `exits.ExitCode`.

Names load on first use (`deepseek-tui --help` and `--version` must not pull in the HTTP client).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "run_balance": "account",
    "run_models": "account",
    "AskOptions": "ask",
    "run_ask": "ask",
    "Console": "console",
    "ExitCode": "exits",
    "exit_code_for": "exits",
    "exit_codes_help": "exits",
    "FimOptions": "fim",
    "fim_labels": "fim",
    "fim_models": "fim",
    "run_fim": "fim",
    "ClientFactory": "runner",
}

__all__ = sorted([*_WHERE, "FIM_MAX_TOKENS"])


def __getattr__(name: str) -> Any:
    if name == "FIM_MAX_TOKENS":
        from deepseek_tui.catalogue import FIM_MAX_TOKENS

        return FIM_MAX_TOKENS
    if name in _WHERE:
        return getattr(import_module(f"deepseek_tui.pipe.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
