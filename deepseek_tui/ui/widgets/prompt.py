"""The prompt: a multi-line editor where Enter sends and ctrl+j / shift+enter add a newline.

Attachments: `@` followed by a path asks for completions (`CompletionWanted`); while the app shows
them (`completing`), ↑/↓, Tab/Enter and Esc go to the list. A paste that may be dropped files is
handed to the app (`PathsPasted`) instead of inserted. Backspace at the very start of the prompt
removes the last attachment.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from textual import events
from textual.document._edit import Edit
from textual.message import Message
from textual.widgets.text_area import Selection

from deepseek_tui.attach_paths import may_be_paths
from deepseek_tui.ui.widgets.inert import InertTextArea

NEWLINE_KEYS = frozenset({"ctrl+j", "shift+enter"})
_AT_FRAGMENT = re.compile(r"(?:^|(?<=\s))@([^\s@]*)$")
"""`@` at the start of a word, then the path typed so far, up to the cursor."""


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

    @dataclass
    class CompletionWanted(Message):
        """The path after `@` changed (None: there is none any more, or Esc closed the list)."""

        prompt: "PromptArea"
        fragment: str | None

    @dataclass
    class CompletionMove(Message):
        prompt: "PromptArea"
        step: int

    @dataclass
    class CompletionChosen(Message):
        """Tab or Enter while completions are shown."""

        prompt: "PromptArea"

    @dataclass
    class PathsPasted(Message):
        """A paste that may name files; the app attaches them, or inserts the text (`insert_paste`)."""

        prompt: "PromptArea"
        text: str

    @dataclass
    class RemoveLastAttachment(Message):
        """Backspace at the start of the prompt while files are attached."""

    def __init__(self, *, history: list[str] | None = None, **kwargs) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs)
        self.sent_prompts: list[str] = list(history or [])
        self._history_index: int | None = None
        self.completing = False
        """The app shows path completions to choose from: ↑/↓, Tab/Enter and Esc go to them."""
        self.has_attachments = False
        """Files are attached to the next message: it may be sent without words."""
        self._fragment: str | None = None
        self._dismissed: tuple[int, int] | None = None
        """Where the `@` is whose completions Esc closed (not offered again until it changes)."""

    async def _on_key(self, event: events.Key) -> None:
        key = event.key
        if self.completing and key in ("up", "down", "tab", "enter", "escape"):
            event.stop()
            event.prevent_default()
            if key in ("up", "down"):
                self.post_message(self.CompletionMove(self, -1 if key == "up" else 1))
            elif key == "escape":
                self._dismissed = self._at_location()
                self._offer(None)
            else:
                self.post_message(self.CompletionChosen(self))
            return
        if key == "backspace" and self.has_attachments and self.selection.is_empty and self.cursor_location == (0, 0):
            event.stop()
            event.prevent_default()
            self.post_message(self.RemoveLastAttachment())
            return
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
        if not text.strip() and not self.has_attachments:
            return
        self.post_message(self.Submitted(self, text))

    # --- attachments ------------------------------------------------------------------------

    async def _on_paste(self, event: events.Paste) -> None:
        # Textual calls each class's `_on_paste` in turn: TextArea's inserts the text afterwards,
        # unless the default is prevented here.
        if not self.read_only and may_be_paths(event.text):
            event.stop()
            event.prevent_default()
            self.post_message(self.PathsPasted(self, event.text))

    def insert_paste(self, text: str) -> None:
        """Insert a paste the app did not take for files, as a paste would have been."""
        result = self._replace_via_keyboard(text, *self.selection)
        if result:
            self.move_cursor(result.end_location)

    def on_text_area_changed(self) -> None:
        self._follow_fragment()

    def on_text_area_selection_changed(self) -> None:
        self._follow_fragment()

    def _at_fragment(self) -> tuple[int, str] | None:
        """(column of the `@`, path typed after it) when the cursor ends an `@path` word."""
        row, column = self.cursor_location
        if not self.selection.is_empty:
            return None
        match = _AT_FRAGMENT.search(self.document[row][:column])
        return (match.start(), match.group(1)) if match else None

    def _at_location(self) -> tuple[int, int] | None:
        found = self._at_fragment()
        return (self.cursor_location[0], found[0]) if found else None

    def _follow_fragment(self) -> None:
        found = self._at_fragment()
        if found is None or self._at_location() == self._dismissed:
            self._offer(None)
            if found is None:
                self._dismissed = None
            return
        self._offer(found[1])

    def _offer(self, fragment: str | None) -> None:
        if fragment != self._fragment:
            self._fragment = fragment
            self.post_message(self.CompletionWanted(self, fragment))

    def replace_fragment(self, value: str | None) -> None:
        """Put `@value` in place of the `@path` being typed (a folder: go on completing in it), or
        take the `@path` out (value None: the file it names was attached)."""
        found = self._at_fragment()
        if found is None:
            return
        row, column = self.cursor_location
        start = (row, found[0])
        if value is None:
            # The space before the `@` stays (what is typed next must not stick to the word before);
            # a space after the word goes with it when one stays before, so no double space is left.
            line, end = self.document[row], (row, column)
            if line[column : column + 1] == " " and (start[1] == 0 or line[start[1] - 1 : start[1]] == " "):
                end = (row, column + 1)
            self.replace("", start, end)
        else:
            self.replace(f"@{value}", start, (row, column))

    def remember(self, text: str) -> None:
        """Add a sent prompt to the history and clear the editor."""
        if not self.sent_prompts or self.sent_prompts[-1] != text:
            self.sent_prompts.append(text)
        self._history_index = None
        self.load_text("")
