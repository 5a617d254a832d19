"""A turn on screen: its events into the answer block, the reasoning pane and the status line."""

from __future__ import annotations

from collections.abc import Callable

from deepseek_tui import labels
from deepseek_tui.catalogue import Catalogue
from deepseek_tui.conversation.json_mode import check_json_reply
from deepseek_tui.conversation.tool_loop import LoopEvent
from deepseek_tui.conversation.turn import (
    AnswerText,
    PhaseChanged,
    ReasoningText,
    RetryNotice,
    Turn,
)
from deepseek_tui.ui.widgets.messages import AnswerBlock
from deepseek_tui.ui.widgets.reasoning import ReasoningPane

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
