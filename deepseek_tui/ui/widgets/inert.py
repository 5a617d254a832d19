"""Textual's text widgets for text that came from outside (a model, a file, a server, a paste).

Textual draws control characters as they are, so `ESC ] 52 …` in a label or an editor would
reach the terminal. These subclasses pass everything they are given through `inert_text` (see
`deepseek_tui.inert`) on the way in; they never parse markup either.
"""

from __future__ import annotations

from textual.widgets import Input, Static, TextArea
from textual.widgets.text_area import Edit, EditResult

from deepseek_tui.inert import inert_text, is_inert


class InertStatic(Static):
    """A Static for plain outside text: no markup, no control characters."""

    def __init__(self, content: str = "", **kwargs) -> None:
        super().__init__(inert_text(content), markup=False, **kwargs)

    def update(self, content: str = "", *, layout: bool = True) -> None:  # type: ignore[override]
        super().update(inert_text(content) if isinstance(content, str) else content, layout=layout)


class InertInput(Input):
    """An Input whose value (given, typed or pasted) never holds control characters."""

    def validate_value(self, value: str) -> str:
        return inert_text(value)


class InertTextArea(TextArea):
    """A TextArea whose text (loaded, pasted or typed) never holds control characters."""

    def __init__(self, text: str = "", **kwargs) -> None:
        super().__init__(inert_text(text), **kwargs)

    def load_text(self, text: str) -> None:
        super().load_text(inert_text(text))

    def edit(self, edit: Edit) -> EditResult:
        if not is_inert(edit.text):
            edit.text = inert_text(edit.text)
        return super().edit(edit)
