"""What the status line and a failed turn's notice say (the app asks at start and on every change;
the turn on screen is `ui/reply.py`, loaded when a turn runs)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from deepseek_tui import clock, labels
from deepseek_tui.catalogue import Catalogue
from deepseek_tui.client.errors import AuthenticationFailed, DeepSeekError, InsufficientBalance, StreamInterrupted
from deepseek_tui.conversation.attachments import message_attachment_tokens
from deepseek_tui.conversation.model import Conversation, Message
from deepseek_tui.conversation.tokens import MESSAGE_OVERHEAD, estimate_tokens
from deepseek_tui.ui.widgets.status import StatusInfo

if TYPE_CHECKING:
    from deepseek_tui.conversation.tool_loop import Reply


@dataclass(frozen=True)
class ErrorNotice:
    title: str
    text: str
    timeout: float
    ask_for_key: bool = False


def error_notice(error: DeepSeekError, balance: str) -> ErrorNotice:
    """How a failed turn is told to the user."""
    if isinstance(error, AuthenticationFailed):
        return ErrorNotice("API key rejected", str(error), 10, ask_for_key=True)
    if isinstance(error, InsufficientBalance):
        amounts = balance.removeprefix("bal ")  # the status line's label, without its prefix
        shown = f" Balance: {amounts}." if balance else ""
        return ErrorNotice("Out of balance — top up", f"{error}{shown}", 15)
    if isinstance(error, StreamInterrupted):
        return ErrorNotice("Reply interrupted — partial answer kept", str(error), 12)
    return ErrorNotice("Request failed", str(error), 12)


# --- the status line --------------------------------------------------------------------------


def status_info(
    conversation: Conversation,
    turn: Reply | None,
    catalogue: Catalogue,
    *,
    currency: str,
    balance: str,
    demo: bool,
) -> StatusInfo:
    """What the status line shows for this conversation and its current (or last) turn."""
    settings = conversation.settings
    spec = catalogue.get(settings.model)
    priced_in = conversation.cost_currency() or currency
    last = _last_assistant(conversation)
    turn = turn if turn is not None and turn.conversation is conversation else None
    return StatusInfo(
        model=settings.model,
        mode=labels.mode_label(catalogue, settings.model, settings.thinking, settings.reasoning_effort),
        state=_state_text(turn),
        turn_tokens=_turn_tokens(last),
        conversation_cost=labels.conversation_cost(conversation, priced_in),
        pricing=labels.peak_label(spec, currency, clock.now()),
        context_used=_context_used(conversation, last, turn, spec.image_tokens),
        context_window=spec.context_window,
        balance=balance,
        demo=demo,
    )


def _state_text(turn: Reply | None) -> str:
    if turn is None:
        return "ready"
    phase, progress = turn.phase, turn.progress
    now = time.monotonic()
    if phase == "queued":
        return f"queued (server busy, {progress.keepalives} keep-alives)"
    if phase == "thinking":
        return f"thinking {progress.thinking_seconds(now):.0f} s · ~{progress.reasoning_chars // 4} tok"
    if phase == "answering":
        return f"answering {progress.answer_rate(now):.0f} tok/s"
    if phase == "asking":
        return "waiting for you: run the tool?"
    if phase == "tool":
        return "running a tool"
    return phase


def _last_assistant(conversation: Conversation) -> Message | None:
    return next((m for m in reversed(conversation.active_path()) if m.role == "assistant"), None)


def _turn_tokens(last: Message | None) -> str:
    if last is None or last.usage is None:
        return ""
    return labels.usage_label(last.usage, compact=True, estimated=last.usage_estimated)


def _context_used(conversation: Conversation, last: Message | None, turn: Reply | None, image_tokens: int) -> int:
    """The tokens the next request starts from: the last reply's reported size, else an estimate
    (attachments included: an image at the model's tokens per image)."""
    if last is not None and last.context_usage is not None:
        return last.context_usage.total_tokens
    if turn is not None and turn.message is last:
        return turn.estimated_prompt_tokens
    return sum(
        estimate_tokens(m.content) + MESSAGE_OVERHEAD + message_attachment_tokens(m.attachments, image_tokens)
        for m in conversation.active_path()
    )
