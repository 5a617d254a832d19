"""Streaming views that are laid out once per change, not twice."""

from __future__ import annotations

from textual.geometry import Size


class OneLayoutPass:
    """Mixin for widgets that grow while text streams in (and the containers around them).

    After a layout pass Textual hands each widget its new virtual size through a reactive that
    asks for another layout pass. For these widgets that second pass changes nothing, yet it lays
    out the screen and repaints them again: per streamed flush ~5 ms, 0.2 CPU-s of a 2,000-token
    answer (bench/ui.py). Textual's own scrolling path stores the size the same way, without the
    extra pass. A scrollbar that appears or goes still asks for layout (its own reactive).
    """

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        return super()._size_updated(size, virtual_size, container_size, layout=False)  # type: ignore[misc]
