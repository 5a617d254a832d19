"""Exit codes of the command-line tools: one per failure class, defined only here."""

from __future__ import annotations

from enum import IntEnum

from deepseek_tui.client.errors import (
    AuthenticationFailed,
    BadRequest,
    DeepSeekError,
    InsufficientBalance,
    InvalidParameters,
    StreamInterrupted,
    UnsupportedModel,
)
from deepseek_tui.crash import CRASH_EXIT_CODE


class ExitCode(IntEnum):
    OK = 0
    USAGE = 2
    AUTH = 3
    BALANCE = 4
    UNAVAILABLE = 5
    INTERRUPTED = 6
    BAD_REQUEST = 7
    LOCAL = 8
    MODEL = 9
    CRASH = CRASH_EXIT_CODE
    CANCELLED = 130


MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "success",
    ExitCode.USAGE: "usage error (bad option, no prompt, unknown session, bad config file, a file -a cannot send)",
    ExitCode.AUTH: "authentication: no API key, or the key was rejected (401)",
    ExitCode.BALANCE: "insufficient balance (402)",
    ExitCode.UNAVAILABLE: "rate limit, server error or connection failure, after retries (429/5xx/network)",
    ExitCode.INTERRUPTED: "the answer broke off; the partial output was printed",
    ExitCode.BAD_REQUEST: "the API rejected the request (400/422)",
    ExitCode.LOCAL: "the session could not be read or saved",
    ExitCode.MODEL: "the API does not accept the model name (retired or unknown); the message lists the ones it does",
    ExitCode.CRASH: "an unexpected error (a bug); stderr names the file with the details",
    ExitCode.CANCELLED: "stopped with Ctrl+C",
}


def exit_codes_help() -> str:
    """The exit code table for `--help` epilogs."""
    return "exit codes:\n" + "\n".join(f"  {code.value:<4} {text}" for code, text in MEANINGS.items())


def exit_code_for(error: DeepSeekError) -> ExitCode:
    if isinstance(error, StreamInterrupted):
        return ExitCode.INTERRUPTED if error.has_output else ExitCode.UNAVAILABLE
    if isinstance(error, AuthenticationFailed):
        return ExitCode.AUTH
    if isinstance(error, InsufficientBalance):
        return ExitCode.BALANCE
    if isinstance(error, UnsupportedModel):
        return ExitCode.MODEL
    if isinstance(error, (BadRequest, InvalidParameters)):
        return ExitCode.BAD_REQUEST
    return ExitCode.UNAVAILABLE
