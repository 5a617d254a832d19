"""Run one pipe-mode command: resolve the key, open a client, map every failure to an exit code."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable

from deepseek_tui.client import DeepSeekClient
from deepseek_tui.client.errors import DeepSeekError
from deepseek_tui.config import AppConfig
from deepseek_tui.pipe.console import Console
from deepseek_tui.pipe.exits import ExitCode, exit_code_for

ClientFactory = Callable[[str, str], DeepSeekClient]
"""(api_key, base_url) -> client; tests pass one with fast retries."""

Command = Callable[[DeepSeekClient], Awaitable[int]]


class PipeError(Exception):
    """A failure of ours (not the API's), with the exit code it ends the program with."""

    def __init__(self, code: ExitCode, summary: str, remedy: str = "") -> None:
        super().__init__(summary)
        self.code = code
        self.summary = summary
        self.remedy = remedy

    def report(self, console: Console) -> int:
        console.failure(self.summary, remedy=self.remedy)
        return self.code


def usage_error(summary: str, remedy: str = "") -> PipeError:
    return PipeError(ExitCode.USAGE, summary, remedy)


def run_with_client(
    config: AppConfig, console: Console, command: Command, client_factory: ClientFactory | None = None
) -> int:
    """Run `command` with a client for the configured key and base URL; returns the exit code."""
    api_key = config.effective_api_key()
    if not api_key:
        console.failure(
            "no API key",
            cause="Neither DEEPSEEK_API_KEY nor api_key in the config file is set.",
            remedy="export DEEPSEEK_API_KEY=sk-…, or start deepseek-tui once and enter the key.",
        )
        return ExitCode.AUTH
    factory = client_factory or (lambda key, url: DeepSeekClient(key, url))

    async def run() -> int:
        async with factory(api_key, config.effective_base_url()) as client:
            return await command(client)

    try:
        return asyncio.run(run())
    except DeepSeekError as error:
        console.api_failure(error)
        return exit_code_for(error)
    except PipeError as error:
        return error.report(console)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, and keep Python from
        # complaining when it flushes stdout at exit.
        _silence_stdout(console)
        return ExitCode.OK


def _silence_stdout(console: Console) -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, console.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
