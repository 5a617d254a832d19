"""What an unexpected error leaves behind: the traceback in a file, one line on stderr, exit 70.

The file goes to the user state directory (`~/.local/state/deepseek-tui/crash-<UTC time>.txt` on
Linux), mode 0600. API keys are scrubbed from it: the given ones, every key a client registered,
and anything shaped like a key. Local variables are not written (they hold the config, the key
with it). The line on stderr is short and inert; the exit status is `CRASH_EXIT_CODE`.
"""

from __future__ import annotations

import platform
import sys
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import platformdirs

from deepseek_tui import __version__, clock
from deepseek_tui.atomic import atomic_write_bytes
from deepseek_tui.client.errors import redact
from deepseek_tui.inert import inert_text

CRASH_EXIT_CODE = 70
"""EX_SOFTWARE in sysexits.h: an internal error (pipe mode's `ExitCode.CRASH` is this one).
Kept here, not imported from pipe mode: the app imports this module at start."""
_REDACTED = "[REDACTED]"


@dataclass(frozen=True)
class CrashReport:
    error: BaseException
    summary: str
    """The error in one short, scrubbed, inert line ("ValueError: …")."""
    path: Path | None
    """Where the traceback was written; None when it could not be."""
    problem: str = ""
    """Why it could not be written."""


def crash_dir() -> Path:
    return platformdirs.user_state_path("deepseek-tui")


def write_crash_report(error: BaseException, *, secrets: Iterable[str | None] = ()) -> CrashReport:
    """Write the traceback of `error` to a new file in `crash_dir()`; never raises."""
    secrets = list(secrets)
    summary = _summary(error, secrets)
    try:
        text = scrub(_report_text(error), secrets)
        moment = clock.now()
        path = crash_dir() / f"crash-{moment:%Y%m%d-%H%M%S-%f}.txt"
        atomic_write_bytes(path, text.encode("utf-8", "replace"), mode=0o600)
        return CrashReport(error, summary, path)
    except Exception as exc:  # a full disk must not hide the original error
        return CrashReport(error, summary, None, _summary(exc, secrets))


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, _REDACTED)
    return redact(text)


def crash_line(report: CrashReport, *, saved: str = "") -> str:
    """The one line for stderr: what happened and where the details are."""
    where = f"details in {report.path}" if report.path else f"the details could not be written ({report.problem})"
    return f"deepseek-tui: stopped by an unexpected error ({report.summary}). {saved}{where}"


def report_crash(
    error: BaseException, *, secrets: Iterable[str | None] = (), stream: TextIO | None = None, saved: str = ""
) -> int:
    """Write the report, print the line, and return the exit code for it."""
    report = write_crash_report(error, secrets=secrets)
    print(crash_line(report, saved=saved), file=stream or sys.stderr)
    return CRASH_EXIT_CODE


def _summary(error: BaseException, secrets: Iterable[str | None]) -> str:
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    text = inert_text(" ".join(scrub(text, secrets).split()))
    return text if len(text) <= 160 else text[:159] + "…"


def _report_text(error: BaseException) -> str:
    header = (
        f"deepseek-tui {__version__} crashed at {clock.now().isoformat()}\n"
        f"Python {platform.python_version()} on {platform.platform()}\n\n"
    )
    return header + "".join(traceback.format_exception(error))


__all__ = ["CRASH_EXIT_CODE", "CrashReport", "crash_dir", "crash_line", "report_crash", "scrub", "write_crash_report"]
