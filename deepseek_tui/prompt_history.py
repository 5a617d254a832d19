"""The prompts sent from the app, kept per data directory for ↑ in the next session (no Textual).

One JSON list in `prompt-history.json`, newest last, at most `LIMIT` entries. A save merges what
is on disk first, so two app windows on one data directory keep each other's prompts. A missing
or unreadable file is an empty history (it is not user data: the conversations hold every prompt),
and it is replaced by the next save.
"""

from __future__ import annotations

import json
from pathlib import Path

from deepseek_tui.atomic import atomic_write_bytes

FILE_NAME = "prompt-history.json"
LIMIT = 500
MAX_BYTES = 4 * 1024 * 1024


def load(path: Path) -> list[str]:
    try:
        if path.stat().st_size > MAX_BYTES:
            return []
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return []
    if not isinstance(data, list):
        return []
    return [item for item in data if isinstance(item, str)][-LIMIT:]


def remember(path: Path, prompt: str) -> list[str]:
    """Add `prompt` (unless it repeats the newest entry) and save; returns the history."""
    history = load(path)
    if not history or history[-1] != prompt:
        history.append(prompt)
    history = history[-LIMIT:]
    atomic_write_bytes(path, json.dumps(history, ensure_ascii=False).encode("utf-8"), mode=0o600, durable=False)
    return history
