"""JSON output mode rules (reference §2.2): the prompt must say "json"; replies can be empty or cut.

Used by the chat screen and by pipe mode.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

JSON_HINT = "Reply with a single valid JSON object."
"""Added to the system prompt in JSON mode when no message says "json" (the API demands it)."""


def mentions_json(body: Mapping[str, Any]) -> bool:
    return any("json" in str(m.get("content") or "").lower() for m in body.get("messages", ()))


def with_json_hint(system_prompt: str) -> str:
    return f"{system_prompt}\n\n{JSON_HINT}" if system_prompt.strip() else JSON_HINT


@dataclass(frozen=True)
class JsonReply:
    pretty: str | None
    """The reply re-indented, when it is valid JSON."""
    problem: str | None
    """Why it is not usable, in words for the user (documented behaviours explained)."""


def check_json_reply(content: str, finish_reason: str | None) -> JsonReply:
    if finish_reason == "length":
        return JsonReply(
            None,
            "The JSON was cut off at max_tokens, so it is incomplete: raise max_tokens, or continue the answer (F5).",
        )
    if not content.strip():
        return JsonReply(
            None,
            "JSON mode returned an empty reply. DeepSeek documents that this can happen: "
            "give an example of the JSON you want in the prompt and try again.",
        )
    try:
        value = json.loads(content)
    except json.JSONDecodeError as exc:
        return JsonReply(None, f"The reply is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}).")
    return JsonReply(json.dumps(value, indent=2, ensure_ascii=False), None)
