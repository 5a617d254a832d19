"""The prompt: a multi-line editor where Enter sends and ctrl+j / shift+enter add a newline."""

from __future__ import annotations

from dataclasses import dataclass

from typing import Sequence

from textual import events
from textual.document._edit import Edit
from textual.message import Message
from textual.widgets.text_area import Selection

from deepseek_tui.ui.widgets.inert import InertTextArea

NEWLINE_KEYS = frozenset({"ctrl+j", "shift+enter"})


class PromptArea(InertTextArea):
    """Enter posts `PromptArea.Submitted`; pasted newlines are inserted, never sent. Pasted
    control characters (and those of an earlier message loaded for editing) are made inert.

    Up in an empty prompt (or while browsing history) recalls earlier prompts; down goes forward.
    """

    DEFAULT_CSS = """
    PromptArea { height: auto; min-height: 3; max-height: 12; }
    """

    @dataclass
    class Submitted(Message):
        prompt: "PromptArea"
        text: str

    def __init__(self, *, history: list[str] | None = None, **kwargs) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs)
        self.sent_prompts: list[str] = list(history or [])
        self._history_index: int | None = None

    async def _on_key(self, event: events.Key) -> None:
        key = event.key
        if key == "enter":
            event.stop()
            event.prevent_default()
            self._submit()
            return
        if key in NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            self.insert("\n")
            return
        if key == "up" and self._may_browse_history():
            event.stop()
            event.prevent_default()
            self._recall(-1)
            return
        if key == "down" and self._history_index is not None:
            event.stop()
            event.prevent_default()
            self._recall(+1)
            return
        await super()._on_key(event)

    # Textual 8.2.8 refreshes the scrollbars in the middle of an undo or redo, before it puts the
    # cursor back: a cursor left below the end of a now shorter text raises ValueError and ends
    # the app (Textualize/textual#6686, fix proposed in #6687). The top of the batch's edits is
    # a place that exists before and after, so the cursor waits there meanwhile.

    def _undo_batch(self, edits: Sequence[Edit]) -> None:
        self._park_cursor(edits)
        super()._undo_batch(edits)

    def _redo_batch(self, edits: Sequence[Edit]) -> None:
        self._park_cursor(edits)
        super()._redo_batch(edits)

    def _park_cursor(self, edits: Sequence[Edit]) -> None:
        if edits:
            self.selection = Selection.cursor(min(edit.top for edit in edits))

    def _may_browse_history(self) -> bool:
        if not self.sent_prompts:
            return False
        if self._history_index is not None:
            return self.text == self.sent_prompts[self._history_index]
        return not self.text

    def _recall(self, step: int) -> None:
        index = len(self.sent_prompts) if self._history_index is None else self._history_index
        index += step
        if index >= len(self.sent_prompts):
            self._history_index = None
            self.load_text("")
            return
        self._history_index = max(index, 0)
        self.load_text(self.sent_prompts[self._history_index])
        self.move_cursor(self.document.end)

    def _submit(self) -> None:
        text = self.text
        if not text.strip():
            return
        self.post_message(self.Submitted(self, text))

    def remember(self, text: str) -> None:
        """Add a sent prompt to the history and clear the editor."""
        if not self.sent_prompts or self.sent_prompts[-1] != text:
            self.sent_prompts.append(text)
        self._history_index = None
        self.load_text("")
