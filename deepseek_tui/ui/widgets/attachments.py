"""Above the prompt: the files attached to the next message (chips) and the `@` path completions.

Both only display what the app gives them and say what the user asked for: a chip that is clicked,
or selected and given Delete/Backspace, posts `RemoveRequested`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.widget import Widget
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from deepseek_tui import labels
from deepseek_tui.attach_paths import PathCandidate
from deepseek_tui.conversation.attachments import (
    Attachment,
    estimated_tokens,
    kind_label,
    message_attachment_tokens,
    size_label,
)
from deepseek_tui.inert import inert_text

CHIP_GAP = 1


def chip_text(attachment: Attachment, image_tokens: int, sees_images: bool, model: str) -> Text:
    """ " shot.png · PNG 212.0 KB · ≤384 tok ✕ "; an image the model cannot see says so."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(" ")
    text.append(inert_text(attachment.short_name), style="bold")
    kind = attachment.media_type.removeprefix("image/").upper() + " " if attachment.is_image else ""
    text.append(f" · {kind}{size_label(attachment.size)}")
    if attachment.is_image and not sees_images:
        text.append(f" · not seen by {model}", style="bold yellow")
    else:
        tokens = estimated_tokens(attachment, image_tokens)
        text.append(f" · {'≤' if attachment.is_image else '≈'}{labels.tokens(tokens)} tok")
    text.append(" ✕ ")
    return text


class AttachmentBar(Widget, can_focus=True):
    """The chips of the next message, as many to a row as fit; no height without any.

    A click on a chip removes it. Focused (shift+tab from the prompt), ←/→ pick a chip and
    Delete/Backspace removes it; Enter or Esc go back to the prompt, and so does a typed character
    (which the prompt then gets).
    """

    DEFAULT_CSS = """
    AttachmentBar { display: none; height: auto; padding: 0 1; }
    AttachmentBar.-shown { display: block; }
    """
    BINDINGS = [
        Binding("left", "select(-1)", "Previous attachment", show=False, id="attachment_previous"),
        Binding("right", "select(1)", "Next attachment", show=False, id="attachment_next"),
        Binding(
            "delete,backspace",
            "remove_selected",
            "Remove attachment",
            id="attachment_remove",
            tooltip="Remove the selected attachment",
        ),
        Binding("enter,escape", "leave", "Back to the prompt", show=False, id="attachment_leave"),
    ]

    @dataclass
    class RemoveRequested(Message):
        index: int
        from_keyboard: bool = False
        """Delete on the selected chip (the chips keep the focus); else a click."""

    @dataclass
    class Leave(Message):
        """Back to the prompt."""

    def __init__(self, *, typing_goes_to: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self._typing_goes_to = typing_goes_to
        """Selector of the widget that gets what is typed while the chips are selected."""
        self.chips: list[Text] = []
        self.total = Text()
        """What the attachments add to the prompt, when there are several."""
        self.selected = 0

    def show(self, attachments: Sequence[Attachment], *, image_tokens: int, sees_images: bool, model: str) -> None:
        self.chips = [chip_text(a, image_tokens, sees_images, model) for a in attachments]
        self.total = (
            Text(
                f"Σ ≈{labels.tokens(message_attachment_tokens(attachments, image_tokens if sees_images else 0))} tok",
                style="dim",
            )
            if len(attachments) > 1
            else Text()
        )
        self.selected = min(self.selected, max(len(self.chips) - 1, 0))
        self.tooltip = "\n".join(f"{a.name} ({kind_label(a)}, {size_label(a.size)})" for a in attachments) or None
        self.set_class(bool(self.chips), "-shown")
        self.refresh(layout=True)

    def _lines(self, width: int) -> list[Text]:
        lines: list[Text] = []
        line = Text(no_wrap=True)
        for index, chip in enumerate(self.chips):
            chip = chip.copy()
            chip.truncate(max(width, 8), overflow="ellipsis")
            selected = self.has_focus and index == self.selected
            chip.stylize(
                Style(bgcolor="rgb(70,90,140)" if selected else "rgb(50,54,62)", meta={"@click": f"remove({index})"})
            )
            if line.cell_len and line.cell_len + CHIP_GAP + chip.cell_len > width:
                lines.append(line)
                line = Text(no_wrap=True)
            if line.cell_len:
                line.append(" " * CHIP_GAP)
            line.append_text(chip)
        if self.total.cell_len:
            if line.cell_len and line.cell_len + CHIP_GAP + self.total.cell_len > width:
                lines.append(line)
                line = Text(no_wrap=True)
            line.append(" " * CHIP_GAP if line.cell_len else "")
            line.append_text(self.total)
        if line.cell_len:
            lines.append(line)
        return lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines(width))

    def render(self) -> Text:
        return Text("\n").join(self._lines(self.content_region.width or self.size.width))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def action_select(self, step: int) -> None:
        if self.chips:
            self.selected = (self.selected + step) % len(self.chips)
            self.refresh()

    def action_remove(self, index: int) -> None:
        self.post_message(self.RemoveRequested(index))

    def action_remove_selected(self) -> None:
        if self.chips:
            self.post_message(self.RemoveRequested(self.selected, from_keyboard=True))

    def action_leave(self) -> None:
        self.post_message(self.Leave())

    def on_key(self, event: events.Key) -> None:
        # The focus moves at once and the key follows it, so keys typed faster than the app
        # answers reach the prompt in the order they were typed.
        if event.is_printable and event.character:
            event.stop()
            event.prevent_default()
            target = self.screen.query_one(self._typing_goes_to)
            self.screen.set_focus(target)
            target.post_message(events.Key(event.key, event.character))


class PathCompletions(OptionList, can_focus=False):
    """The paths offered after `@`; the prompt keeps the focus and moves the highlight here."""

    DEFAULT_CSS = """
    PathCompletions { display: none; height: auto; max-height: 10; border: round $accent; padding: 0 1; }
    PathCompletions.-shown { display: block; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.candidates: list[PathCandidate] = []
        self.border_title = "Attach a file"
        self.border_subtitle = "↑↓ choose · Tab/Enter pick (a folder opens) · Esc closes"

    def show(self, fragment: str, candidates: Sequence[PathCandidate]) -> None:
        self.candidates = list(candidates)
        self.clear_options()
        if candidates:
            self.add_options([Option(_candidate_text(c)) for c in candidates])
            self.highlighted = 0
        else:
            self.add_option(
                Option(Text(f"No file or folder matches “{inert_text(fragment)}”", style="italic"), disabled=True)
            )
        self.border_title = f"Attach a file: @{inert_text(fragment)}"
        self.add_class("-shown")

    def hide(self) -> None:
        self.candidates = []
        self.remove_class("-shown")

    @property
    def is_open(self) -> bool:
        return self.has_class("-shown")

    def move(self, step: int) -> None:
        if self.candidates:
            current = self.highlighted if self.highlighted is not None else 0
            self.highlighted = (current + step) % len(self.candidates)

    @property
    def chosen(self) -> PathCandidate | None:
        if not self.candidates or self.highlighted is None:
            return None
        return self.candidates[self.highlighted]


def _candidate_text(candidate: PathCandidate) -> Text:
    return Text(inert_text(candidate.value), style="bold" if candidate.is_dir else "")
