"""A turn on screen: its events into the answer block, the reasoning pane and the status line."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from deepseek_tui import clock, labels
from deepseek_tui.catalogue import Catalogue
from deepseek_tui.client.errors import AuthenticationFailed, DeepSeekError, InsufficientBalance, StreamInterrupted
from deepseek_tui.conversation.attachments import message_attachment_tokens
from deepseek_tui.conversation.json_mode import check_json_reply
from deepseek_tui.conversation.model import Conversation, Message
from deepseek_tui.conversation.tokens import MESSAGE_OVERHEAD, estimate_tokens
from deepseek_tui.conversation.tool_loop import LoopEvent, Reply
from deepseek_tui.conversation.turn import (
    AnswerText,
    PhaseChanged,
    ReasoningText,
    RetryNotice,
    Turn,
)
from deepseek_tui.ui.widgets.messages import AnswerBlock
from deepseek_tui.ui.widgets.reasoning import ReasoningPane
from deepseek_tui.ui.widgets.status import StatusInfo

Notify = Callable[..., None]


class ReplyDisplay:
    """Shows one turn while it runs and leaves its answer block in its finished state."""

    def __init__(
        self,
        turn: Turn,
        answer: AnswerBlock,
        pane: ReasoningPane,
        catalogue: Catalogue,
        *,
        notify: Notify,
        refresh_status: Callable[[], None],
    ) -> None:
        self.turn, self.answer, self.pane, self.catalogue = turn, answer, pane, catalogue
        self._notify, self._refresh_status = notify, refresh_status

    async def begin(self) -> None:
        if self.turn.continued:
            await self.answer.restart_stream(self.turn.message.content)
            await self.answer.set_error("")
        if self.turn.thinking:
            await self.pane.begin("Thinking…")
        else:  # an older answer's thinking would read as this one's
            await self.pane.show_text("", "Reasoning · none (chat mode)")

    async def show(self, event: LoopEvent) -> None:
        """Show a turn's event (a tool loop's own events are `LoopDisplay`'s business)."""
        if isinstance(event, AnswerText):
            await self.answer.write(event.text)
        elif isinstance(event, ReasoningText):
            await self.pane.write(event.text)
        elif isinstance(event, PhaseChanged):
            meta = labels.answer_meta(self.turn.message, self.catalogue)
            if event.phase == "answering":
                self.answer.set_meta(meta)
            elif event.phase == "thinking":
                hint = "" if self.pane.display else " (F3 shows the reasoning)"
                self.answer.set_meta(f"{meta} · thinking{hint}")
            self._refresh_status()
        elif isinstance(event, RetryNotice):
            self._notify(
                f"{event.reason} — retry {event.attempt} in {event.delay:.1f} s",
                title="Retrying",
                severity="warning",
                timeout=max(event.delay, 3),
            )

    async def finish(self) -> None:
        """The answer block as the finished message says: label, state, pretty JSON, error, thinking."""
        answer, message = self.answer, self.turn.message
        await answer.close_stream()
        await self.pane.end()
        if not answer.is_mounted:  # the chat was replaced meanwhile: nothing left to show
            return
        self.relabel()
        json_problem = ""
        if self.turn.json_output and message.status == "complete":
            verdict = check_json_reply(message.content, message.finish_reason)
            if verdict.pretty is not None:
                await answer.replace_content(f"```json\n{verdict.pretty}\n```")
            json_problem = verdict.problem or ""
        elif note := labels.empty_answer_note(message):
            await answer.replace_content(note)
        await answer.set_error(json_problem or labels.error_note(message))
        if message.reasoning:
            await answer.set_reasoning(message.reasoning, labels.thought_title(message))
            self.pane.set_title(labels.thought_title(message))

    def relabel(self) -> None:
        """The answer's label as the conversation says now (a tool loop's last reply: its rounds,
        totals and state)."""
        message, conversation = self.turn.message, self.turn.conversation
        if not self.answer.is_mounted:
            return
        state = {"partial": "partial", "cancelled": "partial", "failed": "failed"}.get(message.status, "")
        self.answer.set_meta(
            labels.answer_meta(message, self.catalogue, conversation.sibling_position(message.id), conversation),
            state=state,
        )


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
