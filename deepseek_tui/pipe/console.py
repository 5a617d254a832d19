"""Where pipe mode writes: the answer to stdout, everything else to stderr, flushed at once.

A stream that is a terminal gets the text inert (`deepseek_tui.inert`): an escape sequence in an
answer or a server message must not rewrite the clipboard or the window title. A pipe or a file
gets the text exactly as it came, and so does a terminal with `--raw`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TextIO

from deepseek_tui.client.errors import DeepSeekError, redact
from deepseek_tui.inert import InertStream

PROGRAM = "deepseek-tui"


@dataclass
class Console:
    stdin: TextIO
    stdout: TextIO
    stderr: TextIO
    inert_stdout: bool = False
    inert_stderr: bool = False
    _stdout_filter: InertStream = field(default_factory=InertStream, repr=False)
    _stderr_filter: InertStream = field(default_factory=InertStream, repr=False)

    @classmethod
    def standard(cls, *, raw: bool = False) -> "Console":
        """The process's streams; those that are terminals get inert text unless `raw`."""
        return cls(
            sys.stdin,
            sys.stdout,
            sys.stderr,
            inert_stdout=not raw and _is_terminal(sys.stdout),
            inert_stderr=not raw and _is_terminal(sys.stderr),
        )

    def output(self, text: str) -> None:
        """Answer text: stdout, flushed so a reader sees each piece as it arrives."""
        if self.inert_stdout:
            text = self._stdout_filter.feed(text)
        self.stdout.write(text)
        self.stdout.flush()

    def aside(self, text: str) -> None:
        """Text that is not the answer (reasoning): stderr, flushed."""
        if self.inert_stderr:
            text = self._stderr_filter.feed(text)
        self.stderr.write(text)
        self.stderr.flush()

    def finish(self) -> None:
        """Write what the inert filters still hold (the end of a cut escape sequence)."""
        for stream, inert, held in (
            (self.stdout, self.inert_stdout, self._stdout_filter),
            (self.stderr, self.inert_stderr, self._stderr_filter),
        ):
            rest = held.flush() if inert else ""
            if rest:
                try:
                    stream.write(rest)
                    stream.flush()
                except (OSError, ValueError):  # the reader went away; nothing left to protect
                    pass

    def note(self, text: str) -> None:
        self.aside(f"{PROGRAM}: {redact(text)}\n")

    def failure(self, summary: str, cause: str = "", remedy: str = "", request_id: str | None = None) -> None:
        lines = [f"{PROGRAM}: error: {summary}"]
        if cause and cause.rstrip(".") not in summary:
            lines.append(f"  cause: {cause}")
        if remedy:
            lines.append(f"  remedy: {remedy}")
        if request_id:
            lines.append(f"  request id: {request_id}")
        self.aside(redact("\n".join(lines)) + "\n")

    def api_failure(self, error: DeepSeekError) -> None:
        self.failure(error.summary, error.cause, error.remedy, error.request_id)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False
