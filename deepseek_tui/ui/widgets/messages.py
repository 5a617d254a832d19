"""Widgets of the conversation pane: user prompts and assistant answers.

Everything they show came from the model, a session file or the server: labels are
`InertStatic`, Markdown is `MarkdownLines` (both draw control characters inert).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Collapsible, Static

from deepseek_tui.conversation.attachments import Attachment
from deepseek_tui.inert import inert_text
from deepseek_tui.ui.intents import (
    ContinueAnswer,
    CopyCode,
    CopyMessage,
    EditMessage,
    LeaveChat,
    Regenerate,
    SwitchBranch,
)
from deepseek_tui.ui.widgets.attachment_views import attachment_widgets
from deepseek_tui.ui.widgets.inert import InertStatic
from deepseek_tui.ui.widgets.label_line import LabelLine
from deepseek_tui.ui.widgets.layout_pass import OneLayoutPass
from deepseek_tui.ui.widgets.markdown_lines import MarkdownLines
from deepseek_tui.ui.widgets.streaming import Coalescer
from deepseek_tui.ui.widgets.tool_calls import ToolCallBlock, ToolCallView


class MessageView(OneLayoutPass, Vertical, can_focus=True):
    """A message that can be selected (focused) and acted on with single keys.

    It only asks: each key posts an intent (deepseek_tui/ui/intents.py) and the app does the work.
    """

    DEFAULT_CSS = """
    MessageView:focus { background: $accent 18%; }
    """
    GROWS_AT_THE_BOTTOM = True  # no bottom border or padding: its own rows are plain background

    BINDINGS = [
        Binding("up", "step(-1)", "Previous message", show=False, id="message_previous"),
        Binding("down", "step(1)", "Next message", show=False, id="message_next"),
        # Branch keys and Esc stay out of the footer (F1 lists them; the label shows ‹1/2›), so the
        # footer has room for the keys that act on the message at 120 columns.
        Binding(
            "left,[",
            "switch_branch(-1)",
            "◀ branch",
            id="message_previous_branch",
            show=False,
            tooltip="Show the previous branch (another version of this message)",
        ),
        Binding(
            "right,]",
            "switch_branch(1)",
            "branch ▶",
            id="message_next_branch",
            show=False,
            tooltip="Show the next branch (another version of this message)",
        ),
        Binding("c", "copy", "Copy", id="message_copy", tooltip="Copy the message"),
        Binding("escape", "leave", "Back", id="message_leave", show=False, tooltip="Back to the prompt"),
    ]

    @dataclass
    class PastTheFirst(Message):
        """↑ on the first mounted message: the chat mounts earlier ones, if any wait."""

        view: "MessageView"

    message_id: str | None = None

    def _ask(self, intent: Message) -> None:
        self.post_message(intent)

    def action_switch_branch(self, step: int) -> None:
        if self.message_id:
            self._ask(SwitchBranch(self.message_id, step))

    def action_copy(self) -> None:
        if self.message_id:
            self._ask(CopyMessage(self.message_id))

    def action_leave(self) -> None:
        self._ask(LeaveChat())

    def action_step(self, step: int) -> None:
        views = list(self.parent.query_children(MessageView)) if self.parent else []
        index = views.index(self) + step
        if 0 <= index < len(views):
            views[index].focus()
            views[index].scroll_visible(animate=False)
        elif index >= len(views):
            self._ask(LeaveChat())
        else:
            self._ask(self.PastTheFirst(self))


class UserBubble(MessageView):
    """A user message, shown as plain text (never parsed as markup or Markdown)."""

    DEFAULT_CSS = """
    UserBubble { height: auto; margin: 1 0 0 0; padding: 0 1; border-left: thick $primary; }
    UserBubble .meta { color: $text-muted; }
    UserBubble .attachment { color: $text-muted; }
    UserBubble .attachment.-not-sent { color: $warning; }
    UserBubble:focus { border-left: thick $accent; }
    """

    BINDINGS = [
        Binding("e", "edit", "Edit", id="message_edit", tooltip="Edit this question and resend it (a new branch)")
    ]

    def __init__(
        self,
        text: str,
        *,
        meta: str = "",
        message_id: str | None = None,
        attachments: tuple[Attachment, ...] = (),
        images_not_sent_to: str | None = None,
    ) -> None:
        """`images_not_sent_to`: the model that answers does not see images; they went as notes."""
        super().__init__(id=_dom_id(message_id))
        self.message_id = message_id
        self._text = text
        self._meta = meta
        self._attachments = attachments
        self._images_not_sent_to = images_not_sent_to

    def compose(self) -> ComposeResult:
        yield InertStatic(self._meta or "You", classes="meta")
        if self._text or not self._attachments:
            yield InertStatic(self._text, classes="text")
        yield from attachment_widgets(self._attachments, images_not_sent_to=self._images_not_sent_to)

    def set_meta(self, meta: str) -> None:
        self._meta = meta
        if self.is_mounted:
            self.query_one(".meta", Static).update(meta or "You")

    def action_edit(self) -> None:
        if self.message_id:
            self._ask(EditMessage(self.message_id))


class ReasoningBlock(Collapsible):
    """Past reasoning of one answer, collapsed; rendered only when first expanded."""

    DEFAULT_CSS = """
    ReasoningBlock { background: transparent; border: none; padding: 0; margin: 0; }
    ReasoningBlock MarkdownLines { color: $text-muted; }
    """

    def __init__(self, reasoning: str, title: str) -> None:
        super().__init__(title=inert_text(title), collapsed=True)
        self.reasoning = reasoning
        self._rendered = False

    def on_collapsible_expanded(self, event: Collapsible.Expanded) -> None:
        if event.collapsible is self and not self._rendered:
            self._rendered = True
            self.query_one(Collapsible.Contents).mount(MarkdownLines(self.reasoning))


class AnswerBlock(MessageView):
    """An assistant answer: a label line, its past reasoning (collapsed) and the Markdown answer."""

    BINDINGS = [
        Binding(
            "r",
            "regenerate(False)",
            "Regenerate",
            id="message_regenerate",
            tooltip="Answer this question again (the old answer stays as a branch)",
        ),
        Binding(
            "m",
            "regenerate(True)",
            "Other mode",
            id="message_regenerate_other_mode",
            tooltip="Answer again in the other mode (chat / reasoner)",
        ),
        Binding(
            "n", "continue_answer", "Continue", id="message_continue", tooltip="Continue this answer where it stopped"
        ),
        Binding("k", "copy_code", "Code", id="message_copy_code", tooltip="Copy one of its code blocks"),
        Binding(
            "enter",
            "toggle_reasoning",
            "Thinking",
            id="message_toggle_thinking",
            tooltip="Show or hide the answer's thinking (its tool calls when it has no thinking)",
        ),
        Binding(
            "t",
            "toggle_tool_calls",
            "Calls",
            id="message_toggle_tool_calls",
            tooltip="Open or close the answer's tool call blocks",
        ),
    ]

    DEFAULT_CSS = """
    AnswerBlock { height: auto; margin: 1 0 0 0; padding: 0 1; }
    AnswerBlock .meta { color: $text-muted; }
    AnswerBlock .meta.-partial { color: $warning; }
    AnswerBlock .meta.-failed { color: $error; }
    AnswerBlock MarkdownLines { margin: 0; padding: 0; }
    AnswerBlock .error { color: $error; margin: 0 0 0 1; }
    """

    def __init__(
        self,
        *,
        message_id: str | None,
        meta: str,
        content: str = "",
        reasoning: str = "",
        reasoning_title: str = "",
        streaming: bool = False,
        error: str = "",
        tool_calls: Sequence[ToolCallView] = (),
    ) -> None:
        super().__init__(id=_dom_id(message_id))
        self._error = error
        self._tool_calls = list(tool_calls)
        self.message_id = message_id
        self._meta = meta
        self._content = content
        self._reasoning = reasoning
        self._reasoning_title = reasoning_title
        self._streaming = streaming
        self._writer: Coalescer | None = None

    def compose(self) -> ComposeResult:
        yield LabelLine(self._meta, classes="meta")
        if self._reasoning:
            yield ReasoningBlock(self._reasoning, self._reasoning_title)
        yield MarkdownLines("" if self._streaming else self._content, classes="answer")
        for view in self._tool_calls:
            yield ToolCallBlock(view)
        if self._error:
            yield InertStatic(f"⚠ {self._error}", classes="error")

    def action_regenerate(self, other_mode: bool) -> None:
        if self.message_id:
            self._ask(Regenerate(self.message_id, other_mode))

    def action_continue_answer(self) -> None:
        if self.message_id:
            self._ask(ContinueAnswer(self.message_id))

    def action_copy_code(self) -> None:
        if self.message_id:
            self._ask(CopyCode(self.message_id))

    def action_toggle_reasoning(self) -> None:
        reasoning = list(self.query(ReasoningBlock))
        if not reasoning:
            self.action_toggle_tool_calls()
        for block in reasoning:
            block.collapsed = not block.collapsed

    def action_toggle_tool_calls(self) -> None:
        """Open every call block when one is closed, else close them all."""
        calls = list(self.query(ToolCallBlock))
        opening = any(block.collapsed for block in calls)
        for block in calls:
            block.collapsed = not opening

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_tool_calls":  # offered (and in the footer) on answers with calls only
            return bool(self.query(ToolCallBlock))
        return True

    async def restart_stream(self, existing: str) -> None:
        """Continue an answer: show what it has, then append the continuation."""
        await self.replace_content(existing)

    async def write(self, text: str) -> None:
        if self._writer is None:
            self._writer = Coalescer(self.query_one(".answer", MarkdownLines))
        self._writer.write(text)

    async def close_stream(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    async def replace_content(self, content: str) -> None:
        """Show another text (a note, pretty JSON, or the answer before a continuation)."""
        await self.close_stream()
        self._content = content
        self.query_one(".answer", MarkdownLines).update(content)

    def set_meta(self, meta: str, *, state: str = "") -> None:
        self._meta = meta
        label = self.query_one(".meta", Static)
        label.update(meta)
        label.set_class(state == "partial", "-partial")
        label.set_class(state == "failed", "-failed")

    async def set_error(self, error: str) -> None:
        """Show why the answer stopped (kept on screen, unlike a notification)."""
        for old in self.query(".error"):
            await old.remove()
        self._error = error
        if error:
            await self.mount(InertStatic(f"⚠ {error}", classes="error"))

    async def show_tool_call(self, view: ToolCallView) -> None:
        """Add the block of one of the answer's tool calls, or show its new state."""
        for block in self.query(ToolCallBlock):
            if block.view.index == view.index:
                block.show(view)
                return
        blocks = list(self.query(ToolCallBlock))
        after = blocks[-1] if blocks else self.query_one(".answer")
        await self.mount(ToolCallBlock(view), after=after)
        self.refresh_bindings()

    async def set_reasoning(self, reasoning: str, title: str) -> None:
        """Attach (or refresh) the collapsed reasoning block once the answer is done."""
        for old in self.query(ReasoningBlock):
            await old.remove()
        self._reasoning, self._reasoning_title = reasoning, title
        if reasoning:
            await self.mount(ReasoningBlock(reasoning, title), after=self.query_one(".meta"))


def _dom_id(message_id: str | None) -> str | None:
    return f"m-{message_id}" if message_id else None
