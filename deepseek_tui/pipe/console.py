"""Where pipe mode writes: the answer to stdout, everything else to stderr, flushed at once."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TextIO

from deepseek_tui.client.errors import DeepSeekError, redact

PROGRAM = "deepseek-tui"


@dataclass
class Console:
    stdin: TextIO
    stdout: TextIO
    stderr: TextIO

    @classmethod
    def standard(cls) -> "Console":
        return cls(sys.stdin, sys.stdout, sys.stderr)

    def output(self, text: str) -> None:
        """Answer text: stdout, flushed so a reader sees each piece as it arrives."""
        self.stdout.write(text)
        self.stdout.flush()

    def aside(self, text: str) -> None:
        """Text that is not the answer (reasoning): stderr, flushed."""
        self.stderr.write(text)
        self.stderr.flush()

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
