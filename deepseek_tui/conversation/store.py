"""Session files: one file per conversation, `<id>.json` or `<id>.toml`, in one directory.

- Writes are atomic (temp file in the same directory, fsync, `os.replace`): a failed save leaves
  the old file as it was.
- Every file is read through `guarded_read.read_regular_file` and `codec.decode`: only regular
  files up to MAX_FILE_BYTES, never blocking, and any failure becomes a reason for the user.
- A file that cannot be read is listed as `UnreadableSession` with the reason; it is never
  rewritten: saving to its id is refused until the user deletes it.
- When `<id>.json` and `<id>.toml` both exist, the `.json` one is the session (it is the one
  `load` and `save` use); the other is listed as unreadable ("same session id") and left alone.
- Several processes may use the directory at once (two terminals, `ask --continue` while the app
  runs). A save takes a lock (`flock` on `.lock`, POSIX only; elsewhere saves are not locked),
  reads what is on disk and merges it (`merge.merge_saved`): messages another process saved are
  kept and added to the conversation being saved, never dropped. When the file is still what this
  store last wrote or read for that conversation object, the parse is skipped.
- Listing uses a small cache, `.index.json`, of each file's summary keyed by (size, mtime, inode),
  so only new or changed files are parsed. The cache is disposable: if it is missing or bad it is
  rebuilt from the files.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import platformdirs

from deepseek_tui.atomic import atomic_write_bytes
from deepseek_tui.conversation import codec
from deepseek_tui.conversation.blobs import DIRECTORY_NAME as ATTACHMENTS_DIRECTORY
from deepseek_tui.conversation.blobs import BlobStore
from deepseek_tui.conversation.codec import CodecError, Format
from deepseek_tui.conversation.export import markdown_text
from deepseek_tui.conversation.merge import merge_saved
from deepseek_tui.conversation.model import Conversation
from deepseek_tui.guarded_read import FileUnreadable, read_regular_file

try:
    import fcntl
except ImportError:  # not POSIX: saves are not locked against other processes
    fcntl = None  # type: ignore[assignment]

MAX_FILE_BYTES = 64 * 1024 * 1024
"""Larger files are reported unreadable instead of parsed."""
INDEX_NAME = ".index.json"
MIN_ID_PREFIX = 4
"""Characters of a session id that `resolve_id` needs to accept a prefix."""
LOCK_NAME = ".lock"
LOCK_TIMEOUT = 10.0
"""Seconds a save waits for another process's save before it gives up with a message."""
INDEX_VERSION = 1
SEARCH_LINE_LENGTH = 200
_SESSION_FILE = re.compile(r"^([A-Za-z0-9_-]{1,64})\.(json|toml)$")
_VALID_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def default_sessions_dir() -> Path:
    return platformdirs.user_data_path("deepseek-tui") / "sessions"


@dataclass(frozen=True)
class SessionSummary:
    id: str
    title: str
    model: str
    message_count: int
    created_at: datetime
    updated_at: datetime
    cost: float | None
    currency: str | None
    prompt_tokens: int
    completion_tokens: int
    path: Path


@dataclass(frozen=True)
class UnreadableSession:
    id: str
    path: Path
    reason: str


@dataclass(frozen=True)
class SearchHit:
    session_id: str
    title: str
    message_id: str
    line: str
    """The matching line of the message (trimmed), for the results list."""


class StoreError(Exception):
    """A store operation that cannot be done; the message is for the user."""


class SessionUnreadableError(StoreError):
    """The session's file exists but cannot be read, so it is left alone."""


class SessionNotFoundError(StoreError, KeyError):
    pass


class SessionStore:
    def __init__(self, directory: Path | str, fmt: Format = "json") -> None:
        if fmt not in codec.FORMATS:
            raise ValueError(f"unknown session format {fmt!r}")
        self.directory = Path(directory)
        self.fmt: Format = fmt
        self._index: dict[str, dict[str, Any]] | None = None
        self._index_dirty = False
        self._index_lock = threading.RLock()
        """The picker searches in a thread while the app saves: both use the index."""
        self._synced: weakref.WeakKeyDictionary[Conversation, bytes] = weakref.WeakKeyDictionary()
        """For a conversation object: the digest of the file bytes it is known to hold all of
        (it was loaded from them, or they were written from it)."""
        self.blobs = BlobStore(self.directory / ATTACHMENTS_DIRECTORY)
        """The bytes of attachments, shared by all sessions here (session files name their hash)."""

    # --- single sessions --------------------------------------------------------------------

    def save(self, conversation: Conversation) -> Path:
        """Write the conversation (in its existing file's format, else the store's).

        What another process saved to the same session since is merged in: its messages are
        added to `conversation` (the active leaf stays) and written too. A file on disk that
        cannot be read is never overwritten (`SessionUnreadableError`).
        """
        _check_id(conversation.id)
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._locked():
            existing = self._path_of(conversation.id)
            written, holds_all = conversation, True
            if existing is not None:
                on_disk = self._read_bytes(existing)
                if _digest(on_disk) != self._synced.get(conversation):
                    other = self._decode(existing, on_disk)
                    if other.id != conversation.id:
                        raise SessionUnreadableError(
                            f"{existing.name} holds session {other.id!r}; it was not overwritten"
                        )
                    merged = merge_saved(conversation, other)
                    written, holds_all = merged.conversation, merged.memory_holds_all
                    self.load_attachments(conversation)  # messages the other process added
            self._keep_attachments(written)  # before the session file that names them
            path = existing or self.directory / f"{conversation.id}.{self.fmt}"
            data = codec.encode(written, _format_of(path))
            atomic_write(path, data)
            self._remember(path, _summary_entry(written))  # the stamp of this very file
        if holds_all:
            self._synced[conversation] = _digest(data)
        else:
            self._synced.pop(conversation, None)
        return path

    def resolve_id(self, text: str) -> str:
        """The session id that `text` names: the id itself or a unique prefix of at least
        MIN_ID_PREFIX characters (the picker shows the first 8). Raises SessionNotFoundError."""
        if self._path_of(text) is not None:
            return text
        matches = sorted({session_id for _, session_id, _ in self._session_files() if session_id.startswith(text)})
        if len(text) < MIN_ID_PREFIX or not matches:
            raise SessionNotFoundError(f"no session {text!r}")
        if len(matches) > 1:
            raise SessionNotFoundError(f"{text!r} starts {len(matches)} session ids: give more of it")
        return matches[0]

    def load(self, session_id: str) -> Conversation:
        path = self._path_of(session_id)
        if path is None:
            raise SessionNotFoundError(f"no session {session_id!r}")
        try:
            data = read_regular_file(path, MAX_FILE_BYTES)
            conversation = codec.decode(data, _format_of(path))
        except (FileUnreadable, CodecError) as exc:
            raise SessionUnreadableError(f"{path.name}: {exc}") from None
        if conversation.id != session_id:
            raise SessionUnreadableError(f"{path.name}: holds session {conversation.id!r}")
        self.load_attachments(conversation)  # a missing or damaged file: said by `problem`, still opens
        if not conversation.end_stale_streams():
            self._synced[conversation] = _digest(data)
        self._remember(path, _summary_entry(conversation))
        return conversation

    def rename(self, session_id: str, title: str) -> Conversation:
        conversation = self.load(session_id)
        conversation.rename(title)
        self.save(conversation)
        return conversation

    def delete(self, session_id: str) -> None:
        path = self._path_of(session_id)
        if path is None:
            raise SessionNotFoundError(f"no session {session_id!r}")
        with self._locked():
            path.unlink()
        with self._index_lock:
            self._load_index().pop(path.name, None)
            self._index_dirty = True

    def duplicate(self, session_id: str) -> Conversation:
        twin = self.load(session_id).copy()
        twin.rename(f"{twin.title} (copy)")
        self.save(twin)
        return twin

    def most_recent(self) -> Conversation | None:
        readable = [s for s in self.list_sessions() if isinstance(s, SessionSummary)]
        if not readable:
            return None
        return self.load(max(readable, key=lambda s: s.updated_at).id)

    # --- all sessions -----------------------------------------------------------------------

    def list_sessions(self) -> list[SessionSummary | UnreadableSession]:
        """Readable sessions, newest first, then the unreadable ones by file name."""
        with self._index_lock:
            return self._list_sessions()

    def _list_sessions(self) -> list[SessionSummary | UnreadableSession]:
        readable: list[SessionSummary] = []
        unreadable: list[UnreadableSession] = []
        index = self._load_index()
        seen: set[str] = set()
        files = sorted(self._session_files(), key=lambda f: codec.FORMATS.index(_format_of(f[0])))
        ids: dict[str, Path] = {}
        for path, session_id, stamp in files:  # .json first: it is the session when both exist
            seen.add(path.name)
            if session_id in ids:
                unreadable.append(UnreadableSession(
                    session_id, path, f"same session id as {ids[session_id].name}, which is the one used"
                ))
                continue
            ids[session_id] = path
            entry = index.get(path.name)
            if entry is None or entry.get("stamp") != stamp:
                entry = self._summarize(path, stamp)
                index[path.name] = entry
                self._index_dirty = True
            if "error" in entry:
                unreadable.append(UnreadableSession(session_id, path, entry["error"]))
            else:
                readable.append(_summary_from_entry(entry, path))
        for stale in set(index) - seen:
            del index[stale]
            self._index_dirty = True
        self._flush_index()
        readable.sort(key=lambda s: s.updated_at, reverse=True)
        unreadable.sort(key=lambda u: u.path.name)
        return [*readable, *unreadable]

    def search(self, query: str, include_reasoning: bool = False) -> list[SearchHit]:
        """Case-insensitive substring search over message text of every branch of every session.

        Only readable sessions are searched. Files that cannot contain the query are skipped
        without parsing, and matching files are scanned as documents (no `Conversation` built).
        """
        needle = query.lower()
        if not needle:
            return []
        quick = _survives_escaping(needle)
        fields = ("content", "reasoning") if include_reasoning else ("content",)
        hits: list[SearchHit] = []
        for session in self.list_sessions():
            if not isinstance(session, SessionSummary):
                continue
            try:
                data = read_regular_file(session.path, MAX_FILE_BYTES)
                if (quick and codec.SURROGATE_TAG.encode() not in data
                        and needle not in data.decode("utf-8", "replace").lower()):
                    continue
                document = codec.parse(data, _format_of(session.path))
            except (FileUnreadable, CodecError):
                continue
            hits.extend(_hits_in(document, session, needle, fields))
        return hits

    # --- import / export --------------------------------------------------------------------

    def export_markdown(self, conversation: Conversation, path: Path | str) -> Path:
        path = Path(path)
        atomic_write(path, markdown_text(conversation).encode("utf-8", "replace"))
        return path

    def export_json(self, conversation: Conversation, path: Path | str) -> Path:
        """The conversation with its attachments' bytes inside (an import needs nothing else)."""
        path = Path(path)
        atomic_write(path, codec.encode(conversation, "json", embed_attachments=True))
        return path

    def import_json(self, path: Path | str) -> Conversation:
        """Read an exported session and save it here (under a new id if its id is taken)."""
        return self.import_conversation(read_export(path))

    def import_conversation(self, conversation: Conversation) -> Conversation:
        """Save a conversation read by `read_export` (under a new id if its id is taken)."""
        if not _VALID_ID.match(conversation.id) or self._path_of(conversation.id) is not None:
            conversation = conversation.copy()
        conversation.end_stale_streams()
        self.save(conversation)
        return conversation

    # --- attachments ------------------------------------------------------------------------

    def load_attachments(self, conversation: Conversation) -> None:
        """Read the bytes of every attachment that does not have them yet (a missing or damaged
        file leaves `data` None and says why in `problem`)."""
        for message in conversation.messages:
            if any(a.data is None and a.problem is None for a in message.attachments):
                message.attachments = tuple(self.blobs.load(a) for a in message.attachments)

    def _keep_attachments(self, conversation: Conversation) -> None:
        try:
            for message in conversation.messages:
                for attachment in message.attachments:
                    if attachment.data is not None:
                        self.blobs.put(attachment)
        except OSError as exc:
            raise StoreError(f"could not store an attachment: {exc.strerror or exc}; the conversation "
                             "was not saved") from None

    # --- internals --------------------------------------------------------------------------

    def _path_of(self, session_id: str) -> Path | None:
        _check_id(session_id)
        for fmt in codec.FORMATS:
            candidate = self.directory / f"{session_id}.{fmt}"
            if candidate.exists():
                return candidate
        return None

    def _session_files(self) -> Iterator[tuple[Path, str, list[int]]]:
        try:
            entries = list(os.scandir(self.directory))
        except FileNotFoundError:
            return
        for entry in entries:
            match = _SESSION_FILE.match(entry.name)
            if not match or not entry.is_file(follow_symlinks=False):
                continue
            yield Path(entry.path), match.group(1), _stamp(entry.stat(follow_symlinks=False))

    def _read(self, path: Path) -> Conversation:
        try:
            data = read_regular_file(path, MAX_FILE_BYTES)
        except FileUnreadable as exc:
            raise CodecError(str(exc)) from None
        return codec.decode(data, _format_of(path))

    def _read_bytes(self, path: Path) -> bytes:
        """The bytes of a session file about to be replaced; refuses when they cannot be read."""
        try:
            return read_regular_file(path, MAX_FILE_BYTES)
        except FileUnreadable as exc:
            raise SessionUnreadableError(f"{path.name} {exc}; it was not overwritten") from None

    def _decode(self, path: Path, data: bytes) -> Conversation:
        try:
            return codec.decode(data, _format_of(path))
        except CodecError as exc:
            raise SessionUnreadableError(f"{path.name} cannot be read ({exc}); it was not overwritten") from None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the directory's save lock (other processes' saves wait; see the module docstring)."""
        try:
            fd = os.open(self.directory / LOCK_NAME, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        except OSError:  # e.g. a lock file of another user: no worse than before locks existed
            fd = None
        if fcntl is None or fd is None:
            yield
            return
        try:
            deadline = time.monotonic() + LOCK_TIMEOUT
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:  # another process is saving
                    if time.monotonic() > deadline:
                        raise StoreError(
                            f"another deepseek-tui has been saving in {self.directory} for "
                            f"{LOCK_TIMEOUT:.0f} s; nothing was written, try again"
                        ) from None
                    time.sleep(0.005)
                except OSError:  # a file system without locks: save unlocked rather than not at all
                    break
            yield
        finally:
            os.close(fd)  # releases the lock

    def _summarize(self, path: Path, stamp: list[int]) -> dict[str, Any]:
        try:
            conversation = self._read(path)
        except CodecError as exc:
            return {"stamp": stamp, "error": str(exc)}
        except Exception as exc:  # a hostile file must never break listing
            return {"stamp": stamp, "error": f"cannot be read: {type(exc).__name__}"}
        if path.stem != conversation.id:
            return {"stamp": stamp, "error": f"holds session {conversation.id!r}"}
        return {"stamp": stamp, **_summary_entry(conversation)}

    def _remember(self, path: Path, summary: dict[str, Any]) -> None:
        with self._index_lock:
            self._load_index()[path.name] = {"stamp": _stamp(path.stat()), **summary}
            self._index_dirty = True

    def _load_index(self) -> dict[str, dict[str, Any]]:
        if self._index is None:
            self._index = {}
            try:
                raw = json.loads((self.directory / INDEX_NAME).read_bytes())
                if raw.get("version") == INDEX_VERSION and isinstance(raw.get("files"), dict):
                    self._index = {
                        name: entry
                        for name, entry in raw["files"].items()
                        if isinstance(entry, dict) and _index_entry_ok(entry)
                    }
            except (OSError, ValueError, AttributeError, RecursionError):
                pass
        return self._index

    def _flush_index(self) -> None:
        if not self._index_dirty or self._index is None:
            return
        data = json.dumps({"version": INDEX_VERSION, "files": self._index}).encode("utf-8")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            atomic_write(self.directory / INDEX_NAME, data, durable=False)
            self._index_dirty = False
        except OSError:
            pass  # only a cache


def atomic_write(path: Path, data: bytes, durable: bool = True) -> None:
    """Replace `path` with `data` all at once; on any failure the old file is untouched."""
    atomic_write_bytes(path, data, mode=0o600, durable=durable)  # conversations are private


def read_export(path: Path | str) -> Conversation:
    """A conversation from a JSON export (any file the user names): only reads, no store state,
    so it may run in a thread. Every failure is a `StoreError` with the reason."""
    path = Path(path)
    try:
        return codec.decode(read_regular_file(path, MAX_FILE_BYTES), "json")
    except (FileUnreadable, CodecError) as exc:
        raise StoreError(f"cannot import {path.name}: it {exc}" if isinstance(exc, FileUnreadable)
                         else f"cannot import {path.name}: {exc}") from None


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def _format_of(path: Path) -> Format:
    return "toml" if path.suffix == ".toml" else "json"


def _stamp(stat: os.stat_result) -> list[int]:
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino]


def _check_id(session_id: str) -> None:
    if not _VALID_ID.match(session_id):
        raise StoreError(f"not a valid session id: {session_id!r}")


def _summary_entry(conversation: Conversation) -> dict[str, Any]:
    usage = conversation.total_usage()
    currency = conversation.cost_currency()
    return {
        "id": conversation.id,
        "title": conversation.title,
        "model": conversation.last_model(),
        "message_count": len(conversation),
        "created_at": conversation.created_at.isoformat(),
        "updated_at": conversation.updated_at.isoformat(),
        "cost": conversation.total_cost(currency) if currency else None,
        "currency": currency,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
    }


_SUMMARY_TYPES: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "title": (str,),
    "model": (str,),
    "message_count": (int,),
    "created_at": (str,),
    "updated_at": (str,),
    "cost": (float, int, type(None)),
    "currency": (str, type(None)),
    "prompt_tokens": (int,),
    "completion_tokens": (int,),
}


def _index_entry_ok(entry: dict[str, Any]) -> bool:
    stamp = entry.get("stamp")
    if not (isinstance(stamp, list) and len(stamp) == 3):
        return False
    if "error" in entry:
        return isinstance(entry["error"], str)
    try:
        datetime.fromisoformat(entry["created_at"])
        datetime.fromisoformat(entry["updated_at"])
    except (KeyError, TypeError, ValueError):
        return False
    return all(isinstance(entry.get(k), types) for k, types in _SUMMARY_TYPES.items())


def _summary_from_entry(entry: dict[str, Any], path: Path) -> SessionSummary:
    return SessionSummary(
        id=entry["id"],
        title=entry["title"],
        model=entry["model"],
        message_count=entry["message_count"],
        created_at=datetime.fromisoformat(entry["created_at"]),
        updated_at=datetime.fromisoformat(entry["updated_at"]),
        cost=entry["cost"],
        currency=entry["currency"],
        prompt_tokens=entry["prompt_tokens"],
        completion_tokens=entry["completion_tokens"],
        path=path,
    )


def _survives_escaping(needle: str) -> bool:
    """True when the needle appears verbatim in a file whose text contains it (no escapes)."""
    return not any(c in '"\\' or ord(c) < 0x20 or ord(c) == 0x7F for c in needle)


def _hits_in(
    document: dict[str, Any], session: SessionSummary, needle: str, fields: tuple[str, ...]
) -> list[SearchHit]:
    """One hit per distinct matching line of a session: a line that several branches share (a
    regenerated answer, an edited prompt, a compacted copy) is listed once, on the active branch
    when it is there."""
    messages = document.get("messages")
    messages = [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []
    active = _active_ids(messages, document.get("active_leaf_id"))
    found: dict[str, SearchHit] = {}
    for message in sorted(messages, key=lambda m: m.get("id") not in active):  # the active branch first
        for name in fields:
            text = message.get(name)
            if isinstance(text, dict):
                try:
                    text = codec.unwrap(text)
                except CodecError:
                    continue
            if not isinstance(text, str):
                continue
            line = _matching_line(text, needle)
            if line is not None:
                found.setdefault(line, SearchHit(session.id, session.title, str(message.get("id")), line))
                break
    order = {str(m.get("id")): index for index, m in enumerate(messages)}
    return sorted(found.values(), key=lambda hit: order.get(hit.message_id, 0))


def _active_ids(messages: list[dict[str, Any]], leaf: Any) -> set[Any]:
    parents = {m.get("id"): m.get("parent_id") for m in messages}
    active: set[Any] = set()
    while leaf is not None and leaf in parents and leaf not in active:
        active.add(leaf)
        leaf = parents[leaf]
    return active


def _matching_line(text: str, needle: str) -> str | None:
    lowered = text.lower()
    at = lowered.find(needle)
    if at < 0:
        return None
    if len(lowered) == len(text) and "\n" not in needle:
        start = lowered.rfind("\n", 0, at) + 1
        end = lowered.find("\n", at)
        line = text[start : end if end >= 0 else len(text)]
        return line.strip()[:SEARCH_LINE_LENGTH]
    for line in text.splitlines():
        if needle in line.lower():
            return line.strip()[:SEARCH_LINE_LENGTH]
    return text.strip()[:SEARCH_LINE_LENGTH]  # the match spans lines


__all__ = [
    "SearchHit",
    "SessionNotFoundError",
    "SessionStore",
    "SessionSummary",
    "SessionUnreadableError",
    "StoreError",
    "UnreadableSession",
    "atomic_write",
    "default_sessions_dir",
    "read_export",
]
