"""The sessions directory's index, `.index.sqlite3`: what listing and full-text search need, so
that neither has to parse every session file. A cache: the files are the truth.

- `files`: one row per session file: its stamp (size, mtime_ns, inode) and its summary, or the
  reason it cannot be read. The store trusts a row only while the file has the same stamp.
- `messages`: the text of each message of a readable file, as the file has it; `message_text`:
  an FTS5 `trigram` index of the same text lower-cased, for substring search. A save or a
  listing that finds a changed file records its summary and marks its text as not indexed
  (`text_indexed` 0); `put_files` (run by `SessionStore.index_text`, in the background) brings
  the text up to date, re-indexing only the messages that changed. Until then search reads that
  file itself.
- A missing, damaged or other-version index is rebuilt from the files. Every SQLite failure
  (another process holding a lock too long, a full disk, a damaged file) reaches the store as
  `IndexUnavailable`, and the store then lists and searches from the files.
- Threads: each thread has its own connection; SQLite's own locking orders them and other
  processes' (WAL mode, so reads never wait for a write; short busy timeouts, so that a
  database another process holds does not hold up the user: the store uses the files meanwhile).
- The database holds conversation text: it is created readable by its owner only (its WAL and
  shared-memory files take the same mode).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sqlite3: Any = None
"""The `sqlite3` module, imported on first use (start-up does not wait for it)."""

INDEX_NAME = ".index.sqlite3"
SCHEMA = f"1 unicode {unicodedata.unidata_version}"
"""Rebuilt when this changes: the text index holds `str.lower()` of the text, so a Python with
another Unicode version must not reuse it."""
BUSY_TIMEOUT = 5.0
"""Seconds a background write (`put_files`, run by `index_text`) waits for another connection's."""
SHORT_BUSY_TIMEOUT = 0.2
"""What a save or a listing waits for a busy index (the user waits for them): past that the store
carries on from the files and records the rows at a later listing."""
READ_BUSY_TIMEOUT = 0.5
"""What a read waits (in WAL mode reads wait only for another process holding the database
exclusively, or recovering it after a crash); past that the store reads the files."""
SLOT_BITS = 24
"""A message's row id is its file's id shifted by this, plus its position in the file."""
MAX_MESSAGES = (1 << SLOT_BITS) - 1
PAD = "\uffff\uffff"
"""Appended to every indexed text, so that each character starts a trigram: one- and two-character
queries are then found from the trigrams that start with them."""
SHORT_QUERY_ROWS = 20_000
"""A one- or two-character query found in more messages than this is looked for by reading the
messages in listing order (so common that the first sessions fill the results; finding them all
through the index would take seconds)."""
_SURROGATES = re.compile("[\ud800-\udfff]")
_CORRUPT_CODES = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB
_SIDE_FILES = ("-wal", "-shm", "-journal")
ALL_MESSAGES = object()
"""`Snapshot.candidates`: every message may match (read them all, in listing order)."""

Stamp = tuple[int, int, int]


class IndexUnavailable(Exception):
    """The index cannot be used for this call; the store falls back to the files."""


@dataclass(frozen=True)
class IndexedMessage:
    """What search needs of one message (the store makes these from documents)."""

    message_id: str
    active: bool
    """On the active branch (listed first when branches share a line)."""
    order: int
    """Where hits from this message sort within its session."""
    content: str | None
    reasoning: str | None


@dataclass(frozen=True)
class FileText:
    """A file as `put_files` records it: `messages` None for a file that cannot be read."""

    name: str
    stamp: Stamp
    entry: dict[str, Any] | None
    """The summary (or {"error": reason}); None: the one recorded for this stamp stays."""
    messages: list[IndexedMessage] | None


@dataclass(frozen=True)
class PendingFile:
    name: str
    file_id: int
    stamp: Stamp
    readable: bool


SUMMARY_COLUMNS = (
    "id",
    "title",
    "model",
    "message_count",
    "created_at",
    "updated_at",
    "cost",
    "currency",
    "prompt_tokens",
    "completion_tokens",
)
_SCHEMA_SQL = [
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)",
    "CREATE TABLE files (file_id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE,"
    " size INTEGER, mtime_ns INTEGER, inode INTEGER, text_indexed INTEGER NOT NULL DEFAULT 0,"
    " error TEXT, " + ", ".join(SUMMARY_COLUMNS) + ")",
    "CREATE TABLE messages (rowid INTEGER PRIMARY KEY, message_id TEXT, active INTEGER, ord INTEGER,"
    " digest BLOB, content, reasoning)",
    "CREATE TABLE orphans (file_id INTEGER PRIMARY KEY)",
]
_TEXT_SQL = [
    "CREATE VIRTUAL TABLE message_text USING fts5(content, reasoning,"
    " tokenize='trigram case_sensitive 1', content='', columnsize=0)",
    "CREATE VIRTUAL TABLE message_term_places USING fts5vocab(message_text, 'instance')",
]
_SUMMARY_SELECT = (
    "SELECT name, size, mtime_ns, inode, error, " + ", ".join(SUMMARY_COLUMNS) + ","
    " typeof(size) = 'integer' AND typeof(mtime_ns) = 'integer' AND typeof(inode) = 'integer'"
    " AND (typeof(error) IN ('text', 'blob') OR (typeof(id) = 'text' AND typeof(title) IN ('text', 'blob')"
    " AND typeof(model) IN ('text', 'blob') AND typeof(message_count) = 'integer'"
    " AND typeof(created_at) = 'text' AND typeof(updated_at) = 'text'"
    " AND typeof(cost) IN ('real', 'integer', 'null') AND typeof(currency) IN ('text', 'blob', 'null')"
    " AND typeof(prompt_tokens) = 'integer' AND typeof(completion_tokens) = 'integer')),"
    " typeof(error) = 'blob' OR typeof(title) = 'blob' OR typeof(model) = 'blob' OR typeof(currency) = 'blob'"
    " FROM files"
)


class SessionIndex:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / INDEX_NAME
        self._local = threading.local()
        self._generation = 0
        """Bumped when the database file is replaced: every thread then opens the new one."""
        self._open_lock = threading.Lock()
        self.text_search: bool | None = None
        """Whether this SQLite has FTS5 with the trigram tokenizer (known once opened)."""

    # --- reading ---------------------------------------------------------------------------

    def exists(self) -> bool:
        return self.path.exists()

    def summaries(self, name: str | None = None) -> list[tuple[str, Stamp, str | None, tuple[Any, ...]]]:
        """(file name, stamp, error, summary values in SUMMARY_COLUMNS order) of every file, or
        of the one named. Rows whose columns do not have the types this module writes are left
        out (the store then reads the file)."""
        with self._reading() as db:
            if name is None:
                rows = db.execute(_SUMMARY_SELECT).fetchall()
            else:
                rows = db.execute(_SUMMARY_SELECT + " WHERE name = ?", (name,)).fetchall()
        end = 5 + len(SUMMARY_COLUMNS)
        return [
            (row[0], (row[1], row[2], row[3]), row[4], row[5:end])
            if not row[-1]
            else (
                row[0],
                (row[1], row[2], row[3]),
                _loaded(row[4]),
                tuple(_loaded(value) if isinstance(value, bytes) else value for value in row[5:end]),
            )
            for row in rows
            if row[-2] == 1
        ]

    def pending(self, after_file_id: int, limit: int) -> list[PendingFile]:
        """Files whose text is not indexed yet, by file id, after `after_file_id`."""
        with self._reading() as db:
            rows = db.execute(
                "SELECT name, file_id, size, mtime_ns, inode, error IS NULL FROM files"
                " WHERE text_indexed = 0 AND file_id > ? ORDER BY file_id LIMIT ?",
                (after_file_id, limit),
            ).fetchall()
        return [PendingFile(row[0], row[1], (row[2], row[3], row[4]), bool(row[5])) for row in rows]

    @contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        """Reads that see one state of the index (writes made meanwhile are not seen)."""
        with self._reading() as db:
            yield Snapshot(self, db)

    # --- writing ---------------------------------------------------------------------------

    def put_summaries(self, entries: dict[str, tuple[Stamp, dict[str, Any]]], removed: Iterable[str] = ()) -> None:
        """Record files' stamps and summaries ({"error": reason} for an unreadable one), their
        text marked not indexed; forget removed files."""
        with self._writing(SHORT_BUSY_TIMEOUT) as db:
            for name in removed:
                self._drop_file(db, name)
            for name, (stamp, entry) in entries.items():
                self._upsert(db, name, stamp, entry, text_indexed=False)

    def put_files(self, files: list[FileText]) -> None:
        """Record files' summaries and text, in one transaction (FTS5 writes its index once per
        transaction). Only messages that changed are re-indexed."""
        with self._writing(BUSY_TIMEOUT) as db:
            for file in files:
                fits = file.messages is None or len(file.messages) <= MAX_MESSAGES  # else search reads it
                if file.entry is not None:
                    file_id = self._upsert(db, file.name, file.stamp, file.entry, text_indexed=fits)
                else:  # the recorded summary stays, if it is still for this stamp
                    row = db.execute(
                        "SELECT file_id FROM files WHERE name = ? AND size = ? AND mtime_ns = ? AND inode = ?",
                        (file.name, *file.stamp),
                    ).fetchone()
                    if row is None:
                        continue  # recorded again meanwhile: indexed on a later pass
                    file_id = row[0]
                    db.execute("UPDATE files SET text_indexed = ? WHERE file_id = ?", (int(fits), file_id))
                self._put_text(db, file_id, file.messages if file.messages is not None and fits else [])

    def remove(self, names: Iterable[str]) -> None:
        with self._writing(SHORT_BUSY_TIMEOUT) as db:
            for name in names:
                self._drop_file(db, name)

    def purge_orphans(self, limit: int = 20) -> bool:
        """Delete the text of some files that are gone (deleting a session leaves it, to stay
        quick). True when none are left."""
        with self._reading() as db:
            if db.execute("SELECT 1 FROM orphans LIMIT 1").fetchone() is None:
                return True
        with self._writing(BUSY_TIMEOUT) as db:
            orphans = [row[0] for row in db.execute("SELECT file_id FROM orphans LIMIT ?", (limit,))]
            for file_id in orphans:
                self._put_text(db, file_id, [])
                db.execute("DELETE FROM orphans WHERE file_id = ?", (file_id,))
        return len(orphans) < limit

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        db = getattr(self._local, "db", None)
        self._local.db = None
        if db is not None:
            db.close()

    def _upsert(self, db: Any, name: str, stamp: Stamp, entry: dict[str, Any], text_indexed: bool) -> int:
        error = _stored(entry.get("error"))
        values = [None if error is not None else _stored(entry.get(column)) for column in SUMMARY_COLUMNS]
        row = db.execute("SELECT file_id FROM files WHERE name = ?", (name,)).fetchone()
        if row is None:
            cursor = db.execute(
                f"INSERT INTO files (name, size, mtime_ns, inode, text_indexed, error, {', '.join(SUMMARY_COLUMNS)})"
                f" VALUES ({', '.join('?' * (6 + len(SUMMARY_COLUMNS)))})",
                (name, *stamp, int(text_indexed), error, *values),
            )
            return int(cursor.lastrowid)
        db.execute(
            f"UPDATE files SET size = ?, mtime_ns = ?, inode = ?, text_indexed = ?, error = ?,"
            f" {', '.join(f'{column} = ?' for column in SUMMARY_COLUMNS)} WHERE file_id = ?",
            (*stamp, int(text_indexed), error, *values, row[0]),
        )
        return int(row[0])

    def _drop_file(self, db: Any, name: str) -> None:
        row = db.execute("SELECT file_id FROM files WHERE name = ?", (name,)).fetchone()
        if row is not None:
            db.execute("DELETE FROM files WHERE file_id = ?", (row[0],))
            db.execute("INSERT OR IGNORE INTO orphans (file_id) VALUES (?)", (row[0],))

    def _put_text(self, db: Any, file_id: int, messages: list[IndexedMessage]) -> None:
        first = file_id << SLOT_BITS
        old = {
            row[0]: row[1:]
            for row in db.execute(
                "SELECT rowid, message_id, active, ord, digest FROM messages WHERE rowid BETWEEN ? AND ?",
                (first, first + MAX_MESSAGES),
            )
        }
        added_rows, added_text = [], []
        for position, message in enumerate(messages):
            rowid = first + position
            digest = _digest(message.content, message.reasoning)
            meta = (message.message_id, int(message.active), message.order)
            was = old.pop(rowid, None)
            if was is not None and was[3] == digest:
                if tuple(was[:3]) != meta:  # e.g. another branch became the active one
                    db.execute(
                        "UPDATE messages SET message_id = ?, active = ?, ord = ? WHERE rowid = ?", (*meta, rowid)
                    )
                continue
            if was is not None:
                self._delete_text(db, rowid)
            added_rows.append((rowid, *meta, digest, _stored(message.content), _stored(message.reasoning)))
            added_text.append((rowid, _searchable(message.content), _searchable(message.reasoning)))
        for rowid in old:
            self._delete_text(db, rowid)
        db.executemany(
            "INSERT INTO messages (rowid, message_id, active, ord, digest, content, reasoning)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            added_rows,
        )
        if self.text_search:
            db.executemany("INSERT INTO message_text (rowid, content, reasoning) VALUES (?, ?, ?)", added_text)

    def _delete_text(self, db: Any, rowid: int) -> None:
        row = db.execute("SELECT content, reasoning FROM messages WHERE rowid = ?", (rowid,)).fetchone()
        if row is None:
            return
        if self.text_search:  # a contentless FTS table forgets a row given the values it indexed
            content, reasoning = (_loaded(value) for value in row)
            db.execute(
                "INSERT INTO message_text (message_text, rowid, content, reasoning) VALUES ('delete', ?, ?, ?)",
                (rowid, _searchable(content), _searchable(reasoning)),
            )
        db.execute("DELETE FROM messages WHERE rowid = ?", (rowid,))

    # --- connections -----------------------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[Any]:
        with self._guarded() as db:
            db.execute(f"PRAGMA busy_timeout = {int(READ_BUSY_TIMEOUT * 1000)}")
            db.execute("BEGIN")
            yield db
            db.execute("COMMIT")

    @contextmanager
    def _writing(self, timeout: float) -> Iterator[Any]:
        with self._guarded() as db:  # which rolls back what an error interrupts
            db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")

    @contextmanager
    def _guarded(self) -> Iterator[Any]:
        """This thread's connection; any SQLite error becomes `IndexUnavailable` (and a damaged
        database is deleted, so that the next use rebuilds it), as does failing to open it."""
        _import_sqlite()
        try:
            db = self._connection()
        except (sqlite3.Error, OSError) as exc:
            raise IndexUnavailable(f"{type(exc).__name__}: {exc}") from None
        try:
            yield db
        except (sqlite3.Error, ValueError, OverflowError) as exc:  # e.g. text SQLite cannot take
            _roll_back(db)
            if _is_corrupt(exc):
                self._discard()
            raise IndexUnavailable(f"{type(exc).__name__}: {exc}") from None
        except BaseException:
            _roll_back(db)
            raise

    def _connection(self) -> Any:
        db = getattr(self._local, "db", None)
        if db is not None and self._local.generation == self._generation:
            return db
        self.close()
        with self._open_lock:
            try:
                db = self._open()
            except sqlite3.DatabaseError as exc:
                if not _is_corrupt(exc):
                    raise
                self._remove_files()  # damaged: start again from the files
                db = self._open()
            generation = self._generation
        self._local.db, self._local.generation = db, generation
        return db

    def _open(self) -> Any:
        if not self.directory.is_dir():
            raise IndexUnavailable("no sessions directory yet")
        _create_private(self.path)
        db = sqlite3.connect(self.path, timeout=READ_BUSY_TIMEOUT, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            if _schema_of(db) != SCHEMA:
                self._create(db)
            self.text_search = _has_table(db, "message_text")
        except BaseException:
            db.close()
            raise
        return db

    def _create(self, db: Any) -> None:
        """Make the tables, in a new database or in place of another version's."""
        db.execute(f"PRAGMA busy_timeout = {int(READ_BUSY_TIMEOUT * 1000)}")  # another process creating it is quick
        db.execute("BEGIN IMMEDIATE")
        try:
            if _schema_of(db) != SCHEMA:  # else another process made them meanwhile
                _drop_everything(db)
                for statement in _SCHEMA_SQL:
                    db.execute(statement)
                try:
                    for statement in _TEXT_SQL:
                        db.execute(statement)
                except sqlite3.OperationalError:  # no FTS5 or no trigram tokenizer: search reads the files
                    for name in ("message_term_places", "message_text"):
                        db.execute(f"DROP TABLE IF EXISTS {name}")
                db.execute("INSERT INTO meta (key, value) VALUES ('schema', ?)", (SCHEMA,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        _remove_quietly(self.directory / ".index.json")  # the listing cache this replaces

    def _discard(self) -> None:
        """Delete a damaged database; every thread reopens (and so rebuilds) it."""
        with self._open_lock:
            self.close()
            self._remove_files()

    def _remove_files(self) -> None:
        for suffix in ("", *_SIDE_FILES):
            _remove_quietly(Path(f"{self.path}{suffix}"))
        self._generation += 1


class Snapshot:
    """Search reads within one read transaction (see `SessionIndex.snapshot`)."""

    def __init__(self, index: SessionIndex, db: Any) -> None:
        self._index = index
        self._db = db

    def indexed_files(self) -> dict[str, tuple[int, Stamp]]:
        """File name → (file id, stamp) of each file whose text is indexed."""
        return {
            row[0]: (row[1], (row[2], row[3], row[4]))
            for row in self._db.execute(
                "SELECT name, file_id, size, mtime_ns, inode FROM files WHERE text_indexed = 1 AND error IS NULL"
            )
        }

    def candidates(self, needle: str, fields: tuple[str, ...], at_most: int | None = None) -> Any:
        """The messages that may contain `needle` (lower-cased) in one of `fields`: a dict of
        file id → row ids (every message that contains it is among them), or ALL_MESSAGES when
        there are more than `at_most` of them or the index cannot narrow them down."""
        if not self._index.text_search or "\0" in needle or _SURROGATES.search(needle):
            return ALL_MESSAGES
        if len(needle) >= 3:
            phrase = needle.replace('"', '""')
            query = "SELECT rowid FROM message_text WHERE message_text MATCH ?" + (" LIMIT ?" if at_most else "")
            args = (f'{{{" ".join(fields)}}} : "{phrase}"', *((at_most + 1,) if at_most else ()))
            rows = self._db.execute(query, args).fetchall()
            if at_most and len(rows) > at_most:
                return ALL_MESSAGES
        else:  # each character starts a trigram (see PAD): the messages with a trigram that starts with it
            high = _next_string(needle)
            where = "term >= ?" + (" AND term < ?" if high else "") + (" AND col = ?" if len(fields) == 1 else "")
            args = (needle, *([high] if high else []), *(fields if len(fields) == 1 else []))
            most = min(at_most or SHORT_QUERY_ROWS, SHORT_QUERY_ROWS)
            rows = self._db.execute(
                f"SELECT DISTINCT doc FROM message_term_places WHERE {where} LIMIT ?", (*args, most + 1)
            ).fetchall()
            if len(rows) > most:
                return ALL_MESSAGES
        found: dict[int, list[int]] = {}
        for (rowid,) in rows:
            found.setdefault(rowid >> SLOT_BITS, []).append(rowid)
        return found

    def messages(self, file_id: int, rowids: list[int] | None = None) -> list[IndexedMessage]:
        """A file's messages in file order (only those of `rowids` if given)."""
        columns = "message_id, active, ord, content, reasoning"
        if rowids is None:
            first = file_id << SLOT_BITS
            rows = self._db.execute(
                f"SELECT {columns} FROM messages WHERE rowid BETWEEN ? AND ? ORDER BY rowid",
                (first, first + MAX_MESSAGES),
            ).fetchall()
        else:
            rows = []
            ordered = sorted(rowids)
            for start in range(0, len(ordered), 500):
                chunk = ordered[start : start + 500]
                rows += self._db.execute(
                    f"SELECT {columns} FROM messages WHERE rowid IN ({', '.join('?' * len(chunk))}) ORDER BY rowid",
                    chunk,
                ).fetchall()
        return [
            IndexedMessage(str(row[0]), bool(row[1]), int(row[2]), _loaded(row[3]), _loaded(row[4])) for row in rows
        ]


def _digest(content: str | None, reasoning: str | None) -> bytes:
    digest = hashlib.blake2b(digest_size=8)
    for text in (content, reasoning):
        if text is None:
            digest.update(b"\0")
        else:
            data = text.encode("utf-8", "surrogatepass")
            digest.update(b"\1" + len(data).to_bytes(8, "big") + data)
    return digest.digest()


def _stored(value: Any) -> Any:
    """A value as SQLite can keep it: text with lone surrogates (a session file may hold them)
    as bytes."""
    if not isinstance(value, str) or value.isascii() or not _SURROGATES.search(value):
        return value
    return value.encode("utf-8", "surrogatepass")


def _loaded(value: Any) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogatepass")
    return value if isinstance(value, str) else None


def _searchable(text: str | None) -> str | None:
    """What the trigram index holds for a text: lower-cased as search compares it, padded."""
    if text is None:
        return None
    lowered = text.lower()
    if not lowered.isascii():
        lowered = _SURROGATES.sub("\ufffd", lowered)
    return lowered + PAD


def _next_string(text: str) -> str | None:
    """The smallest string above every string that starts with `text` (None: there is none)."""
    code = ord(text[-1]) + 1
    if code == 0xD800:
        code = 0xE000
    return text[:-1] + chr(code) if code <= 0x10FFFF else None


def _import_sqlite() -> None:
    global sqlite3
    if sqlite3 is None:
        try:
            import sqlite3 as module
        except ImportError:  # a Python built without SQLite: list and search from the files
            raise IndexUnavailable("this Python has no sqlite3 module") from None
        sqlite3 = module


def _roll_back(db: Any) -> None:
    """End a transaction an error interrupted."""
    try:
        if db.in_transaction:
            db.execute("ROLLBACK")
    except sqlite3.Error:
        pass


def _schema_of(db: Any) -> str | None:
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):  # a new file
            return None
        raise  # e.g. locked: not a reason to rebuild
    return row[0] if row else None


def _drop_everything(db: Any) -> None:
    """Drop every table (virtual ones first: they take their shadow tables with them)."""
    listed = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    for (name,) in db.execute(listed + " AND sql LIKE 'CREATE VIRTUAL TABLE%'").fetchall():
        db.execute(f'DROP TABLE IF EXISTS "{name.replace(chr(34), chr(34) * 2)}"')
    for (name,) in db.execute(listed).fetchall():
        db.execute(f'DROP TABLE IF EXISTS "{name.replace(chr(34), chr(34) * 2)}"')


def _has_table(db: Any, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone() is not None


def _is_corrupt(exc: Exception) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _CORRUPT_CODES
    return isinstance(exc, sqlite3.DatabaseError) and any(
        words in str(exc) for words in ("malformed", "not a database")
    )


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only (no-op if it exists; never through
    a symbolic link)."""
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    os.close(os.open(path, flags, 0o600))


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError:
        pass
