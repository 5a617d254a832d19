"""The user's files, for attaching: path completion, pasted paths, reading a file (no Textual).

Paths are shown relative to the working directory when they are inside it (`~/…` under the home
directory, absolute otherwise). Files are read through `guarded_read` (a named pipe or a device
never blocks or gets read).

What terminals paste when a file is dropped on them: GNOME Terminal and others `'/path/My File.png' `
(quoted), iTerm2 and kitty `/path/My\\ File.png` (escaped), some a `file:///path/My%20File.png` URL,
several files separated by spaces or one per line. A paste is taken for files only when it is
nothing but absolute paths or file URLs that all name existing regular files.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from deepseek_tui.conversation.attachments import Attachment, AttachmentError, AttachmentLimits, make_attachment
from deepseek_tui.guarded_read import FileUnreadable, read_regular_file

MAX_CANDIDATES = 200
MAX_PASTE_FOR_PATHS = 8192
"""A longer paste is text, whatever it looks like."""


@dataclass(frozen=True)
class PathCandidate:
    """One completion: `value` is what replaces the typed fragment (a directory ends with "/")."""

    value: str
    is_dir: bool

    @property
    def label(self) -> str:
        return self.value


# --- naming ------------------------------------------------------------------------------------


def resolve(text: str, cwd: Path) -> Path:
    """The file a typed or pasted path names: `~` expanded, a file:// URL decoded, relative to cwd."""
    text = text.strip()
    if text.startswith("file://"):
        text = _file_url_path(text) or text
    path = Path(os.path.expanduser(text))
    return path if path.is_absolute() else cwd / path


def display_name(path: Path, cwd: Path) -> str:
    """How an attached file is named to the user and the model."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(os.path.abspath(cwd)).as_posix()
    except ValueError:
        return home_relative(absolute)


def home_relative(path: Path) -> str:
    """`~/…` under the home directory, else the absolute path."""
    absolute = Path(os.path.abspath(path))
    if absolute == Path.home():
        return "~"
    try:
        return "~/" + absolute.relative_to(Path.home()).as_posix()
    except ValueError:
        return absolute.as_posix()


def _file_url_path(text: str) -> str | None:
    url = urlsplit(text)
    if url.scheme != "file" or url.netloc not in ("", "localhost"):
        return None
    return unquote(url.path)


# --- reading -----------------------------------------------------------------------------------


def read_attachment(text: str, cwd: Path, limits: AttachmentLimits, already: Sequence[Attachment] = ()) -> Attachment:
    """The file `text` names, as an attachment; AttachmentError says why it cannot be."""
    if not text.strip():
        raise AttachmentError("No file named.")
    path = resolve(text, cwd)
    name = display_name(path, cwd)
    limit = max(limits.image_bytes, limits.text_file_bytes)
    try:
        data = read_regular_file(path, limit)
    except FileUnreadable as exc:
        if "larger than" in str(exc):
            raise AttachmentError(
                f"{name} {exc}: the largest attachment is {limit // (1024 * 1024) or 1} MB "
                "([attachments] in the config)."
            ) from None
        raise AttachmentError(f"{name} {exc}.") from None
    return make_attachment(name, data, limits, already)


# --- pasted text -------------------------------------------------------------------------------


def may_be_paths(text: str) -> bool:
    """A quick look (no file access): could this paste be dropped files?"""
    stripped = text.strip().strip("'\"")
    return 0 < len(stripped) <= MAX_PASTE_FOR_PATHS and stripped.startswith(("/", "~/", "file://"))


def pasted_files(text: str, cwd: Path) -> list[Path] | None:
    """The files a paste names when it is nothing but paths to existing regular files, else None."""
    if not may_be_paths(text):
        return None
    for reading in _readings(text.strip()):
        paths = [resolve(part, cwd) for part in reading]
        if paths and all(path.is_file() for path in paths):
            return paths
    return None


def _readings(text: str) -> list[list[str]]:
    """The ways to read a paste as paths: the whole of each line as one path (an unquoted name with
    spaces), then shell words (quoted or escaped names, several per line)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    readings: list[list[str]] = [lines]
    try:
        readings.append([word for line in lines for word in shlex.split(line)])
    except ValueError:  # unbalanced quotes
        pass
    valid = []
    for reading in readings:
        parts = []
        for part in reading:
            if part.startswith("file://"):
                decoded = _file_url_path(part)
                if decoded is None:
                    break
                parts.append(decoded)
            elif part.startswith(("/", "~/")):
                parts.append(part)
            else:
                break
        else:
            valid.append(parts)
    return valid


# --- completion ---------------------------------------------------------------------------------


def path_candidates(fragment: str, cwd: Path, limit: int = MAX_CANDIDATES) -> list[PathCandidate]:
    """Entries of the directory the fragment is in whose names match its last part: those that
    start with it first, then those that contain it (case-insensitive). Directories end with "/";
    hidden entries show once the last part starts with a dot."""
    head, _, tail = fragment.rpartition("/")
    directory_text = head + "/" if _ else ""
    directory = resolve(directory_text or ".", cwd)
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return []
    wanted = tail.lower()
    starts: list[PathCandidate] = []
    contains: list[PathCandidate] = []
    for entry in entries:
        name = entry.name
        if name.startswith(".") and not tail.startswith("."):
            continue
        lowered = name.lower()
        if lowered.startswith(wanted):
            bucket = starts
        elif wanted and wanted in lowered:
            bucket = contains
        else:
            continue
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        bucket.append(PathCandidate(directory_text + name + ("/" if is_dir else ""), is_dir))
    order = lambda c: (not c.is_dir, c.value.lower())  # noqa: E731 - directories first, then by name
    return (sorted(starts, key=order) + sorted(contains, key=order))[:limit]


__all__ = [
    "PathCandidate",
    "display_name",
    "may_be_paths",
    "pasted_files",
    "path_candidates",
    "read_attachment",
    "resolve",
]
