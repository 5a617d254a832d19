"""How a sent message shows its attachments: one line per file (name, kind, size), and under an
image a small preview in half-block characters (each cell two pixels: ▀ with the upper pixel as
its colour and the lower as its background), which any colour terminal can show.

Previews are PNG only (deepseek_tui/image_preview.py); other images, and PNGs too large to decode
quickly, are shown by their line alone. A large PNG is decoded in a thread: its line shows first,
its preview when it is ready.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual import work
from textual.widgets import Static

from deepseek_tui.conversation.attachments import Attachment, kind_label, size_label
from deepseek_tui.ui.widgets.inert import InertStatic

if TYPE_CHECKING:
    from deepseek_tui.image_preview import Preview  # the decoder loads with the first image shown

PREVIEW_COLUMNS = 32
PREVIEW_ROWS = 8
"""Cells of a preview at most (the pixels are twice as many rows)."""
DECODE_INLINE_PIXELS = 256 * 256
"""Smaller PNGs are previewed at once (a few ms); larger ones in a thread (a 3000×1600 screenshot
takes about a second on the 2-core development machine)."""


def attachment_line(attachment: Attachment, not_sent_to: str | None = None) -> str:
    """ "📎 src/app.py · text · 2.1 KB", with why it is not available when it is not, and that an
    image was not sent when the model (`not_sent_to`) does not see images."""
    line = f"📎 {attachment.name} · {kind_label(attachment)} · {size_label(attachment.size)}"
    if attachment.data is None and attachment.problem:
        line += f" — not available: {attachment.problem}"
    elif not_sent_to is not None and attachment.is_image:
        line += f" — not sent: {not_sent_to} does not see images (a note went in its place)"
    return line


def preview_text(preview: Preview) -> Text:
    text = Text(no_wrap=True)
    rows = preview.rows
    for y in range(0, len(rows), 2):
        top = rows[y]
        bottom = rows[y + 1] if y + 1 < len(rows) else (None,) * len(top)
        for upper, lower in zip(top, bottom, strict=True):
            if upper is None and lower is None:
                text.append(" ")
            elif upper is None:
                text.append("▄", Style(color=_rgb(lower)))
            else:
                text.append("▀", Style(color=_rgb(upper), bgcolor=_rgb(lower) if lower else None))
        if y + 2 < len(rows):
            text.append("\n")
    return text


def _rgb(pixel: tuple[int, int, int] | None) -> str | None:
    return None if pixel is None else f"rgb({pixel[0]},{pixel[1]},{pixel[2]})"


class ImagePreview(Static):
    """The preview of one image (empty until decoded; nothing at all when it cannot be)."""

    DEFAULT_CSS = """
    ImagePreview { height: auto; width: auto; margin: 0 0 0 2; }
    """

    def __init__(self, data: bytes) -> None:
        super().__init__("", markup=False)
        self._data = data
        self.display = False

    def on_mount(self) -> None:
        from deepseek_tui.image_preview import image_size

        size = image_size(self._data)
        if size is not None and size[0] * size[1] <= DECODE_INLINE_PIXELS:
            self._show(self._decode())
        else:
            self._decode_in_thread()

    def _decode(self) -> Preview | None:
        from deepseek_tui.image_preview import PreviewUnavailable, png_preview

        try:
            return png_preview(self._data, PREVIEW_COLUMNS, PREVIEW_ROWS * 2)
        except PreviewUnavailable:
            return None

    @work(thread=True, exit_on_error=False, group="previews")
    def _decode_in_thread(self) -> None:
        preview = self._decode()
        self.app.call_from_thread(self._show, preview)

    def _show(self, preview: Preview | None) -> None:
        if preview is not None and self.is_attached:
            self.update(preview_text(preview))
            self.display = True


def attachment_widgets(attachments: tuple[Attachment, ...], *, images_not_sent_to: str | None = None) -> list[Static]:
    """A line per file and a preview under a PNG that was sent (one the model did not see has none:
    the preview would say it went)."""
    widgets: list[Static] = []
    for attachment in attachments:
        not_sent = images_not_sent_to is not None and attachment.is_image
        widgets.append(
            InertStatic(
                attachment_line(attachment, images_not_sent_to),
                classes="attachment -not-sent" if not_sent else "attachment",
            )
        )
        if attachment.media_type == "image/png" and attachment.data is not None and not not_sent:
            widgets.append(ImagePreview(attachment.data))
    return widgets


__all__ = ["ImagePreview", "attachment_line", "attachment_widgets", "preview_text"]
