"""A conversation as a Markdown document (the active branch only; attachments are listed, their
bytes are in the JSON export).

The document's outline is its own: the title is `#`, each message a `##` section. Headings in
the messages (a model's answers often have `## …`) are moved two levels down, so they nest under
their message's section instead of standing beside it; the JSON export keeps the text as it was.
"""

from __future__ import annotations

import json
import re

from deepseek_tui import labels
from deepseek_tui.conversation.attachments import kind_label, size_label
from deepseek_tui.conversation.model import Conversation, Message, ToolRun

ROLE_HEADINGS = {"system": "System", "user": "User", "assistant": "Assistant", "tool": "Tool"}
SECTION_LEVEL = 2
"""The level of each message's heading (`##`); headings inside messages go below it."""

_ATX_HEADING = re.compile(r"^( {0,3})(#{1,6})(?=[ \t]|$)")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def nested_headings(text: str, levels: int = SECTION_LEVEL) -> str:
    """`text` with its ATX headings (`# …`) `levels` deeper, at most `######`; fenced code is
    left as it is."""
    lines = text.split("\n")
    fence = ""
    for index, line in enumerate(lines):
        opening = _FENCE.match(line)
        if fence:
            if (
                opening
                and opening.group(1)[0] == fence[0]
                and len(opening.group(1)) >= len(fence)
                and not line.strip().strip(fence[0])
            ):
                fence = ""
        elif opening:
            fence = opening.group(1)
        else:
            lines[index] = _ATX_HEADING.sub(lambda m: m.group(1) + "#" * min(len(m.group(2)) + levels, 6), line)
    return "\n".join(lines)


def markdown_text(conversation: Conversation) -> str:
    usage = conversation.total_usage()
    currency = conversation.cost_currency()
    cost = conversation.total_cost(currency) if currency else None
    front = [
        "---",
        f"title: {json.dumps(conversation.title, ensure_ascii=False)}",
        f"id: {conversation.id}",
        f"model: {conversation.last_model()}",
        f"created: {conversation.created_at.isoformat()}",
        f"updated: {conversation.updated_at.isoformat()}",
        f"messages: {len(conversation.active_path())}",
        f"prompt_tokens: {usage.prompt_tokens}",
        f"completion_tokens: {usage.completion_tokens}",
        f"cache_hit_tokens: {usage.cache_hit_tokens}",
        f"cost: {f'{cost:.6f} {currency}' if cost is not None else 'unknown'}"
        + (" (partly estimated)" if cost is not None and conversation.cost_is_estimated() else ""),
        "---",
        "",
        f"# {conversation.title}",
        "",
    ]
    parts = ["\n".join(front)]
    if conversation.system_prompt.strip():
        parts.append(f"## System\n\n{nested_headings(conversation.system_prompt)}\n")
    parts.extend(_message_markdown(m) for m in conversation.active_path())
    return "\n".join(parts)


def thought_label(message: Message) -> str:
    """As on screen ("Thought for <1 s"), with a plain space."""
    if message.reasoning_seconds is None:
        return "Thoughts"
    return labels.thought_title(message).replace(labels.NO_BREAK, " ")


def _message_markdown(message: Message) -> str:
    heading = ROLE_HEADINGS[message.role]
    if message.role == "assistant" and message.model:
        heading += f" · {message.model}"
    if message.role == "tool":
        who = f" · {message.tool_run.tool}" if message.tool_run and message.tool_run.tool else ""
        heading += f" result{who} (`{message.tool_call_id}`)"
    lines = [f"## {heading}", ""]
    if message.status != "complete":
        note = f"_({message.status}{': ' + message.error if message.error else ''})_"
        lines += [note, ""]
    if message.reasoning:
        lines += [
            f"<details><summary>{thought_label(message)}</summary>",
            "",
            nested_headings(message.reasoning),
            "",
            "</details>",
            "",
        ]
    if message.role == "tool":
        if message.tool_run is not None:
            lines += [f"_{_run_note(message.tool_run)}_", ""]
        lines += [_fenced(message.content, ""), ""]
    elif message.content:
        lines += [nested_headings(message.content), ""]
    if message.attachments:
        lines += ["**Attachments**", ""]
        for attachment in message.attachments:
            missing = f" — not available: {attachment.problem}" if attachment.problem else ""
            lines.append(f"- `{attachment.name}` ({kind_label(attachment)}, {size_label(attachment.size)}){missing}")
        lines.append("")
    for call in message.tool_calls:
        lines += [f"**Tool call** `{call.name}` (`{call.id}`)", "", _fenced(_pretty(call.arguments), "json"), ""]
    return "\n".join(lines)


def _pretty(arguments: str) -> str:
    """Arguments JSON indented for reading (as they came when they are not JSON)."""
    try:
        return json.dumps(json.loads(arguments), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return arguments


def _run_note(run: ToolRun) -> str:
    """How a call went, e.g. "ok in 0.25 s" or "refused"."""
    words = {
        "ok": "ok",
        "error": "error",
        "refused": "refused by the user",
        "cancelled": "cancelled",
        "skipped": "not run (tool round limit)",
    }
    note = words.get(run.outcome, run.outcome)
    if run.seconds is not None:
        note += f" in {run.seconds:.2f} s"
    if run.full_chars is not None:
        note += f"; output cut to the size limit (it had {run.full_chars:,} characters)"
    return note


def _fenced(text: str, language: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}{language}\n{text}\n{fence}"
