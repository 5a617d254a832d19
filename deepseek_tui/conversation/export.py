"""A conversation as a Markdown document (the active branch only; attachments are listed, their
bytes are in the JSON export)."""

from __future__ import annotations

import json

from deepseek_tui.conversation.attachments import kind_label, size_label
from deepseek_tui.conversation.model import Conversation, Message, ToolRun

ROLE_HEADINGS = {"system": "System", "user": "User", "assistant": "Assistant", "tool": "Tool"}


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
    if conversation.system_prompt:
        parts.append(f"## System\n\n{conversation.system_prompt}\n")
    parts.extend(_message_markdown(m) for m in conversation.active_path())
    return "\n".join(parts)


def thought_label(message: Message) -> str:
    if message.reasoning_seconds is None:
        return "Thoughts"
    return f"Thought for {message.reasoning_seconds:.0f} s"


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
            message.reasoning,
            "",
            "</details>",
            "",
        ]
    if message.role == "tool":
        if message.tool_run is not None:
            lines += [f"_{_run_note(message.tool_run)}_", ""]
        lines += [_fenced(message.content, ""), ""]
    elif message.content:
        lines += [message.content, ""]
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
    words = {"ok": "ok", "error": "error", "refused": "refused by the user", "cancelled": "cancelled",
             "skipped": "not run (tool round limit)"}
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
