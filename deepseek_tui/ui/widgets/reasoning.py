"""The reasoning pane: the model's thinking, live while it thinks and readable afterwards."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from deepseek_tui.ui.widgets.inert import InertStatic
from deepseek_tui.ui.widgets.layout_pass import OneLayoutPass
from deepseek_tui.ui.widgets.markdown_lines import MarkdownLines, StillWhileSelecting
from deepseek_tui.ui.widgets.streaming import Coalescer

EMPTY_HINT = "The model's thinking streams here in reasoner mode (ctrl+t switches). F3 hides this pane."
"""Shown when there is no reasoning: plain text styled as the Markdown emphasis it used to be, so
that the first frame does not load the Markdown renderer (issue 16: start-up)."""


class ReasoningScroll(StillWhileSelecting, OneLayoutPass, VerticalScroll):
    """Scrolls the reasoning text."""


class ReasoningPane(Vertical):
    """Streams `reasoning_content`; while hidden it only collects text and renders on show."""

    DEFAULT_CSS = """
    ReasoningPane { border-left: solid $primary-darken-2; padding: 0 0 0 1; }
    ReasoningPane #reasoning-title { color: $text-muted; text-style: bold; height: 1; }
    ReasoningPane #reasoning-scroll { height: 1fr; }
    ReasoningPane:focus-within { border-left: thick $accent; }
    ReasoningPane:focus-within #reasoning-title { color: $accent; }
    ReasoningPane MarkdownLines { color: $text-muted; margin: 0; padding: 0; }
    ReasoningPane #reasoning-hint { color: $text-muted; text-style: italic; display: none; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._parts: list[str] = []
        self._writer: Coalescer | None = None
        self._rendered_upto = 0
        self._title = "Reasoning"

    def compose(self) -> ComposeResult:
        yield InertStatic(self._title, id="reasoning-title")
        with ReasoningScroll(id="reasoning-scroll"):
            yield InertStatic(EMPTY_HINT, id="reasoning-hint")
            yield MarkdownLines(id="reasoning-text")

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def set_title(self, title: str) -> None:
        self._title = title
        self.query_one("#reasoning-title", Static).update(title)

    async def begin(self, title: str = "Thinking…") -> None:
        """Start a fresh live reasoning stream."""
        await self._reset("")
        self.set_title(title)
        self.query_one("#reasoning-scroll").anchor(False)

    async def write(self, text: str) -> None:
        self._parts.append(text)
        if not self.display:
            return
        if self._writer is None:
            self._writer = Coalescer(self.query_one("#reasoning-text", MarkdownLines))
        self._writer.write(text)
        scroll = self.query_one("#reasoning-scroll")
        if not scroll.is_anchored and scroll.max_scroll_y > 0:
            scroll.anchor()  # follow the thinking once it overflows (earlier, text stays on top)
        self._rendered_upto = len(self._parts)

    async def end(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    async def show_text(self, text: str, title: str) -> None:
        """Show finished reasoning (e.g. of the last answer), or a hint when there is none."""
        await self._reset(text)
        self.query_one("#reasoning-hint").display = not text
        self.set_title(title)
        scroll = self.query_one("#reasoning-scroll")
        scroll.anchor(False)  # finished text reads from the top
        scroll.scroll_home(animate=False)

    async def on_show(self) -> None:
        """Catch up on what arrived while hidden, in one render."""
        if self._rendered_upto < len(self._parts):
            await self.end()
            self.query_one("#reasoning-text", MarkdownLines).update(self.text)
            self._rendered_upto = len(self._parts)

    async def _reset(self, text: str) -> None:
        await self.end()
        self._parts = [text] if text else []
        self.query_one("#reasoning-hint").display = False
        self.query_one("#reasoning-text", MarkdownLines).update(text)
        self._rendered_upto = len(self._parts) if self.display else 0
