"""Above the prompt: the files attached to the next message (chips) and the `@` path completions.

Both only display what the app gives them and say what the user asked for: a chip that is clicked,
or focused and given Delete/Backspace, posts `RemoveRequested`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from rich.text import Text
from textual.binding import Binding
from textual.containers import Grid
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from deepseek_tui.attach_paths import PathCandidate
from deepseek_tui.conversation.attachments import Attachment, estimated_tokens, kind_label, size_label
from deepseek_tui.inert import inert_text
from deepseek_tui import labels

CHIPS_PER_ROW = 3


def chip_text(attachment: Attachment, image_tokens: int, sees_images: bool, model: str) -> Text:
    """"shot.png · PNG image 212.0 KB · 384 tok ✕"; an image the model cannot see says so."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(inert_text(attachment.short_name), style="bold")
    kind = "" if not attachment.is_image else kind_label(attachment) + " "
    text.append(f" · {kind}{size_label(attachment.size)}")
    if attachment.is_image and not sees_images:
        text.append(f" · {model} does not see images", style="bold yellow")
    else:
        tokens = estimated_tokens(attachment, image_tokens)
        text.append(f" · {'≤' if attachment.is_image else '≈'}{labels.tokens(tokens)} tok")
    text.append(" ✕")
    return text


class AttachmentChip(Static, can_focus=True):
    DEFAULT_CSS = """
    AttachmentChip { height: 1; background: $boost; color: $text; padding: 0 1; }
    AttachmentChip:focus { background: $accent 40%; }
    AttachmentChip:hover { background: $accent 25%; }
    """
    BINDINGS = [Binding("delete,backspace", "remove", "Remove attachment", id="attachment_remove")]

    def __init__(self, index: int, label: Text, tooltip: str) -> None:
        super().__init__(label, markup=False)
        self.index = index
        self.tooltip = tooltip

    def on_click(self) -> None:
        self.action_remove()

    def action_remove(self) -> None:
        self.post_message(AttachmentBar.RemoveRequested(self.index))


class AttachmentBar(Grid):
    """The chips of the next message, three to a row, and nothing (no height) without any."""

    DEFAULT_CSS = f"""
    AttachmentBar {{ display: none; height: auto; grid-size: {CHIPS_PER_ROW}; grid-gutter: 0 1; padding: 0 1; }}
    AttachmentBar.-shown {{ display: block; }}
    """

    @dataclass
    class RemoveRequested(Message):
        index: int

    async def show(self, attachments: Sequence[Attachment], *, image_tokens: int, sees_images: bool,
                   model: str) -> None:
        await self.remove_children()
        chips = [
            AttachmentChip(
                i, chip_text(a, image_tokens, sees_images, model),
                f"{a.name} ({kind_label(a)}, {size_label(a.size)}) — click, or Delete when selected, removes it",
            )
            for i, a in enumerate(attachments)
        ]
        await self.mount_all(chips)
        self.set_class(bool(attachments), "-shown")


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
            self.add_option(Option(Text(f"No file or folder matches “{inert_text(fragment)}”", style="italic"),
                                   disabled=True))
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
