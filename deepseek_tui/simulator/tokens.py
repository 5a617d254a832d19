"""Token accounting: ~4-character text pieces, prompt sizes and prefix-cache hits (reference §8.5)."""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from typing import Any

CHARS_PER_TOKEN = 4
CACHE_UNIT_TOKENS = 64
REMEMBERED_PROMPTS = 512  # the real cache evicts too; this bounds memory and lookup time

# A token is a run of up to four non-space characters with any whitespace before it, so that
# joining the pieces gives back the text exactly and words split only when longer than four.
_TOKEN_PATTERN = re.compile(r"\s*\S{1,4}|\s+", re.DOTALL)


def split_tokens(text: str) -> list[str]:
    return _TOKEN_PATTERN.findall(text)


def count_text_tokens(text: str) -> int:
    return -(-len(text) // CHARS_PER_TOKEN)


def prompt_text(messages: list[dict[str, Any]], tools: list[Any] | None = None) -> str:
    """A flat rendering of the prompt; only its length and its prefixes matter."""
    parts: list[str] = []
    if tools:
        parts.append("<tools>" + json.dumps(tools, sort_keys=True, ensure_ascii=False))
    for message in messages:
        parts.append(f"<{message.get('role')}>")
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif content is not None:
            parts.append(json.dumps(content, ensure_ascii=False))
        if message.get("tool_calls"):
            parts.append(json.dumps(message["tool_calls"], sort_keys=True, ensure_ascii=False))
    return "".join(parts)


class PromptCache:
    """Remembers every prompt the server has seen; a hit is the longest shared prefix."""

    def __init__(self) -> None:
        self._prompts: deque[str] = deque(maxlen=REMEMBERED_PROMPTS)
        self._lock = threading.Lock()

    def hit_tokens(self, prompt: str) -> int:
        """Cached tokens for `prompt` (whole 64-token units), then remember it for later requests."""
        with self._lock:
            longest = max((_shared_prefix_length(prompt, seen) for seen in self._prompts), default=0)
            self._prompts.append(prompt)
        full_tokens = longest // CHARS_PER_TOKEN
        return full_tokens - full_tokens % CACHE_UNIT_TOKENS

    def clear(self) -> None:
        with self._lock:
            self._prompts.clear()


def _shared_prefix_length(a: str, b: str) -> int:
    limit = min(len(a), len(b))
    if a[:limit] == b[:limit]:
        return limit
    low, high = 0, limit  # a[:low] == b[:low] and a[:high] != b[:high]
    while high - low > 1:
        middle = (low + high) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle
    return low
