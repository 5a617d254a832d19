"""Edit a text in the user's $EDITOR (the caller suspends the UI around it; no Textual)."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path


class EditorError(Exception):
    pass


def editor_command(environ: dict[str, str] | None = None) -> list[str]:
    environ = dict(os.environ) if environ is None else environ
    command = environ.get("VISUAL") or environ.get("EDITOR") or "vi"
    return shlex.split(command)


def edit_text(text: str, *, suffix: str = ".md", command: list[str] | None = None) -> str:
    """Open `text` in the editor and return what the user saved (the text itself on no change)."""
    command = command or editor_command()
    with tempfile.TemporaryDirectory(prefix="deepseek-tui-") as folder:
        path = Path(folder) / f"prompt{suffix}"
        path.write_text(text, encoding="utf-8")
        try:
            result = subprocess.run([*command, str(path)])
        except OSError as exc:
            raise EditorError(f"could not start {command[0]}: {exc.strerror}") from None
        if result.returncode != 0:
            raise EditorError(f"{command[0]} exited with status {result.returncode}; prompt unchanged")
        return path.read_text(encoding="utf-8")
