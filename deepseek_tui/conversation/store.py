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
- Listing and search use an index beside the files, `.index.sqlite3` (`session_index`): each
  file's summary and its messages' text (full-text, substring search), keyed by the file's
  (size, mtime, inode), so only new or changed files are parsed. It is a cache: if it is missing,
  damaged or of another version it is rebuilt from the files, and if SQLite fails, listing and
  search read the files. A file whose text is not indexed yet (changed since, or the index is
  still being built by `index_text`) is searched by reading it.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import platformdirs

from deepseek_tui.atomic import atomic_write_bytes
from deepseek_tui.conversation import codec
from deepseek_tui.conversation.blobs import DIRECTORY_NAME as ATTACHMENTS_DIRECTORY
from deepseek_tui.conversation.blobs import BlobStore
from deepseek_tui.conversation.codec import CodecError, Format
from deepseek_tui.conversation.model import Conversation
from deepseek_tui.conversation.session_index import (
    ALL_MESSAGES,
    INDEX_NAME,  # noqa: F401 - tests and tools find the index file through the store
    SUMMARY_COLUMNS,
    FileText,
    IndexedMessage,
    IndexUnavailable,
    PendingFile,
    SessionIndex,
    Stamp,
)
from deepseek_tui.guarded_read import FileUnreadable, read_regular_file

try:
    import fcntl
except ImportError:  # not POSIX: saves are not locked against other processes
    fcntl = None  # type: ignore[assignment]

MAX_FILE_BYTES = 64 * 1024 * 1024
"""Larger files are reported unreadable instead of parsed."""
MIN_ID_PREFIX = 4
"""Characters of a session id that `resolve_id` needs to accept a prefix."""
LOCK_NAME = ".lock"
LOCK_TIMEOUT = 10.0
"""Seconds a save waits for another process's save before it gives up with a message."""
COMMON_QUERY_ROWS = 2000
COMMON_QUERY_READ = 5000
"""A limited search for a query in more than COMMON_QUERY_ROWS messages reads the sessions'
messages in listing order; after COMMON_QUERY_READ messages without enough hits it asks the index
for every candidate instead."""
INDEX_BATCH = 50
INDEX_BATCH_BYTES = 8 * 1024 * 1024
"""`index_text` writes the text of this many files (or bytes) at a time."""
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
    directory: Path = field(repr=False)
    file_name: str

    @property
    def path(self) -> Path:
        return self.directory / self.file_name  # made when asked: listing 10,000 stays quick


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
        self._index = SessionIndex(self.directory)
        self._known: dict[str, tuple[Stamp, SessionSummary | UnreadableSession]] = {}
        """What the listing shows for each file, with the stamp it is true for: read from the
        index once, then only new and changed files are looked up (in the index, which another
        process may have brought up to date, else by parsing them)."""
        self._known_loaded = False
        self._listed = False
        """A listing has completed: `_known` then holds every file it found, but for those in
        `_duplicates` (a second file of a session: listed as unreadable)."""
        self._duplicates: list[str] = []
        self._unrecorded: dict[str, tuple[Stamp, dict[str, Any]] | None] = {}
        """Summaries (None: the file was deleted) the index was too busy to take: the next
        listing records them (`_known` already has them, so it would not see them as changed)."""
        self._index_lock = threading.RLock()
        """The picker lists, searches and indexes in threads while the app saves: a listing
        (which parses changed files and records them) runs under this lock; SQLite orders the
        rest (each thread has its own connection)."""
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
                    from deepseek_tui.conversation.merge import merge_saved  # only when another process wrote

                    merged = merge_saved(conversation, other)
                    written, holds_all = merged.conversation, merged.memory_holds_all
                    self.load_attachments(conversation)  # messages the other process added
            self._keep_attachments(written)  # before the session file that names them
            path = existing or self.directory / f"{conversation.id}.{self.fmt}"
            data = codec.encode(written, _format_of(path))
            atomic_write(path, data)
            stamp = _stamp(path.stat())  # of this very file: other processes' saves wait for the lock
        self._note(path.name, stamp, _summary_entry(written))
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
        self._known.pop(path.name, None)
        try:
            self._index.remove([path.name])
        except IndexUnavailable:
            self._unrecorded[path.name] = None  # the next listing tells the index

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
        return self._listing()[0]

    def known_sessions(self) -> list[SessionSummary | UnreadableSession] | None:
        """What the last listing found, with this store's own saves and deletes since, in the
        same order as `list_sessions`; no file is looked at, so files other processes changed
        since may show as they were. None before a listing has completed."""
        if not self._listed:
            return None
        readable: list[SessionSummary] = []
        unreadable: list[UnreadableSession] = []
        ids: dict[str, str] = {}
        # a listing or a save in another thread may change `_known` meanwhile: read through a copy
        entries: list[tuple[str, tuple[Stamp, SessionSummary | UnreadableSession] | None]]
        entries = list(self._known.items())
        names = {name for name, _ in entries}
        entries += [(name, None) for name in self._duplicates if name not in names]
        for name, known in sorted(entries, key=lambda entry: entry[0].endswith(".toml")):  # .json first
            session_id = name.rpartition(".")[0]
            if session_id in ids:
                unreadable.append(_same_id(self.directory, name, session_id, ids[session_id]))
                continue
            if known is None:  # the file it was a duplicate of has gone
                continue
            ids[session_id] = name
            listed = known[1]
            if isinstance(listed, SessionSummary):
                readable.append(listed)
            else:
                unreadable.append(listed)
        return _in_listing_order(readable, unreadable)

    def _listing(self) -> tuple[list[SessionSummary | UnreadableSession], dict[str, Stamp]]:
        """The sessions, and the stamp of each file. New and changed files are looked up in the
        index or parsed, and recorded; removed ones are forgotten."""
        files = self._session_files()
        with self._index_lock:
            if not self._known_loaded and (files or self._index.exists()):
                self._load_known()
            readable: list[SessionSummary] = []
            unreadable: list[UnreadableSession] = []
            changed: dict[str, tuple[Stamp, dict[str, Any]]] = {}
            ids: dict[str, str] = {}
            duplicates: list[str] = []
            for name, session_id, stamp in files:  # .json first: it is the session when both exist
                if session_id in ids:
                    unreadable.append(_same_id(self.directory, name, session_id, ids[session_id]))
                    duplicates.append(name)
                    continue
                ids[session_id] = name
                known = self._known.get(name)
                if known is None or known[0] != stamp:
                    known = self._recorded(name, session_id, stamp)
                    if known is None:
                        entry = self._summarize(self.directory / name)
                        known = stamp, _listed_entry(self.directory, name, session_id, entry)
                        changed[name] = stamp, entry
                    self._known[name] = known
                listed = known[1]
                if isinstance(listed, SessionSummary):
                    readable.append(listed)
                else:
                    unreadable.append(listed)
            stamps = {name: stamp for name, _, stamp in files}
            # a save in another thread may change these dicts meanwhile (it does not wait for a
            # listing): they are read through copies (`list(dict)` is atomic)
            removed = [name for name in list(self._known) if name not in stamps]
            for name in removed:
                self._known.pop(name, None)
            unrecorded_now = list(self._unrecorded.items())
            for name, unrecorded in unrecorded_now:
                if unrecorded is None:
                    removed.append(name)
                elif stamps.get(name) == unrecorded[0]:
                    changed.setdefault(name, unrecorded)
            if changed or removed:
                try:
                    self._index.put_summaries(changed, removed)
                    for name, unrecorded in unrecorded_now:
                        if self._unrecorded.get(name, 0) is unrecorded:  # else a save noted it again
                            self._unrecorded.pop(name, None)
                except IndexUnavailable:  # this store remembers them; the index learns next time
                    self._unrecorded.update(dict.fromkeys(removed))
                    self._unrecorded.update(changed)  # a file deleted and made again is recorded
            self._duplicates, self._listed = duplicates, True
        return _in_listing_order(readable, unreadable), stamps

    def _load_known(self) -> None:
        try:
            rows = self._index.summaries()
        except IndexUnavailable:
            return  # files are parsed instead
        for name, stamp, error, values in rows:
            listed = _listed(self.directory, name, name.rpartition(".")[0], error, values)
            if listed is not None:
                self._known[name] = stamp, listed
        self._known_loaded = True

    def _recorded(
        self, name: str, session_id: str, stamp: Stamp
    ) -> tuple[Stamp, SessionSummary | UnreadableSession] | None:
        """The index's summary of a file this store has not seen like this (another process may
        have recorded it), if it is for this stamp."""
        if not self._known_loaded:
            return None
        try:
            rows = self._index.summaries(name)
        except IndexUnavailable:
            return None
        for _, recorded_stamp, error, values in rows:
            if recorded_stamp == stamp:
                listed = _listed(self.directory, name, session_id, error, values)
                if listed is not None:
                    return stamp, listed
        return None

    def search(self, query: str, include_reasoning: bool = False, limit: int | None = None) -> list[SearchHit]:
        """Case-insensitive substring search over message text of every branch of every session:
        one hit per distinct matching line of a session (see `_hits_from`), sessions newest
        first; only the first `limit` hits if given.

        Only readable sessions are searched: through the index for files whose text it holds
        for their current stamp, else by reading the file.
        """
        needle = query.lower()
        if not needle:
            return []
        fields = ("content", "reasoning") if include_reasoning else ("content",)
        sessions, stamps = self._listing()
        readable = [s for s in sessions if isinstance(s, SessionSummary)]
        if readable and self._index.exists():
            try:
                return self._search_indexed(readable, stamps, needle, fields, limit)
            except IndexUnavailable:
                pass
        hits: list[SearchHit] = []
        for session in readable:
            hits.extend(self._search_file(session, needle, fields))
            if limit is not None and len(hits) >= limit:
                break
        return hits[:limit]

    def _search_indexed(
        self,
        sessions: list[SessionSummary],
        stamps: dict[str, Stamp],
        needle: str,
        fields: tuple[str, ...],
        limit: int | None,
    ) -> list[SearchHit]:
        """With a limit, a query found in very many messages is looked for by reading the
        sessions' messages in listing order, as the first sessions are likely to fill the
        results; if they do not (the matches are in old sessions), the index gives all the
        candidates and the rest are read through it."""
        hits: list[SearchHit] = []
        with self._index.snapshot() as snapshot:
            indexed = snapshot.indexed_files()
            candidates: Any
            if not indexed:
                candidates = ALL_MESSAGES
            else:
                candidates = snapshot.candidates(needle, fields, COMMON_QUERY_ROWS if limit is not None else None)
            narrowed = candidates is not ALL_MESSAGES or limit is None
            read = 0
            for session in sessions:
                file_id, stamp = indexed.get(session.file_name, (0, None))
                if stamp != stamps[session.file_name]:  # not indexed yet, or changed since
                    hits.extend(self._search_file(session, needle, fields))
                elif candidates is ALL_MESSAGES:
                    messages = snapshot.messages(file_id)
                    hits.extend(_hits_from(messages, session, needle, fields))
                    read += len(messages)
                    if read > COMMON_QUERY_READ and not narrowed:
                        candidates, narrowed = snapshot.candidates(needle, fields), True
                elif file_id in candidates:
                    hits.extend(_hits_from(snapshot.messages(file_id, candidates[file_id]), session, needle, fields))
                if limit is not None and len(hits) >= limit:
                    break
        return hits[:limit]

    def _search_file(self, session: SessionSummary, needle: str, fields: tuple[str, ...]) -> list[SearchHit]:
        """Search one session's file (as a document: no `Conversation` is built)."""
        try:
            data = read_regular_file(session.path, MAX_FILE_BYTES)
            if (
                _survives_escaping(needle)
                and codec.SURROGATE_TAG.encode() not in data
                and needle not in data.decode("utf-8", "replace").lower()
            ):
                return []  # it cannot contain the query: not parsed
            document = codec.parse(data, _format_of(session.path))
        except (FileUnreadable, CodecError):
            return []
        return _hits_in(document, session, needle, fields)

    def index_text(self, should_stop: Callable[[], bool] = lambda: False) -> bool:
        """Bring the index's copy of the text of the sessions listed so far (by this or another
        store: a listing records new and changed files) up to date, some files at a time. The
        picker runs this in the background; search reads the files not done yet. True when every
        file is done; False when stopped (`should_stop()`) or the index cannot be used."""
        if self._unrecorded:
            self._listing()  # records what the index was too busy to take
            if self._unrecorded:
                return False
        try:
            if not self._index.exists():
                return True  # no sessions
            while not self._index.purge_orphans():
                if should_stop():
                    return False
            if not self._index.text_search:
                return False  # this SQLite has no FTS5 trigram tokenizer: search reads the files
            after = 0
            while batch := self._index.pending(after, INDEX_BATCH):
                files: list[FileText] = []
                size = 0
                for pending in batch:
                    if should_stop() or size > INDEX_BATCH_BYTES:
                        break
                    after = pending.file_id
                    file = self._file_text(pending)
                    if file is not None:
                        files.append(file)
                        size += file.stamp[0]
                self._index.put_files(files)
                if should_stop():
                    return False
            return not self._index.pending(0, 1)
        except IndexUnavailable:
            return False

    def _file_text(self, pending: PendingFile) -> FileText | None:
        """What the index should hold for a file whose text it lacks (None: it has gone)."""
        path = self.directory / pending.name
        try:
            stamp = _stamp(os.stat(path, follow_symlinks=False))  # before reading: a later change shows
        except FileNotFoundError:
            self._index.remove([pending.name])
            return None
        except OSError:
            return None
        if stamp == pending.stamp:  # the summary is still true: only the text is needed
            if not pending.readable:
                return FileText(pending.name, stamp, None, None)
            try:
                same = codec.parse(read_regular_file(path, MAX_FILE_BYTES), _format_of(path))
                return FileText(pending.name, stamp, None, _searchable_messages(same))
            except (FileUnreadable, CodecError):
                pass  # changed after all: summarized again below
        entry, document = self._examine(path)
        return FileText(pending.name, stamp, entry, _searchable_messages(document) if document is not None else None)

    # --- import / export --------------------------------------------------------------------

    def export_markdown(self, conversation: Conversation, path: Path | str) -> Path:
        from deepseek_tui.conversation.export import markdown_text

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
            raise StoreError(
                f"could not store an attachment: {exc.strerror or exc}; the conversation was not saved"
            ) from None

    # --- internals --------------------------------------------------------------------------

    def _path_of(self, session_id: str) -> Path | None:
        _check_id(session_id)
        for fmt in codec.FORMATS:
            candidate = self.directory / f"{session_id}.{fmt}"
            if candidate.exists():
                return candidate
        return None

    def _session_files(self) -> list[tuple[str, str, tuple[int, int, int]]]:
        """(file name, session id, stamp) of each session file, the .json ones first."""
        found: list[tuple[str, str, tuple[int, int, int]]] = []
        try:
            with os.scandir(self.directory) as entries:
                for entry in entries:
                    match = _SESSION_FILE.match(entry.name)
                    if not match or not entry.is_file(follow_symlinks=False):
                        continue
                    try:
                        found.append((entry.name, match.group(1), _stamp(entry.stat(follow_symlinks=False))))
                    except FileNotFoundError:  # deleted meanwhile
                        continue
        except FileNotFoundError:
            return []
        found.sort(key=lambda f: f[0].endswith(".toml"))
        return found

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

    def _summarize(self, path: Path) -> dict[str, Any]:
        return self._examine(path)[0]

    def _examine(self, path: Path) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """A file's summary entry, or {"error": reason}; and its document if it is readable."""
        try:
            document, conversation = self._read_document(path)
        except CodecError as exc:
            return {"error": str(exc)}, None
        except Exception as exc:  # a hostile file must never break listing
            return {"error": f"cannot be read: {type(exc).__name__}"}, None
        if path.stem != conversation.id:
            return {"error": f"holds session {conversation.id!r}"}, None
        return _summary_entry(conversation), document

    def _read_document(self, path: Path) -> tuple[dict[str, Any], Conversation]:
        try:
            data = read_regular_file(path, MAX_FILE_BYTES)
        except FileUnreadable as exc:
            raise CodecError(str(exc)) from None
        document = codec.parse(data, _format_of(path))
        return document, codec.conversation_of(document)

    def _note(self, name: str, stamp: Stamp, entry: dict[str, Any]) -> None:
        """Record what this store just wrote (its text is indexed later, off the save path)."""
        self._known[name] = stamp, _listed_entry(self.directory, name, name.rpartition(".")[0], entry)
        try:
            self._index.put_summaries({name: (stamp, entry)})
            self._unrecorded.pop(name, None)
        except IndexUnavailable:
            self._unrecorded[name] = stamp, entry  # this store remembers it; the next listing records it


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
        raise StoreError(
            f"cannot import {path.name}: it {exc}"
            if isinstance(exc, FileUnreadable)
            else f"cannot import {path.name}: {exc}"
        ) from None


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def _format_of(path: Path) -> Format:
    return "toml" if path.suffix == ".toml" else "json"


def _stamp(stat: os.stat_result) -> tuple[int, int, int]:
    return stat.st_size, stat.st_mtime_ns, stat.st_ino


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


def _listed_entry(
    directory: Path, name: str, session_id: str, entry: dict[str, Any]
) -> SessionSummary | UnreadableSession:
    """What the listing shows for a summary entry this store has just made."""
    values = tuple(entry.get(column) for column in SUMMARY_COLUMNS)
    listed = _listed(directory, name, session_id, entry.get("error"), values)
    return listed or UnreadableSession(session_id, directory / name, "cannot be read: bad summary")


def _listed(
    directory: Path, name: str, session_id: str, error: str | None, values: tuple[Any, ...]
) -> SessionSummary | UnreadableSession | None:
    """What the listing shows for a file, from its summary values (SUMMARY_COLUMNS, of the right
    types) or the reason it cannot be read; None if they are not usable (the file is then parsed
    again)."""
    if error is not None:
        return UnreadableSession(session_id, directory / name, error)
    id_, title, model, count, created, updated, cost, currency, prompt, completion = values
    try:
        return SessionSummary(
            id_,
            title,
            model,
            count,
            datetime.fromisoformat(created),
            datetime.fromisoformat(updated),
            cost,
            currency,
            prompt,
            completion,
            directory,
            name,
        )
    except (TypeError, ValueError):
        return None


def _same_id(directory: Path, name: str, session_id: str, used: str) -> UnreadableSession:
    return UnreadableSession(session_id, directory / name, f"same session id as {used}, which is the one used")


def _in_listing_order(
    readable: list[SessionSummary], unreadable: list[UnreadableSession]
) -> list[SessionSummary | UnreadableSession]:
    """Readable sessions newest first, then the unreadable ones by file name."""
    readable.sort(key=lambda s: s.updated_at, reverse=True)
    unreadable.sort(key=lambda u: u.path.name)
    return [*readable, *unreadable]


def _survives_escaping(needle: str) -> bool:
    """True when the needle appears verbatim in a file whose text contains it (no escapes)."""
    return not any(c in '"\\' or ord(c) < 0x20 or ord(c) == 0x7F for c in needle)


def _hits_in(
    document: dict[str, Any], session: SessionSummary, needle: str, fields: tuple[str, ...]
) -> list[SearchHit]:
    return _hits_from(_searchable_messages(document), session, needle, fields)


def _searchable_messages(document: dict[str, Any]) -> list[IndexedMessage]:
    """A document's messages as search sees them (and the index keeps them), in file order."""
    messages = document.get("messages")
    messages = [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []
    active = _active_ids(messages, document.get("active_leaf_id"))
    order = {str(m.get("id")): index for index, m in enumerate(messages)}
    return [
        IndexedMessage(
            str(m.get("id")),
            m.get("id") in active,
            order[str(m.get("id"))],
            _message_text(m.get("content")),
            _message_text(m.get("reasoning")),
        )
        for m in messages
    ]


def _message_text(value: Any) -> str | None:
    if isinstance(value, dict):
        try:
            value = codec.unwrap(value)
        except CodecError:
            return None
    return value if isinstance(value, str) else None


def _hits_from(
    messages: list[IndexedMessage], session: SessionSummary, needle: str, fields: tuple[str, ...]
) -> list[SearchHit]:
    """One hit per distinct matching line of a session: a line that several branches share (a
    regenerated answer, an edited prompt, a compacted copy) is listed once, on the active branch
    when it is there. `messages`: in file order; those that do not match may be left out."""
    found: dict[str, SearchHit] = {}
    for message in sorted(messages, key=lambda m: not m.active):  # the active branch first
        for name in fields:
            text = message.content if name == "content" else message.reasoning
            if text is None:
                continue
            line = _matching_line(text, needle)
            if line is not None:
                found.setdefault(line, SearchHit(session.id, session.title, message.message_id, line))
                break
    order = {message.message_id: message.order for message in messages}
    return sorted(found.values(), key=lambda hit: order[hit.message_id])


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
