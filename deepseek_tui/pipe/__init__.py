"""Pipe mode: `ask`, `balance`, `models` and `fim` without the UI (plain stdout/stderr, no Textual).

The answer goes to stdout as it arrives; notes, reasoning and errors go to stderr. Every command
returns an exit code from `exits.ExitCode`.
"""

from deepseek_tui.pipe.account import run_balance, run_models
from deepseek_tui.pipe.ask import AskOptions, run_ask
from deepseek_tui.pipe.console import Console
from deepseek_tui.pipe.exits import ExitCode, exit_code_for, exit_codes_help
from deepseek_tui.catalogue import FIM_MAX_TOKENS
from deepseek_tui.pipe.fim import FimOptions, fim_labels, fim_models, run_fim
from deepseek_tui.pipe.runner import ClientFactory

__all__ = [
    "FIM_MAX_TOKENS",
    "AskOptions",
    "ClientFactory",
    "Console",
    "ExitCode",
    "FimOptions",
    "exit_code_for",
    "exit_codes_help",
    "fim_labels",
    "fim_models",
    "run_ask",
    "run_balance",
    "run_fim",
    "run_models",
]
