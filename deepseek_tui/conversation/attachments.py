"""Files attached to a user message: what they are, what may be attached, what the request carries
(no Textual, no file I/O: `blobs.py` keeps the bytes, `attach_paths.py` reads the user's files).

- A file is an image when its first bytes say PNG, JPEG, WebP or GIF, whatever its name; anything
  else is text when it decodes as UTF-8 (or UTF-16/UTF-8 with a byte-order mark) and has no NUL
  and few control characters. Other files are refused with the reason.
- Text files go into the user message as fenced blocks labelled with their path, after what the
  user typed; images go as `image_url` parts with a `data:` URL (reference §12, "Vision"), to a
  model whose catalogue entry says `vision = true`. A model without vision gets a note in place
  of the image, and the user is told (`ChatRequest.notes`): the app asks before sending anyway.
- Images are sent as they are: the API caps an image at `image_tokens` (384) whatever its size,
  so scaling down would only save request bytes, and the request limit is checked before sending.
- An attachment whose bytes could not be read back (`data is None`: missing or damaged file in
  the store) is sent as a note saying so, and the user is told.
"""

from __future__ import annotations

import base64
import codecs
import functools
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from deepseek_tui.conversation.tokens import estimate_tokens

if TYPE_CHECKING:
    from deepseek_tui.catalogue import ModelSpec
    from deepseek_tui.conversation.model import Message

TEXT_TYPE = "text/plain"
IMAGE_TYPES: dict[str, str] = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp", "gif": "image/gif"}
MEDIA_TYPES: tuple[str, ...] = (TEXT_TYPE, *IMAGE_TYPES.values())
CONTROL_SHARE = 0.05
"""Text with more control characters than this (other than tab, newline, CR, form feed, escape)
is taken for a binary file."""
FENCE_OVERHEAD = 8
"""Tokens of the path label and the fence around a text file."""

_LANGUAGES = {
    "py": "python",
    "pyi": "python",
    "js": "javascript",
    "mjs": "javascript",
    "ts": "typescript",
    "tsx": "tsx",
    "jsx": "jsx",
    "rs": "rust",
    "go": "go",
    "c": "c",
    "h": "c",
    "cc": "cpp",
    "cpp": "cpp",
    "hpp": "cpp",
    "java": "java",
    "kt": "kotlin",
    "rb": "ruby",
    "php": "php",
    "swift": "swift",
    "cs": "csharp",
    "sh": "bash",
    "bash": "bash",
    "zsh": "bash",
    "fish": "fish",
    "ps1": "powershell",
    "md": "markdown",
    "json": "json",
    "toml": "toml",
    "yaml": "yaml",
    "yml": "yaml",
    "xml": "xml",
    "html": "html",
    "css": "css",
    "scss": "scss",
    "sql": "sql",
    "lua": "lua",
    "r": "r",
    "tex": "latex",
    "ini": "ini",
    "cfg": "ini",
    "diff": "diff",
    "patch": "diff",
    "csv": "csv",
    "dockerfile": "dockerfile",
}


class AttachmentError(ValueError):
    """A file that cannot be attached; the message says why, for the user."""


@dataclass(frozen=True)
class AttachmentLimits:
    """Caps on what one message may carry (config `[attachments]`)."""

    text_file_bytes: int = 256 * 1024
    text_message_bytes: int = 1024 * 1024
    image_bytes: int = 20 * 1024 * 1024


@dataclass(frozen=True)
class Attachment:
    """A file as it was when attached: its bytes are kept by their SHA-256 beside the sessions."""

    name: str
    """The path the user gave (relative to the working directory when it is inside it)."""
    sha256: str
    size: int
    media_type: str
    data: bytes | None = field(default=None, compare=False, repr=False)
    """The bytes, once read (None: not read back from the store, see `problem`)."""
    problem: str | None = field(default=None, compare=False)
    """Why `data` is None after loading: missing or damaged in the store."""

    @property
    def is_image(self) -> bool:
        return self.media_type.startswith("image/")

    @property
    def short_name(self) -> str:
        return self.name.rstrip("/").rsplit("/", 1)[-1] or self.name

    def with_data(self, data: bytes | None, problem: str | None = None) -> "Attachment":
        return Attachment(self.name, self.sha256, self.size, self.media_type, data, problem)

    def without_data(self) -> "Attachment":
        return self.with_data(None)


# --- making one ---------------------------------------------------------------------------------


def sniff_image(data: bytes) -> str | None:
    """The image media type the bytes start with (PNG, JPEG, WebP, GIF), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return IMAGE_TYPES["png"]
    if data.startswith(b"\xff\xd8\xff"):
        return IMAGE_TYPES["jpeg"]
    if data.startswith((b"GIF87a", b"GIF89a")):
        return IMAGE_TYPES["gif"]
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return IMAGE_TYPES["webp"]
    return None


def decode_text(data: bytes) -> str | None:
    """The text of a text file, or None when the bytes are not text."""
    if data.startswith(codecs.BOM_UTF8):
        encoding, data = "utf-8", data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8"
        if b"\x00" in data:
            return None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    controls = sum(1 for c in text if (ord(c) < 0x20 and c not in "\t\n\r\f\x1b") or c == "\x7f")
    if controls > CONTROL_SHARE * max(len(text), 1):
        return None
    return text


def make_attachment(name: str, data: bytes, limits: AttachmentLimits, already: Sequence[Attachment] = ()) -> Attachment:
    """An attachment of `data` (read from `name`) next to those `already` on the message.

    Raises AttachmentError with the reason when it cannot go: not text and not an image, over a
    cap, or attached already.
    """
    digest = hashlib.sha256(data).hexdigest()
    if any(a.sha256 == digest for a in already):
        raise AttachmentError(f"{name} is attached already.")
    image_type = sniff_image(data)
    if image_type is not None:
        if len(data) > limits.image_bytes:
            raise AttachmentError(
                f"{name} is {size_label(len(data))}; images are capped at {size_label(limits.image_bytes)} "
                "([attachments] max_image_mb in the config)."
            )
        return Attachment(name, digest, len(data), image_type, data)
    if decode_text(data) is None:
        raise AttachmentError(
            f"{name} is neither text (UTF-8) nor an image (PNG, JPEG, WebP, GIF): binary files cannot be attached."
        )
    if len(data) > limits.text_file_bytes:
        raise AttachmentError(
            f"{name} is {size_label(len(data))}; a text file may be {size_label(limits.text_file_bytes)} at "
            "most ([attachments] max_text_file_kb in the config)."
        )
    text_total = sum(a.size for a in already if not a.is_image) + len(data)
    if text_total > limits.text_message_bytes:
        raise AttachmentError(
            f"With {name} the text files of this message come to {size_label(text_total)}; the cap is "
            f"{size_label(limits.text_message_bytes)} per message ([attachments] max_text_message_kb in the config)."
        )
    return Attachment(name, digest, len(data), TEXT_TYPE, data)


# --- labels and estimates -----------------------------------------------------------------------


def size_label(size: int) -> str:
    """1,234 B · 12.3 KB · 4.5 MB (binary units, as file managers show them)."""
    if size < 1024:
        return f"{size:,} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def kind_label(attachment: Attachment) -> str:
    """ "PNG image", "text"."""
    if attachment.is_image:
        return attachment.media_type.removeprefix("image/").upper() + " image"
    return "text"


def estimated_tokens(attachment: Attachment, image_tokens: int) -> int:
    """The prompt tokens the attachment adds: an image costs what the model charges per image
    (catalogue `image_tokens`, §12: at most 384), a text file its text plus label and fence."""
    if attachment.is_image:
        return image_tokens
    if attachment.data is None:
        return 0
    return _text_tokens(attachment.data) + FENCE_OVERHEAD


@functools.lru_cache(maxsize=256)
def _text_tokens(data: bytes) -> int:
    return estimate_tokens(decode_text(data) or "")


def message_attachment_tokens(attachments: Iterable[Attachment], image_tokens: int) -> int:
    return sum(estimated_tokens(a, image_tokens) for a in attachments)


def attachment_problems(messages: Iterable["Message"]) -> list[str]:
    """One line per attachment whose bytes could not be read back (for the user, on opening)."""
    return [f"{a.name}: {a.problem}" for m in messages for a in m.attachments if a.data is None and a.problem]


# --- what the request carries --------------------------------------------------------------------


def user_content(message: "Message", spec: "ModelSpec", notes: list[str]) -> str | list[dict[str, Any]]:
    """The `content` of a user message with its attachments: a string when only text goes,
    else content parts (images first, then the text). Adds to `notes` what could not go."""
    if not message.attachments:
        return message.content
    blocks: list[str] = []
    images: list[dict[str, Any]] = []
    for attachment in message.attachments:
        if attachment.data is None:
            blocks.append(
                f"[Attachment {attachment.name} ({size_label(attachment.size)}) could not be sent: "
                f"{attachment.problem or 'its file is missing'}.]"
            )
            _note(
                notes,
                f"{attachment.name} was not sent: {attachment.problem or 'its file is missing'} "
                "(a note says so in its place).",
            )
        elif attachment.is_image and not spec.vision:
            blocks.append(f"[Image {attachment.name} not sent: {spec.id} does not see images.]")
            _note(
                notes, f"{attachment.name} was not sent: {spec.id} does not see images (a note says so in its place)."
            )
        elif attachment.is_image:
            images.append(image_part(attachment))
        else:
            blocks.append(fenced_file(attachment.name, decode_text(attachment.data) or ""))
    text = "\n\n".join(part for part in (message.content.rstrip(), *blocks) if part)
    if not images:
        return text
    return [*images, *([{"type": "text", "text": text}] if text else [])]


def image_part(attachment: Attachment) -> dict[str, Any]:
    assert attachment.data is not None
    encoded = base64.b64encode(attachment.data).decode("ascii")
    return {"type": "image_url", "image_url": {"url": f"data:{attachment.media_type};base64,{encoded}"}}


def fenced_file(path: str, text: str) -> str:
    """The file as a fenced block under a line with its path (the fence outlasts any in the text)."""
    fence = "```"
    while fence in text:
        fence += "`"
    if text and not text.endswith("\n"):
        text += "\n"
    return f"{path}\n{fence}{language_of(path)}\n{text}{fence}"


def language_of(path: str) -> str:
    """A fence language from the file name, for the reader's sake (whether it is text was decided
    by its content)."""
    name = path.rsplit("/", 1)[-1].lower()
    if name == "dockerfile":
        return "dockerfile"
    suffix = name.rsplit(".", 1)[-1] if "." in name else ""
    return _LANGUAGES.get(suffix, "")


def _note(notes: list[str], text: str) -> None:
    if text not in notes:
        notes.append(text)


__all__ = [
    "Attachment",
    "AttachmentError",
    "attachment_problems",
    "AttachmentLimits",
    "MEDIA_TYPES",
    "decode_text",
    "estimated_tokens",
    "fenced_file",
    "kind_label",
    "make_attachment",
    "size_label",
    "sniff_image",
    "user_content",
]
