"""Offline token estimates (reference §8.5: ≈0.3 token per English character, ≈0.6 per Chinese).

Only for showing "about N tokens" before a request; the authoritative count is `usage`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from deepseek_tui.usage import Usage

ASCII_RATE = 0.3
CJK_RATE = 0.6
OTHER_BMP_RATE = 0.4
"""Accented Latin, Cyrillic, Greek, Arabic, ...: tokenizers split these more than ASCII."""
ASTRAL_RATE = 1.0
"""Emoji and other characters outside the BMP: usually a token or more each."""
MESSAGE_OVERHEAD = 4
"""Role markers and separators around each message."""

_CJK = re.compile(
    "[\u1100-\u11ff\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u31ff\u3200-\u9fff"
    "\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\uff00-\uffef\U00020000-\U0003134f]"
)
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def estimate_tokens(text: str) -> int:
    """A rough token count for `text` (0 for empty text)."""
    if not text:
        return 0
    if text.isascii():
        return math.ceil(len(text) * ASCII_RATE)
    non_ascii = len(_NON_ASCII.findall(text))
    cjk_chars = _CJK.findall(text)
    cjk = len(cjk_chars)
    astral = len(_ASTRAL.findall(text)) - sum(1 for c in cjk_chars if c > "\uffff")
    other = non_ascii - cjk - astral
    ascii_count = len(text) - non_ascii
    return math.ceil(ascii_count * ASCII_RATE + cjk * CJK_RATE + other * OTHER_BMP_RATE + astral * ASTRAL_RATE)


def estimate_request_tokens(body: Mapping[str, Any], image_tokens: int = 0) -> int:
    """A rough prompt size of a request body: message texts, images (`image_tokens` each: the
    model's catalogue figure), tool calls and tool definitions."""
    total = 0
    for message in body.get("messages") or ():
        total += MESSAGE_OVERHEAD
        for key in ("content", "reasoning_content"):
            value = message.get(key)
            if isinstance(value, str):
                total += estimate_tokens(value)
            elif isinstance(value, list):  # content parts: text and images
                for part in value:
                    if isinstance(part, dict) and part.get("type") == "image_url":
                        total += image_tokens
                    elif isinstance(part, dict) and isinstance(part.get("text"), str):
                        total += estimate_tokens(part["text"])
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            total += MESSAGE_OVERHEAD + estimate_tokens(str(function.get("name", "")))
            total += estimate_tokens(str(function.get("arguments", "")))
    if body.get("tools"):
        total += estimate_tokens(json.dumps(body["tools"], ensure_ascii=False))
    return total


def estimate_usage(
    body: Mapping[str, Any],
    reasoning: str,
    content: str,
    tool_arguments: str = "",
    *,
    cached_tokens: int = 0,
    image_tokens: int = 0,
) -> Usage:
    """A stand-in for the usage DeepSeek did not report (a reply cancelled or cut off mid-stream).

    `cached_tokens`: the prompt of the conversation's previous request, which DeepSeek keeps as a
    cached prefix (reference §8.5); that much of the prompt is counted as cache hits, the rest as
    misses (the dearer rate).
    """
    prompt = estimate_request_tokens(body, image_tokens)
    hits = min(prompt, cached_tokens)
    thinking = estimate_tokens(reasoning)
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=thinking + estimate_tokens(content) + estimate_tokens(tool_arguments),
        cache_hit_tokens=hits,
        cache_miss_tokens=prompt - hits,
        reasoning_tokens=thinking,
    )
