"""Widgets of the conversation pane: user prompts and assistant answers.

Everything they show came from the model, a session file or the server: labels are
`InertStatic`, Markdown is `MarkdownLines` (both draw control characters inert).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Collapsible, Static

from deepseek_tui.inert import inert_text
from deepseek_tui.ui.widgets.inert import InertStatic
from deepseek_tui.ui.widgets.layout_pass import OneLayoutPass
from deepseek_tui.ui.widgets.markdown_lines import MarkdownLines
from deepseek_tui.ui.widgets.streaming import Coalescer


class MessageView(OneLayoutPass, Vertical, can_focus=True):
    """A message that can be selected (focused) and acted on with single keys.

    It only asks: each key posts `MessageView.Requested` and the app does the work.
    """

    DEFAULT_CSS = """
    MessageView:focus { background: $boost; }
    """
    GROWS_AT_THE_BOTTOM = True  # no bottom border or padding: its own rows are plain background

    BINDINGS = [
        Binding("up", "step(-1)", "Previous message", show=False),
        Binding("down", "step(1)", "Next message", show=False),
        Binding("left,[", "request('sibling', -1)", "Previous branch"),
        Binding("right,]", "request('sibling', 1)", "Next branch"),
        Binding("c", "request('copy')", "Copy"),
        Binding("escape", "request('leave')", "Back to prompt"),
    ]

    @dataclass
    class Requested(Message):
        view: "MessageView"
        action: str
        step: int = 0

    message_id: str | None = None

    def action_request(self, action: str, step: int = 0) -> None:
        self.post_message(self.Requested(self, action, step))

    def action_step(self, step: int) -> None:
        views = list(self.parent.query_children(MessageView)) if self.parent else []
        index = views.index(self) + step
        if 0 <= index < len(views):
            views[index].focus()
            views[index].scroll_visible(animate=False)
        elif index >= len(views):
            self.post_message(self.Requested(self, "leave"))
        else:
            self.post_message(self.Requested(self, "earlier"))


class UserBubble(MessageView):
    """A user message, shown as plain text (never parsed as markup or Markdown)."""

    DEFAULT_CSS = """
    UserBubble { height: auto; margin: 1 0 0 0; padding: 0 1; border-left: thick $primary; }
    UserBubble .meta { color: $text-muted; }
    """

    BINDINGS = [Binding("e", "request('edit')", "Edit and resend")]

    def __init__(self, text: str, *, meta: str = "", message_id: str | None = None) -> None:
        super().__init__(id=_dom_id(message_id))
        self.message_id = message_id
        self._text = text
        self._meta = meta

    def compose(self) -> ComposeResult:
        yield InertStatic(self._meta or "You", classes="meta")
        yield InertStatic(self._text, classes="text")

    def set_meta(self, meta: str) -> None:
        self._meta = meta
        if self.is_mounted:
            self.query_one(".meta", Static).update(meta or "You")


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
        Binding("r", "request('regenerate')", "Regenerate"),
        Binding("m", "request('regenerate_other')", "Regenerate in the other mode"),
        Binding("n", "request('continue')", "Continue"),
        Binding("k", "request('copy_code')", "Copy a code block"),
        Binding("enter", "toggle_reasoning", "Show thinking"),
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
    ) -> None:
        super().__init__(id=_dom_id(message_id))
        self._error = error
        self.message_id = message_id
        self._meta = meta
        self._content = content
        self._reasoning = reasoning
        self._reasoning_title = reasoning_title
        self._streaming = streaming
        self._writer: Coalescer | None = None

    def compose(self) -> ComposeResult:
        yield InertStatic(self._meta, classes="meta")
        if self._reasoning:
            yield ReasoningBlock(self._reasoning, self._reasoning_title)
        yield MarkdownLines("" if self._streaming else self._content, classes="answer")
        if self._error:
            yield InertStatic(f"⚠ {self._error}", classes="error")

    def action_toggle_reasoning(self) -> None:
        for block in self.query(ReasoningBlock):
            block.collapsed = not block.collapsed

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

    async def set_reasoning(self, reasoning: str, title: str) -> None:
        """Attach (or refresh) the collapsed reasoning block once the answer is done."""
        for old in self.query(ReasoningBlock):
            await old.remove()
        self._reasoning, self._reasoning_title = reasoning, title
        if reasoning:
            await self.mount(ReasoningBlock(reasoning, title), after=self.query_one(".meta"))


class ChatLog(OneLayoutPass, VerticalScroll):
    """The conversation pane; keeps only recent messages mounted (older ones on demand)."""

    DEFAULT_CSS = """
    ChatLog { layout: stream; padding: 0 1; }
    ChatLog #load-earlier { width: 100%; margin: 1 0 0 0; }
    ChatLog #empty-hint { color: $text-muted; padding: 1 2; }
    """

    class ReachedTop(Message):
        """Scrolled to the very top: the app mounts earlier messages, if any wait."""

    def on_mount(self) -> None:
        self.anchor()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value <= 0 < old_value:
            self.call_after_refresh(self._check_top)

    def on_mouse_scroll_up(self) -> None:
        if self.max_scroll_y <= 0:  # everything fits: the wheel still asks for earlier messages
            self.post_message(self.ReachedTop())

    def _check_top(self) -> None:
        # Replacing the content or a layout pass can pass through 0 before anchoring to the end.
        if self.scroll_y <= 0 < self.max_scroll_y:
            self.post_message(self.ReachedTop())

    @property
    def message_views(self) -> list[MessageView]:
        return list(self.query_children(MessageView))


def _dom_id(message_id: str | None) -> str | None:
    return f"m-{message_id}" if message_id else None


def load_earlier_button(hidden_count: int) -> Button:
    return Button(f"Show {hidden_count} earlier messages", id="load-earlier", compact=True)
