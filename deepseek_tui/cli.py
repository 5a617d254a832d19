"""Command line: `deepseek-tui [options]` starts the app; subcommands run without the UI."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Sequence

from deepseek_tui import __version__
from deepseek_tui.config import AppConfig, ConfigError, default_config_path, load_config


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
    parser.add_argument("--model", metavar="ID", help="model for new turns, e.g. deepseek-v4-flash")
    parser.add_argument(
        "--think",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="start in thinking (reasoner) mode, or not",
    )
    parser.add_argument(
        "--config", metavar="PATH", type=Path, help=f"config file (default {default_config_path()})"
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run against a built-in DeepSeek simulator on 127.0.0.1 (no key, no cost)",
    )
    parser.add_argument("--version", action="version", version=f"deepseek-tui {__version__}")
    return parser


def apply_overrides(config: AppConfig, args: argparse.Namespace) -> AppConfig:
    """Command-line options win over the config file (for this run only)."""
    if args.base_url:
        config = replace(config, base_url_override=args.base_url)
    chat = config.chat
    if args.model:
        chat = chat.updated(model=args.model)
    if args.think is not None:
        model, thinking = config.catalogue().set_thinking(chat.model, args.think)
        chat = chat.updated(model=model, thinking=thinking)
    return replace(config, chat=chat)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config_path = args.config or default_config_path()
    try:
        config = apply_overrides(load_config(config_path), args)
    except ConfigError as exc:
        print(f"deepseek-tui: {exc}\nFix the file or move it aside; it was not changed.", file=sys.stderr)
        return 2
    from deepseek_tui.ui.launch import run_app

    return run_app(config, config_path=config_path, demo=args.demo)


if __name__ == "__main__":
    sys.exit(main())
