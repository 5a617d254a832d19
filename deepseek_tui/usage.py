"""Token usage of a request: a value shared by the client (which reads it off the wire) and the
conversation layer (which stores, adds up and prices it). No Textual, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one request, as DeepSeek reports them."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cache_hit_tokens: int = 0
    cache_miss_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> "Usage":
        """Read a `usage` object; cache hits fall back to `prompt_tokens_details.cached_tokens`."""
        prompt = int(data.get("prompt_tokens") or 0)
        hit = data.get("prompt_cache_hit_tokens")
        if hit is None:
            hit = (data.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
        miss = data.get("prompt_cache_miss_tokens")
        if miss is None:
            miss = max(prompt - int(hit), 0)
        details = data.get("completion_tokens_details") or {}
        return cls(
            prompt_tokens=prompt,
            completion_tokens=int(data.get("completion_tokens") or 0),
            cache_hit_tokens=int(hit),
            cache_miss_tokens=int(miss),
            reasoning_tokens=int(details.get("reasoning_tokens") or 0),
        )

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.cache_hit_tokens + other.cache_hit_tokens,
            self.cache_miss_tokens + other.cache_miss_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
        )
