"""The bytes of attachments, content-addressed: one file per distinct content, named by its SHA-256,
in `attachments/` inside the sessions directory (no Textual).

Session files only name an attachment's hash, so they stay small, and two sessions (a duplicate,
a branch copy, the same screenshot sent twice) share one file. Files are written atomically and
never changed: a name says what the content is. A file whose content does not match its name
(damaged on disk) is reported when read, and kept: when the same content is attached again, the
damaged file is renamed to `<hash>.damaged` and a good one written in its place.

Files are not deleted when a session is: another session may use them.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from deepseek_tui.atomic import atomic_write_bytes
from deepseek_tui.conversation.attachments import Attachment
from deepseek_tui.guarded_read import FileUnreadable, read_regular_file

DIRECTORY_NAME = "attachments"
MAX_BLOB_BYTES = 64 * 1024 * 1024
"""Larger files are reported unreadable (a request may carry 48 MiB at most)."""
MISSING = "its file is missing from the attachment store"
DAMAGED = "its file in the attachment store is damaged (the content does not match its hash)"
_HASH = re.compile(r"^[0-9a-f]{64}$")


def is_hash(text: str) -> bool:
    return bool(_HASH.match(text))


class BlobStore:
    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self._good: set[str] = set()
        """Hashes whose file is known to hold the right content (written or checked here)."""

    def path_of(self, sha256: str) -> Path:
        if not is_hash(sha256):
            raise ValueError(f"not a SHA-256 hash: {sha256!r}")
        return self.directory / sha256

    def put(self, attachment: Attachment) -> None:
        """Make sure the store holds the attachment's bytes (they must be loaded)."""
        if attachment.sha256 in self._good:
            return
        data = attachment.data
        if data is None or hashlib.sha256(data).hexdigest() != attachment.sha256:
            raise ValueError(f"attachment {attachment.name!r} has no bytes matching its hash")
        path = self.path_of(attachment.sha256)
        if path.exists():
            if self._holds(path, attachment.sha256):
                self._good.add(attachment.sha256)
                return
            _keep_damaged(path)
        atomic_write_bytes(path, data, mode=0o600)  # attachments are as private as the sessions
        self._good.add(attachment.sha256)

    def load(self, attachment: Attachment) -> Attachment:
        """The attachment with its bytes, or with the reason they could not be read."""
        if attachment.data is not None:
            return attachment
        try:
            data = read_regular_file(self.path_of(attachment.sha256), MAX_BLOB_BYTES)
        except FileUnreadable as exc:
            reason = MISSING if str(exc) == "does not exist" else f"its file in the attachment store {exc}"
            return attachment.with_data(None, reason)
        except ValueError:
            return attachment.with_data(None, MISSING)
        if hashlib.sha256(data).hexdigest() != attachment.sha256:
            return attachment.with_data(None, DAMAGED)
        self._good.add(attachment.sha256)
        return attachment.with_data(data)

    def _holds(self, path: Path, sha256: str) -> bool:
        try:
            return hashlib.sha256(read_regular_file(path, MAX_BLOB_BYTES)).hexdigest() == sha256
        except FileUnreadable:
            return False


def _keep_damaged(path: Path) -> None:
    """Move a damaged file aside (never overwrite it): `<hash>.damaged`, `.damaged-2`, …"""
    number = 1
    while True:
        aside = path.with_name(f"{path.name}.damaged" + (f"-{number}" if number > 1 else ""))
        if not aside.exists():
            os.replace(path, aside)
            return
        number += 1
