"""A conversation as a Markdown document (the active branch only; attachments are listed, their
bytes are in the JSON export)."""

from __future__ import annotations

import json

from deepseek_tui.conversation.attachments import kind_label, size_label
from deepseek_tui.conversation.model import Conversation, Message

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
        heading += f" result (`{message.tool_call_id}`)"
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
        lines += [f"**Tool call** `{call.name}` (`{call.id}`)", "", _fenced(call.arguments, "json"), ""]
    return "\n".join(lines)


def _fenced(text: str, language: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}{language}\n{text}\n{fence}"
