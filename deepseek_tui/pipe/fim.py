"""`deepseek-tui fim`: fill-in-the-middle (beta /completions) from files or stdin to stdout.

`fim_labels` is shared with the TUI's FIM screen, which gets its text through the app.
"""

from __future__ import annotations

from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path

from deepseek_tui import clock
from deepseek_tui.catalogue import Catalogue
from deepseek_tui.client import DeepSeekClient
from deepseek_tui.client.errors import DeepSeekError
from deepseek_tui.client.events import ContentDelta, RetryScheduled, StreamEnd, Usage, UsageReport
from deepseek_tui.config import AppConfig
from deepseek_tui.labels import usage_and_cost
from deepseek_tui.model_choice import retired_notice
from deepseek_tui.pipe.console import Console
from deepseek_tui.pipe.exits import ExitCode, exit_code_for
from deepseek_tui.pipe.runner import ClientFactory, PipeError, run_with_client, usage_error


@dataclass(frozen=True)
class FimOptions:
    prefix_file: Path | None = None
    """None: the prefix comes from stdin."""
    suffix_file: Path | None = None
    suffix: str | None = None
    model: str | None = None
    max_tokens: int | None = None
    usage: bool = False


def fim_models(catalogue: Catalogue) -> list[str]:
    return [spec.id for spec in catalogue.specs() if spec.fim]


def choose_fim_model(requested: str | None, config: AppConfig, console: Console | None = None) -> str:
    """The requested model if it can do FIM, else the configured chat model, else the first capable one.

    A retired name is replaced by its successor (with a note on `console`).
    """
    catalogue = config.catalogue()
    capable = fim_models(catalogue)
    retired = catalogue.retired(requested) if requested else None
    if retired is not None:
        requested = retired.successor
        if console is not None:
            console.note(retired_notice(retired, "--model", with_mode=False))
    if requested:
        if requested not in capable:
            raise usage_error(
                f"{requested} cannot do fill-in-the-middle",
                f"Use --model with one of: {', '.join(capable) or '(none in the catalogue)'}.",
            )
        return requested
    if config.chat.model in capable:
        return config.chat.model
    if not capable:
        raise usage_error("no model in the catalogue can do fill-in-the-middle")
    return capable[0]


fim_labels = usage_and_cost
"""(usage label, cost label) of one FIM completion."""


def run_fim(
    options: FimOptions, config: AppConfig, console: Console, client_factory: ClientFactory | None = None
) -> int:
    try:
        model = choose_fim_model(options.model, config, console)
        prefix, suffix = read_texts(options, console)
    except PipeError as error:
        return error.report(console)

    async def command(client: DeepSeekClient) -> int:
        return await stream_fim(client, model, prefix, suffix, options, config, console)

    return run_with_client(config, console, command, client_factory)


def read_texts(options: FimOptions, console: Console) -> tuple[str, str | None]:
    if options.prefix_file is not None:
        prefix = _read_file(options.prefix_file, "prefix")
    elif console.stdin.isatty():
        raise usage_error("no prefix", "Pipe it in, or give --prefix-file.")
    else:
        try:
            prefix = console.stdin.read()
        except UnicodeDecodeError:
            raise usage_error("stdin is not UTF-8 text") from None
    suffix = _read_file(options.suffix_file, "suffix") if options.suffix_file is not None else options.suffix
    return prefix, suffix


def _read_file(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise usage_error(f"cannot read the {what} file {path}: {reason}") from None


async def stream_fim(
    client: DeepSeekClient,
    model: str,
    prefix: str,
    suffix: str | None,
    options: FimOptions,
    config: AppConfig,
    console: Console,
) -> int:
    """Print the completion exactly as it arrives (no newline added: it goes between two texts)."""
    params = {"max_tokens": options.max_tokens} if options.max_tokens is not None else {}
    usage: Usage | None = None
    finish_reason = ""
    try:
        async with aclosing(client.stream_fim(model, prefix, suffix, **params)) as events:
            async for event in events:
                if isinstance(event, ContentDelta):
                    console.output(event.text)
                elif isinstance(event, UsageReport):
                    usage = event.usage
                elif isinstance(event, RetryScheduled):
                    console.note(f"{event.reason}; retry {event.attempt} in {event.delay:.1f} s")
                elif isinstance(event, StreamEnd):
                    finish_reason = event.finish_reason
    except DeepSeekError as error:
        console.api_failure(error)
        return exit_code_for(error)
    if finish_reason == "length":
        console.note("the completion was cut off at max_tokens")
    if options.usage:
        spec = config.catalogue().get(model)
        used, cost = fim_labels(usage, spec, config.currency, clock.now())
        console.note(f"usage: {used or 'not reported'}" + (f" · {cost}" if cost else "") + f" ({model})")
    return ExitCode.OK
