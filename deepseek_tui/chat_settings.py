"""The settings that shape one chat request (no Textual, no I/O).

They live in the config file as defaults (`[chat]`) and are copied into each conversation, where
the settings pane changes them for the next turn.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

TEMPERATURE_PRESETS: dict[str, float] = {
    "code / math": 0.0,
    "data analysis": 1.0,
    "conversation": 1.3,
    "translation": 1.3,
    "creative writing": 1.5,
}
"""DeepSeek's documented temperature recommendations (reference §8.3)."""


@dataclass(frozen=True)
class ChatSettings:
    model: str = "deepseek-flash"
    """Model id sent to the API (see the catalogue)."""
    thinking: bool = False
    """Thinking mode wish (models with a thinking parameter; see the catalogue)."""
    reasoning_effort: str | None = None
    """`reasoning_effort` (V4.1: none / low / high / max; none = no thinking); None = the model's default."""
    temperature: float | None = None
    """None = the API default (1.0)."""
    top_p: float | None = None
    max_tokens: int | None = None
    """None = the model's default output budget."""
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    json_output: bool = False
    """`response_format = {"type": "json_object"}`."""
    system_prompt: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain dict without None values (TOML has no null)."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ChatSettings":
        """Build from a config/session table; unknown keys are ignored, bad types rejected."""
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                continue
            values[key] = _coerce(key, value)
        return cls(**values)

    def updated(self, **changes: Any) -> "ChatSettings":
        return replace(self, **{k: _coerce(k, v) for k, v in changes.items()})

    def with_identity_of(self, other: "ChatSettings") -> "ChatSettings":
        """These settings with `other`'s model, thinking mode, effort and system prompt: what makes
        a conversation what it is (a one-off `ask` flag for those sticks to the session it saves;
        limits and sampling flags apply to that run only)."""
        return replace(self, **{name: getattr(other, name) for name in IDENTITY_FIELDS})


IDENTITY_FIELDS = ("model", "thinking", "reasoning_effort", "system_prompt")


_FLOATS = {"temperature", "top_p", "frequency_penalty", "presence_penalty"}


def _coerce(key: str, value: Any) -> Any:
    if value is None:
        return None
    if key in _FLOATS:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{key} must be a number, not {value!r}")
        return float(value)
    if key == "max_tokens":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"max_tokens must be an integer, not {value!r}")
        return value
    if key in ("thinking", "json_output"):
        if not isinstance(value, bool):
            raise ValueError(f"{key} must be true or false, not {value!r}")
        return value
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string, not {value!r}")
    return value
