"""Widgets of the conversation pane: user prompts and assistant answers."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Button, Collapsible, Markdown, Static

from deepseek_tui.ui.widgets.streaming import CoalescedMarkdown


class UserBubble(Vertical):
    """A user message, shown as plain text (never parsed as markup or Markdown)."""

    DEFAULT_CSS = """
    UserBubble { height: auto; margin: 1 0 0 0; padding: 0 1; border-left: thick $primary; }
    UserBubble .meta { color: $text-muted; }
    """

    def __init__(self, text: str, *, meta: str = "", message_id: str | None = None) -> None:
        super().__init__(id=_dom_id(message_id))
        self.message_id = message_id
        self._text = text
        self._meta = meta

    def compose(self) -> ComposeResult:
        yield Static(self._meta or "You", classes="meta", markup=False)
        yield Static(self._text, classes="text", markup=False)

    def set_meta(self, meta: str) -> None:
        self._meta = meta
        if self.is_mounted:
            self.query_one(".meta", Static).update(meta or "You")


class ReasoningBlock(Collapsible):
    """Past reasoning of one answer, collapsed; rendered only when first expanded."""

    DEFAULT_CSS = """
    ReasoningBlock { background: transparent; border: none; padding: 0; margin: 0; }
    ReasoningBlock Markdown { color: $text-muted; }
    """

    def __init__(self, reasoning: str, title: str) -> None:
        super().__init__(title=title, collapsed=True)
        self.reasoning = reasoning
        self._rendered = False

    def on_collapsible_expanded(self, event: Collapsible.Expanded) -> None:
        if event.collapsible is self and not self._rendered:
            self._rendered = True
            self.query_one(Collapsible.Contents).mount(Markdown(self.reasoning))


class AnswerBlock(Vertical):
    """An assistant answer: a label line, its past reasoning (collapsed) and the Markdown answer."""

    DEFAULT_CSS = """
    AnswerBlock { height: auto; margin: 1 0 0 0; padding: 0 1; }
    AnswerBlock .meta { color: $text-muted; }
    AnswerBlock .meta.-partial { color: $warning; }
    AnswerBlock .meta.-failed { color: $error; }
    AnswerBlock Markdown { margin: 0; padding: 0; }
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
        self._writer: CoalescedMarkdown | None = None

    def compose(self) -> ComposeResult:
        yield Static(self._meta, classes="meta", markup=False)
        if self._reasoning:
            yield ReasoningBlock(self._reasoning, self._reasoning_title)
        # Streamed answers start empty: seeding a Markdown breaks later appends (craft §2.3.4).
        yield Markdown("" if self._streaming else self._content, classes="answer")
        if self._error:
            yield Static(f"⚠ {self._error}", classes="error", markup=False)

    async def write(self, text: str) -> None:
        if self._writer is None:
            self._writer = CoalescedMarkdown(self.query_one(".answer", Markdown))
        await self._writer.write(text)

    async def close_stream(self) -> None:
        if self._writer is not None:
            await self._writer.close()
            self._writer = None

    async def replace_content(self, content: str) -> None:
        """Show a finished answer afresh (after a continuation joined the message)."""
        await self.close_stream()
        self._content = content
        await self.query_one(".answer", Markdown).update(content)

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
            await self.mount(Static(f"⚠ {error}", classes="error", markup=False))

    async def set_reasoning(self, reasoning: str, title: str) -> None:
        """Attach (or refresh) the collapsed reasoning block once the answer is done."""
        for old in self.query(ReasoningBlock):
            await old.remove()
        self._reasoning, self._reasoning_title = reasoning, title
        if reasoning:
            await self.mount(ReasoningBlock(reasoning, title), after=self.query_one(".meta"))


class ChatLog(VerticalScroll):
    """The conversation pane; keeps only recent messages mounted (older ones on demand)."""

    DEFAULT_CSS = """
    ChatLog { layout: stream; padding: 0 1; }
    ChatLog #load-earlier { width: 100%; margin: 1 0 0 0; }
    ChatLog #empty-hint { color: $text-muted; padding: 1 2; }
    """

    def on_mount(self) -> None:
        self.anchor()


def _dom_id(message_id: str | None) -> str | None:
    return f"m-{message_id}" if message_id else None


def load_earlier_button(hidden_count: int) -> Button:
    return Button(f"Show {hidden_count} earlier messages", id="load-earlier", compact=True)
