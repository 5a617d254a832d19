"""What to tell the user before a prompt with attachments goes out (no Textual).

Checked on the request the prompt would make, before the prompt is added to the conversation, so a
refusal leaves everything as it was: images of the prompt the chosen model cannot see (and a model
that can, from the catalogue), and a request over the API's size limit. Images of earlier messages
that the model cannot see go as notes in their place, and the request's notes say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from deepseek_tui.catalogue import Catalogue
from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.conversation.attachments import Attachment
from deepseek_tui.conversation.model import Conversation, Message
from deepseek_tui.conversation.request import RequestTooLarge, build_request_for_path, check_request_size
from deepseek_tui.model_choice import current_settings


@dataclass(frozen=True)
class SendCheck:
    model: str
    unseen_images: tuple[Attachment, ...] = ()
    """Images of the prompt (the path's last message) that `model` would not see."""
    vision_model: str | None = None
    """An offered model that sees images, to switch to (None: there is none)."""
    too_large: str | None = None
    """Why the request would be refused for its size (None: it fits)."""
    request_bytes: int = 0

    @property
    def ok(self) -> bool:
        return not self.unseen_images and self.too_large is None

    def vision_question(self) -> str:
        names = ", ".join(a.name for a in self.unseen_images)
        return f"{self.model} does not see images ({names})."


def prospective_path(
    conversation: Conversation, text: str, attachments: Iterable[Attachment], editing_id: str | None = None
) -> list[Message]:
    """The branch a prompt would be answered on: the active one, or beside the message edited."""
    message = Message(role="user", content=text, attachments=tuple(attachments))
    if editing_id is not None and editing_id in conversation:
        parent = conversation.get(editing_id).parent_id
        base = conversation.path_to(parent) if parent is not None else []
    else:
        base = conversation.active_path()
    return [*base, message]


def check_send(path: Sequence[Message], catalogue: Catalogue, settings: ChatSettings) -> SendCheck:
    settings = current_settings(settings, catalogue).settings
    spec = catalogue.get(settings.model)
    last = path[-1] if path else None  # earlier images the model cannot see go as notes, said then
    images = tuple(a for a in last.attachments if a.is_image) if last is not None and last.role == "user" else ()
    unseen = () if spec.vision else images
    vision_model = next((m for m in catalogue.offered_ids() if catalogue.get(m).vision), None) if unseen else None
    request = build_request_for_path(path, catalogue, settings)
    try:
        size, too_large = check_request_size(request, spec), None
    except RequestTooLarge as exc:
        size, too_large = 0, str(exc)
    return SendCheck(spec.id, unseen, vision_model, too_large, size)


__all__ = ["SendCheck", "check_send", "prospective_path"]
