"""Command line: `deepseek-tui [options]` starts the app; subcommands run without the UI."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from deepseek_tui import __version__
from deepseek_tui.catalogue import FIM_MAX_TOKENS
from deepseek_tui.config import AppConfig, ConfigError, default_config_path, load_config
from deepseek_tui.crash import report_crash
from deepseek_tui.model_choice import current_settings
from deepseek_tui.pipe.console import Console
from deepseek_tui.pipe.exits import ExitCode, exit_codes_help

if TYPE_CHECKING:
    from deepseek_tui.pipe.runner import ClientFactory

ASK_DESCRIPTION = """\
Ask one question and stream the answer to stdout. The prompt is the PROMPT argument, or stdin
when PROMPT is - or left out (and stdin is not a terminal). Notes and errors go to stderr.

  deepseek-tui ask "What is a monad?"
  git diff | deepseek-tui ask --system "Review this diff" -
  deepseek-tui ask --save "Plan a trip"; deepseek-tui ask --continue "Make it shorter"
  deepseek-tui ask -a screenshot.png -a app.py "Why does the button not show?"
  deepseek-tui ask --tools --yes "What files are in my notes folder?"

A saved or continued conversation keeps the --model, --think/--effort and --system given; other
options (--max-tokens, --temperature, --json) apply to this run only.
"""

FIM_DESCRIPTION = f"""\
Fill in the middle (beta /completions): the model writes what goes between a prefix and a
suffix. The prefix comes from --prefix-file or stdin. The completion is printed exactly as
received (no newline added; on a terminal, escape sequences in it are made visible unless --raw).
max_tokens is at most {FIM_MAX_TOKENS}.
"""


def _ranged(kind: Callable[[str], float | int], low: float, high: float | None = None) -> Callable[[str], float | int]:
    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"must be {bound}, not {text}")
        return value

    return parse


def _subcommand_parents() -> argparse.ArgumentParser:
    """--base-url and --config, also accepted after the subcommand (SUPPRESS: no default that
    would overwrite the same option given before it)."""
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument("--base-url", metavar="URL", default=argparse.SUPPRESS, help="API base URL")
    shared.add_argument("--config", metavar="PATH", type=Path, default=argparse.SUPPRESS, help="config file")
    shared.add_argument(
        "--raw",
        action="store_true",
        help="write escape sequences from the model or server to a terminal as they are "
        "(by default a terminal gets them made visible; pipes and files always get them as they are)",
    )
    return shared


def _add_subcommands(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(
        dest="command", metavar="[COMMAND]", title="commands (optional; without one the app starts)"
    )
    shared = _subcommand_parents()
    epilog = exit_codes_help()
    raw = argparse.RawDescriptionHelpFormatter

    ask = commands.add_parser(
        "ask",
        parents=[shared],
        help="ask one question, answer on stdout",
        description=ASK_DESCRIPTION,
        epilog=epilog,
        formatter_class=raw,
    )
    ask.add_argument("prompt", nargs="?", metavar="PROMPT", help="the question; - or absent: read stdin")
    ask.add_argument(
        "--model", metavar="ID", default=argparse.SUPPRESS, help="model id (`deepseek-tui models` lists them)"
    )
    ask.add_argument(
        "--think",
        action=argparse.BooleanOptionalAction,
        default=argparse.SUPPRESS,
        help="thinking (reasoner) mode on or off",
    )
    ask.add_argument(
        "--effort",
        metavar="LEVEL",
        help="reasoning effort: none/low/high/max (none = no thinking; others imply --think)",
    )
    ask.add_argument("--system", metavar="TEXT", help="system prompt")
    ask.add_argument("--temperature", type=_ranged(float, 0.0, 2.0), metavar="T", help="sampling temperature 0-2")
    ask.add_argument("--max-tokens", type=_ranged(int, 1), metavar="N", help="answer length limit in tokens")
    ask.add_argument(
        "--json",
        dest="json_output",
        action="store_true",
        help='JSON output mode; adds a "json" instruction to the system prompt when no message has one',
    )
    ask.add_argument("--show-reasoning", action="store_true", help="print the reasoning to stderr")
    ask.add_argument(
        "--continue",
        dest="continue_session",
        nargs="?",
        const="",
        metavar="SESSION",
        help="continue the most recent (or the given) stored conversation; its history is sent",
    )
    ask.add_argument(
        "--save",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="store the exchange as a session the TUI can open (default: only with --continue)",
    )
    ask.add_argument("--usage", action="store_true", help="print token usage and cost to stderr")
    ask.add_argument(
        "-a",
        "--attach",
        action="append",
        default=[],
        metavar="FILE",
        help="send a file with the prompt (repeatable): text goes in as a fenced block, an image "
        "(PNG, JPEG, WebP, GIF) as an image for a model that sees images",
    )
    ask.add_argument(
        "--tools",
        action="store_true",
        help="offer the tools of the configured MCP servers; calls and results are noted on stderr",
    )
    ask.add_argument(
        "--yes",
        action="store_true",
        help="with --tools: run every tool call without asking (without a terminal to ask on, calls are "
        "refused unless this or the tool's confirm = false in the config allows them)",
    )

    balance = commands.add_parser(
        "balance",
        parents=[shared],
        help="print the account balance",
        epilog=epilog,
        formatter_class=raw,
        description="Print the account balance per currency and whether it suffices for API calls.",
    )
    balance.add_argument("--json", dest="json_output", action="store_true", help="machine-readable JSON")

    models = commands.add_parser(
        "models",
        parents=[shared],
        help="list the models with limits, features and prices",
        epilog=epilog,
        formatter_class=raw,
        description=(
            "List the models /models reports, merged with the catalogue: limits, thinking switch, "
            "efforts, features, prices per 1M tokens (off-peak and peak, in both currencies; "
            '"unknown" where DeepSeek\'s price is not known), the peak hours, models the server no '
            "longer lists, and the retired names with their successors."
        ),
    )
    models.add_argument("--json", dest="json_output", action="store_true", help="machine-readable JSON")

    fim = commands.add_parser(
        "fim",
        parents=[shared],
        help="fill in the middle (code completion)",
        description=FIM_DESCRIPTION,
        epilog=epilog,
        formatter_class=raw,
    )
    fim.add_argument("--prefix-file", type=Path, metavar="PATH", help="the text before the gap (default: stdin)")
    suffix = fim.add_mutually_exclusive_group()
    suffix.add_argument("--suffix-file", type=Path, metavar="PATH", help="the text after the gap")
    suffix.add_argument("--suffix", metavar="TEXT", help="the text after the gap")
    fim.add_argument("--model", metavar="ID", default=argparse.SUPPRESS, help="a FIM-capable model id")
    fim.add_argument(
        "--max-tokens",
        type=_ranged(int, 1, FIM_MAX_TOKENS),
        metavar="N",
        help=f"completion length limit (at most {FIM_MAX_TOKENS})",
    )
    fim.add_argument("--usage", action="store_true", help="print token usage and cost to stderr")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deepseek-tui",
        description="A keyboard-driven terminal chat app for the DeepSeek API.",
        epilog=(
            "The API key comes from DEEPSEEK_API_KEY or the config file; the base URL also from "
            "DEEPSEEK_BASE_URL. Try it without a key: deepseek-tui --demo"
        ),
    )
    parser.add_argument("--base-url", metavar="URL", help="API base URL (default https://api.deepseek.com)")
    parser.add_argument("--model", metavar="ID", help="model for new turns (`deepseek-tui models` lists them)")
    parser.add_argument(
        "--think",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="start in thinking (reasoner) mode, or not",
    )
    parser.add_argument("--config", metavar="PATH", type=Path, help=f"config file (default {default_config_path()})")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run against a built-in DeepSeek simulator on 127.0.0.1 (no key, no cost)",
    )
    parser.add_argument("--version", action="version", version=f"deepseek-tui {__version__}")
    _add_subcommands(parser)
    return parser


def apply_overrides(config: AppConfig, args: argparse.Namespace) -> AppConfig:
    """Command-line options win over the config file (for this run only)."""
    if args.base_url:
        config = replace(config, base_url_override=args.base_url)
    chat, notices = config.chat, config.notices
    if args.model:
        choice = current_settings(chat.updated(model=args.model), config.catalogue(), where="--model")
        chat = choice.settings
        notices += (choice.notice,) if choice.notice else ()
    if args.think is not None:
        model, thinking = config.catalogue().set_thinking(chat.model, args.think)
        chat = chat.updated(model=model, thinking=thinking)
    return replace(config, chat=chat, notices=notices)


def run_subcommand(
    args: argparse.Namespace, config: AppConfig, console: Console, client_factory: ClientFactory | None
) -> int:
    if args.base_url:
        config = replace(config, base_url_override=args.base_url)
    if args.command == "ask":
        from deepseek_tui.pipe.ask import AskOptions, run_ask

        options = AskOptions(
            prompt=args.prompt,
            model=args.model,
            think=args.think,
            effort=args.effort,
            system=args.system,
            temperature=args.temperature,
            max_tokens=args.max_tokens,
            json_output=args.json_output,
            show_reasoning=args.show_reasoning,
            continue_session=args.continue_session,
            save=args.save,
            usage=args.usage,
            attach=tuple(args.attach),
            tools=args.tools,
            yes=args.yes,
        )
        return run_ask(options, config, console, client_factory)
    from deepseek_tui.pipe.account import run_balance, run_models
    from deepseek_tui.pipe.fim import FimOptions, run_fim

    if args.command == "balance":
        return run_balance(config, console, as_json=args.json_output, client_factory=client_factory)
    if args.command == "models":
        return run_models(config, console, as_json=args.json_output, client_factory=client_factory)
    options_fim = FimOptions(
        prefix_file=args.prefix_file,
        suffix_file=args.suffix_file,
        suffix=args.suffix,
        model=args.model,
        max_tokens=args.max_tokens,
        usage=args.usage,
    )
    return run_fim(options_fim, config, console, client_factory)


def main(argv: Sequence[str] | None = None, *, client_factory: ClientFactory | None = None) -> int:
    """`client_factory` replaces how subcommands build their DeepSeekClient (tests: fast retries)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command and args.demo:
        parser.error("--demo starts the app; it cannot be combined with a subcommand")
    config_path = args.config or default_config_path()
    try:
        config = load_config(config_path)
        if args.command is None:
            config = apply_overrides(config, args)
    except ConfigError as exc:
        print(f"deepseek-tui: {exc}\nFix the file or move it aside; it was not changed.", file=sys.stderr)
        return ExitCode.USAGE
    if args.command is not None:
        console = Console.standard(raw=args.raw)
        try:
            return run_subcommand(args, config, console, client_factory)
        except KeyboardInterrupt:
            console.note("stopped (Ctrl+C)")
            return ExitCode.CANCELLED
        except Exception as error:  # a bug: one line and a report file, not a traceback over the output
            return report_crash(error, secrets=[config.effective_api_key(), config.api_key])
        finally:
            console.finish()
    from deepseek_tui.ui.launch import run_app

    return run_app(config, config_path=config_path, demo=args.demo)


if __name__ == "__main__":
    sys.exit(main())
