"""Streaming views that are laid out once per change, not twice, and repaint only what changed."""

from __future__ import annotations

from textual.geometry import Region, Size


class OneLayoutPass:
    """Mixin for widgets that grow while text streams in (and the containers around them).

    After a layout pass Textual hands each widget its new virtual size through a reactive that
    asks for another layout pass. For these widgets that second pass changes nothing, yet it lays
    out the screen and repaints them again: per streamed flush ~5 ms, 0.2 CPU-s of a 2,000-token
    answer (bench/ui.py). Textual's own scrolling path stores the size the same way, without the
    extra pass. A scrollbar that appears or goes still asks for layout (its own reactive).

    Textual also marks every row of a widget dirty when its size changes, so every flush
    re-rendered all visible rows of the answer and its container; `GROWS_AT_THE_BOTTOM` widgets
    mark only the new rows (layout frame ~9.9 -> ~8 ms). Both override Textual's private
    `_size_updated`; tests/test_markdown_lines.py pins its signature and checks painted rows.
    """

    GROWS_AT_THE_BOTTOM = False
    """True for widgets whose rows keep their content when the height grows (no bottom border or
    padding; changed rows are refreshed by the widget): then only the new rows are repainted."""

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        old = self._size  # type: ignore[attr-defined,has-type]
        gutter = self.styles.gutter  # type: ignore[attr-defined]
        grown = (
            self.GROWS_AT_THE_BOTTOM
            and not gutter.top
            and not gutter.bottom  # rows must not move
            and size.width == old.width
            and size.height > old.height
        )
        if grown:
            self._size = size  # type: ignore[attr-defined]  # so Textual does not mark every row dirty
        changed = super()._size_updated(size, virtual_size, container_size, layout=False)  # type: ignore[misc]
        if grown:
            self._set_dirty(Region(0, old.height, size.width, size.height - old.height))  # type: ignore[attr-defined]
        return changed
