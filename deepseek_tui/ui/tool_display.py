"""A tool loop on screen: each of its turns in its own answer block (through `ReplyDisplay`), each
tool call as a block in the answer that made it, the round limit as a notice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from deepseek_tui.catalogue import Catalogue
from deepseek_tui.conversation.model import Message
from deepseek_tui.conversation.tool_loop import (
    LoopStopped,
    RoundLimitReached,
    ToolCallFinished,
    ToolCallRequested,
    ToolCallStarted,
    ToolLoop,
    TurnStarted,
)
from deepseek_tui.conversation.turn import Turn, TurnEnded
from deepseek_tui.ui.reply import Notify, ReplyDisplay
from deepseek_tui.ui.widgets.chat_view import ChatView
from deepseek_tui.ui.widgets.messages import AnswerBlock
from deepseek_tui.ui.widgets.reasoning import ReasoningPane
from deepseek_tui.ui.widgets.tool_calls import tool_call_view, tool_call_views

BlockFor = Callable[[Message], Awaitable[AnswerBlock | None]]
"""The answer block of a message, mounted at the end of the chat if it is not there (None when
the chat shows another conversation now)."""


def blocks_in(chat: ChatView, showing: Callable[[], bool]) -> BlockFor:
    """A message's answer block in `chat`, added at its end when it is not there yet; None once
    the chat no longer `showing` the loop's conversation."""

    async def block_for(message: Message) -> AnswerBlock | None:
        if not showing():
            return None
        view = chat.answer_of(message.id) or await chat.append(message)
        return view if isinstance(view, AnswerBlock) else None

    return block_for


def round_limit_notice(rounds: int) -> str:
    return (
        f"Stopped after {rounds} tool round{'s' if rounds != 1 else ''} in a row (the limit, [tools] "
        "max_rounds): the calls of the last reply were not run. Send a message to go on."
    )


class LoopDisplay:
    """Shows a tool loop while it runs; same interface as `ReplyDisplay`."""

    def __init__(
        self,
        loop: ToolLoop,
        answer: AnswerBlock,
        pane: ReasoningPane,
        catalogue: Catalogue,
        *,
        notify: Notify,
        refresh_status: Callable[[], None],
        block_for: BlockFor,
    ) -> None:
        self.loop, self.pane, self.catalogue = loop, pane, catalogue
        self._notify, self._refresh_status, self._block_for = notify, refresh_status, block_for
        self.current = self._reply(loop.turn, answer)
        self._current_done = False

    def _reply(self, turn: Turn, answer: AnswerBlock) -> ReplyDisplay:
        return ReplyDisplay(
            turn, answer, self.pane, self.catalogue, notify=self._notify, refresh_status=self._refresh_status
        )

    async def begin(self) -> None:
        await self.current.begin()

    async def show(self, event: object) -> None:
        if isinstance(event, TurnStarted):
            if event.turn is not self.current.turn:
                block = await self._block_for(event.turn.message)
                if block is not None:
                    self.current, self._current_done = self._reply(event.turn, block), False
                    await self.current.begin()
        elif isinstance(event, TurnEnded):
            await self.current.show(event)
            await self._finish_current()
        elif isinstance(event, ToolCallRequested):
            label = event.tool.shown_as if event.tool is not None else event.call.name
            await self._show_call(
                event.message, tool_call_view(event.call, event.index, None, label=label, asking=True)
            )
            self._refresh_status()
        elif isinstance(event, ToolCallStarted):
            await self._show_call(
                event.message, tool_call_view(event.call, event.index, None, label=event.tool.shown_as, running=True)
            )
            self._refresh_status()
        elif isinstance(event, ToolCallFinished):
            await self._show_call(event.message, tool_call_view(event.call, event.index, event.result))
            self._refresh_status()
        elif isinstance(event, RoundLimitReached):
            self._notify(round_limit_notice(event.rounds), title="Tool loop stopped", severity="warning", timeout=12)
        elif isinstance(event, LoopStopped):
            self._notify(
                f"The tool results could not be sent: {event.reason}",
                title="Tool loop stopped",
                severity="error",
                timeout=12,
            )
        else:
            await self.current.show(event)  # type: ignore[arg-type]

    async def _show_call(self, message: Message, view) -> None:
        block = await self._block_for(message)
        if block is not None:
            await block.show_tool_call(view)

    async def _finish_current(self) -> None:
        if not self._current_done:
            self._current_done = True
            await self.current.finish()

    async def finish(self) -> None:
        """The last answer as it ended; every call block of the loop as the conversation says
        (calls the loop answered "cancelled" at the end included)."""
        await self._finish_current()
        if self.loop.turn is not self.current.turn:
            # stopped while the next round's block was being put on screen: that reply ends too
            block = await self._block_for(self.loop.turn.message)
            if block is not None:
                self.current, self._current_done = self._reply(self.loop.turn, block), False
                await self._finish_current()
        conversation = self.loop.conversation
        for message in self._loop_messages():
            block = await self._block_for(message)
            if block is None or not block.is_mounted:
                continue
            for view in tool_call_views(message, conversation.tool_results(message.id)):
                await block.show_tool_call(view)
        self.current.relabel()  # calls answered "cancelled" just now make the last reply end the loop

    def _loop_messages(self) -> list[Message]:
        return [m for m in self.loop.replies if m.tool_calls and m.status == "complete"]


def reply_display(
    reply: Turn | ToolLoop,
    answer: AnswerBlock,
    pane: ReasoningPane,
    catalogue: Catalogue,
    *,
    notify: Notify,
    refresh_status: Callable[[], None],
    block_for: BlockFor,
) -> ReplyDisplay | LoopDisplay:
    """The display for a turn, or for a tool loop."""
    if isinstance(reply, ToolLoop):
        return LoopDisplay(
            reply, answer, pane, catalogue, notify=notify, refresh_status=refresh_status, block_for=block_for
        )
    return ReplyDisplay(reply, answer, pane, catalogue, notify=notify, refresh_status=refresh_status)
