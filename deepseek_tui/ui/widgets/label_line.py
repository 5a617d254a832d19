"""A label line (an answer's model · tokens · cost · time) that wraps between words only, never
inside "0.2 s": labels join a number to its unit with a no-break space (`labels.NO_BREAK`), and
Textual's own wrapping breaks lines at any whitespace, that one included."""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import RenderResult
from textual.content import Content
from textual.geometry import Size
from textual.selection import Selection

from deepseek_tui.inert import inert_text
from deepseek_tui.labels import NO_BREAK
from deepseek_tui.ui.widgets.inert import InertStatic


def wrap_label(text: str, width: int) -> list[str]:
    """Lines of at most `width` cells, broken at plain spaces only (a word longer than a line is
    cut into pieces)."""
    width = max(width, 1)
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        candidate = f"{line} {word}" if line else word
        if cell_len(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        while cell_len(word) > width:
            cut = width
            while cell_len(word[:cut]) > width:
                cut -= 1
            lines.append(word[: max(cut, 1)])
            word = word[max(cut, 1) :]
        line = word
    lines.append(line)
    return lines


class LabelLine(InertStatic):
    """Plain outside text wrapped by `wrap_label`."""

    def __init__(self, content: str = "", **kwargs) -> None:
        super().__init__(content, **kwargs)
        self._label = inert_text(content)

    def update(self, content: str = "", *, layout: bool = True) -> None:  # type: ignore[override]
        self._label = inert_text(content)
        super().update(content, layout=layout)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(wrap_label(self._label, width))

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """Copied text has plain spaces: the no-break ones only matter on screen."""
        selected = super().get_selection(selection)
        return (selected[0].replace(NO_BREAK, " "), selected[1]) if selected else None

    def render(self) -> RenderResult:
        return Content("\n".join(wrap_label(self._label, self.content_region.width or self.size.width or 80)))
