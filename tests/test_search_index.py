"""The sessions directory's index (`.index.sqlite3`): it answers listing and search as reading
the files would, is rebuilt when missing, damaged or of another version, follows files changed
behind its back, and never takes a save or a search down with it."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from deepseek_tui.conversation import (
    Conversation,
    SessionStore,
    SessionSummary,
    UnreadableSession,
    codec,
    session_index,
)
from deepseek_tui.conversation import store as store_module
from deepseek_tui.conversation.session_index import INDEX_NAME, SessionIndex


def chat(*turns: tuple[str, str], conversation_id: str | None = None) -> Conversation:
    conversation = Conversation(id=conversation_id) if conversation_id else Conversation()
    for question, answer in turns:
        conversation.add_user(question)
        reply = conversation.start_assistant("deepseek-flash", False)
        reply.content = answer
        conversation.finish_assistant(reply.id)
    return conversation


def indexed(store: SessionStore) -> SessionStore:
    """The store with every session's text in the index."""
    store.list_sessions()
    assert store.index_text() is True
    return store


@pytest.fixture
def files_unread(monkeypatch):
    """Searching must not read a session file (the index holds its text)."""

    def refuse(self, session, needle, fields):
        raise AssertionError(f"search read {session.path.name}, whose text the index holds")

    monkeypatch.setattr(SessionStore, "_search_file", refuse)


def hits_of(store: SessionStore, query: str, **options) -> list[tuple[str, str, str]]:
    return [(hit.session_id, hit.message_id, hit.line) for hit in store.search(query, **options)]


def index_rows(directory: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(directory / INDEX_NAME) as db:
        return db.execute(sql).fetchall()


# --- the index answers as the files do ------------------------------------------------------------

QUERIES = [
    "dict",
    "DICT",
    "Dict",
    "d",
    "D",
    "ct",
    "t.",
    "中",
    "中文",
    "中文搜索",
    "搜",
    "索",
    "é",
    "É",
    "café",
    "'",
    '"',
    "\\",
    '"quoted\\',
    "line two",
    "\n",
    "ok",
    "k",
    "a",
    "zz",
    "absent",
    "ß",
    "ss",
    "i̇",
    "İ",
    "σ",
    "ς",
    "😀",
    "😀 end",
    "x😀",
    "  ",
    "two\nline",
]


def varied_store(directory: Path) -> SessionStore:
    store = SessionStore(directory)
    store.save(
        chat(
            ("How do I sort a DICT?", "Use sorted(d.items()).\nThat is all."),
            ("and a Dict of lists?", "the same: sorted(d.items(), key=len)"),
        )
    )
    store.save(
        chat(
            ("中文搜索怎么用？", "中文 text, 搜索 it like this.\nline two"),
            ("Café or CAFÉ", 'He said "quoted\\ text" here'),
        )
    )
    store.save(chat(("ok", "k"), ("a", "ΟΔΟΣ and İstanbul and STRASSE and straße"), ("emoji", "smile 😀 end x😀")))
    return store


@pytest.mark.parametrize("query", QUERIES)
def test_the_index_finds_what_reading_the_files_finds(tmp_path, query, monkeypatch):
    store = varied_store(tmp_path / "sessions")
    from_files = hits_of(store, query)
    indexed(store)
    monkeypatch.setattr(SessionStore, "_search_file", lambda *args: pytest.fail("read a file"))
    assert hits_of(store, query) == from_files
    assert hits_of(store, query, include_reasoning=True) == from_files  # no reasoning in these
    for limit in (1, 2):
        assert hits_of(store, query, limit=limit) == from_files[:limit]


def test_the_queries_above_find_something(tmp_path):
    """The comparison above means little if the files gave nothing: most queries do find text."""
    store = varied_store(tmp_path / "sessions")
    missing = {query for query in QUERIES if not store.search(query)}
    assert missing == {"t.", "'", "zz", "absent", "  ", "two\nline", "σ"}  # "ΟΔΟΣ".lower() ends in "ς"


def test_short_and_long_queries_find_text_at_the_start_and_end_of_a_message(tmp_path, files_unread):
    store = SessionStore(tmp_path)
    conversation = chat(("x", "yz"), ("end here", "ab"))
    store.save(conversation)
    indexed(store)
    assert [line for _, _, line in hits_of(store, "x")] == ["x"]
    assert [line for _, _, line in hits_of(store, "z")] == ["yz"]
    assert [line for _, _, line in hits_of(store, "yz")] == ["yz"]
    assert [line for _, _, line in hits_of(store, "re")] == ["end here"]
    assert [line for _, _, line in hits_of(store, "ere")] == ["end here"]
    assert [line for _, _, line in hits_of(store, "B")] == ["ab"]


def test_reasoning_is_searched_only_when_asked(tmp_path, files_unread):
    store = SessionStore(tmp_path)
    conversation = chat(("question", "answer"))
    conversation.messages[-1].reasoning = "Think about Mention key=."
    store.save(conversation)
    indexed(store)
    assert store.search("mention key") == []
    [hit] = store.search("mention key", include_reasoning=True)
    assert hit.line == "Think about Mention key=."
    assert store.search("ke") == [] and len(store.search("ke", include_reasoning=True)) == 1


def test_very_common_queries_give_the_same_hits_read_in_listing_order(tmp_path, monkeypatch, files_unread):
    store = SessionStore(tmp_path)
    for number in range(6):
        store.save(chat((f"question {number}", f"common words {number}"), ("more", "common again")))
    store.save(chat(("the oldest", "rare words only here, common")))
    indexed(store)
    everything = {query: hits_of(store, query) for query in ("common", "co", "rare", "ra")}
    monkeypatch.setattr(store_module, "COMMON_QUERY_ROWS", 2)  # every query is "common"...
    monkeypatch.setattr(session_index, "SHORT_QUERY_ROWS", 2)
    for query, hits in everything.items():
        assert hits_of(store, query) == hits
        for limit in (1, 3, 5, 50):
            assert hits_of(store, query, limit=limit) == hits[:limit]
    monkeypatch.setattr(store_module, "COMMON_QUERY_READ", 1)  # ...and found in old sessions
    for query, hits in everything.items():
        for limit in (1, 3, 50):
            assert hits_of(store, query, limit=limit) == hits[:limit]


def test_hits_follow_the_active_branch_after_a_switch(tmp_path, files_unread):
    store = SessionStore(tmp_path)
    conversation = chat(("tell me about otters", "Otters hold hands while they sleep."))
    first = conversation.messages[-1]
    conversation.prepare_regenerate(first.id)
    second = conversation.start_assistant("deepseek-flash", False)
    second.content = "Otters hold hands while they sleep."
    conversation.finish_assistant(second.id)
    store.save(conversation)
    indexed(store)
    assert [hit.message_id for hit in store.search("hold hands")] == [second.id]
    conversation.switch_to(first.id)
    store.save(conversation)
    indexed(store)
    assert [hit.message_id for hit in store.search("hold hands")] == [first.id]


# --- a cache of the files ----------------------------------------------------------------------------


def test_a_missing_index_is_rebuilt_from_the_files(tmp_path, files_unread):
    store = indexed(varied_store(tmp_path))
    expected = hits_of(store, "sorted")
    for path in tmp_path.glob(INDEX_NAME + "*"):
        path.unlink()
    fresh = indexed(SessionStore(tmp_path))
    assert hits_of(fresh, "sorted") == expected and len(expected) == 2
    assert len(fresh.list_sessions()) == 3


@pytest.mark.parametrize("damage", ["text", "truncated", "zeroed"])
def test_a_damaged_index_is_rebuilt_and_never_trusted(tmp_path, damage):
    store = indexed(varied_store(tmp_path))
    expected = hits_of(store, "sorted")
    store._index.close()
    path = tmp_path / INDEX_NAME
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = path.read_bytes()
    path.write_bytes(
        {
            "text": b"[[[[ not a database",
            "truncated": data[: len(data) // 3],
            "zeroed": data[:100] + bytes(len(data) - 100),
        }[damage]
    )
    fresh = SessionStore(tmp_path)
    assert len([s for s in fresh.list_sessions() if isinstance(s, SessionSummary)]) == 3
    assert hits_of(fresh, "sorted") == expected
    assert fresh.index_text() is True
    assert hits_of(fresh, "sorted") == expected
    assert index_rows(tmp_path, "PRAGMA integrity_check") == [("ok",)]


def test_an_index_of_another_version_is_rebuilt_not_trusted(tmp_path):
    store = indexed(SessionStore(tmp_path))
    conversation = chat(("the real title", "the real answer"))
    store.save(conversation)
    indexed(store)
    with sqlite3.connect(tmp_path / INDEX_NAME) as db:  # what an older layout might say of the same stamp
        db.execute("UPDATE files SET title = 'stale title'")
        db.execute("UPDATE messages SET content = 'stale answer'")
        db.execute("UPDATE meta SET value = 'another version' WHERE key = 'schema'")
    fresh = SessionStore(tmp_path)
    [summary] = fresh.list_sessions()
    assert summary.title == "the real title"
    assert fresh.index_text() is True
    assert len(fresh.search("real answer")) == 1 and fresh.search("stale") == []


def test_the_old_listing_cache_is_replaced(tmp_path):
    store = SessionStore(tmp_path)
    (tmp_path / ".index.json").write_text('{"version": 1, "files": {}}')
    store.save(chat(("hello", "there")))
    assert not (tmp_path / ".index.json").exists()
    assert (tmp_path / INDEX_NAME).exists()


def test_a_file_changed_behind_the_index_is_searched_as_it_is_now(tmp_path, monkeypatch):
    store = indexed(SessionStore(tmp_path))
    conversation = chat(("what is new", "the old answer"))
    path = store.save(conversation)
    indexed(store)
    conversation.messages[-1].content = "a fresh answer"
    path.write_bytes(codec.encode(conversation, "json"))  # an edit no store knows of
    assert store.search("old answer") == []
    assert [hit.line for hit in store.search("fresh answer")] == ["a fresh answer"]
    assert store.index_text() is True
    monkeypatch.setattr(SessionStore, "_search_file", lambda *args: pytest.fail("read a file"))
    assert store.search("old answer") == []
    assert [hit.line for hit in store.search("fresh answer")] == ["a fresh answer"]
    assert index_rows(tmp_path, "SELECT count(*) FROM messages WHERE content LIKE '%old answer%'") == [(0,)]
    assert index_rows(tmp_path, "SELECT rowid FROM message_text WHERE message_text MATCH '\"old answer\"'") == []
    assert len(index_rows(tmp_path, "SELECT rowid FROM message_text WHERE message_text MATCH '\"fresh answer\"'")) == 1


def test_a_change_the_index_could_not_record_is_searched_from_the_file(tmp_path, monkeypatch):
    store = SessionStore(tmp_path)
    conversation = chat(("what is new", "the old answer"))
    path = store.save(conversation)
    indexed(store)
    conversation.messages[-1].content = "a fresh answer"
    path.write_bytes(codec.encode(conversation, "json"))

    def busy(self, *args, **kwargs):
        raise session_index.IndexUnavailable("database is locked")

    monkeypatch.setattr(SessionIndex, "put_summaries", busy)  # the index still has the old text
    for fresh in (store, SessionStore(tmp_path)):
        assert fresh.search("old answer") == []
        assert [hit.line for hit in fresh.search("fresh answer")] == ["a fresh answer"]


def test_deleted_sessions_leave_nothing_in_the_index(tmp_path):
    store = SessionStore(tmp_path)
    kept, deleted, removed = (chat((f"{name} question", f"{name} answer")) for name in ("kept", "deleted", "removed"))
    for conversation in (kept, deleted, removed):
        store.save(conversation)
    indexed(store)
    store.delete(deleted.id)
    (tmp_path / f"{removed.id}.json").unlink()  # by hand
    assert [s.id for s in store.list_sessions()] == [kept.id]
    assert {hit.session_id for hit in store.search("answer")} == {kept.id}
    assert store.index_text() is True
    assert index_rows(tmp_path, "SELECT count(*) FROM messages") == [(2,)]
    assert index_rows(tmp_path, "SELECT count(*) FROM files") == [(1,)]
    assert len(store.search("answer")) == 1


def test_unreadable_files_are_listed_as_such_and_never_indexed(tmp_path, files_unread):
    store = SessionStore(tmp_path)
    good = chat(("a readable secret-ish question", "and its answer"))
    store.save(good)
    other = chat(("needle in a file under the wrong name", "needle"))
    (tmp_path / "wrongname.json").write_bytes(codec.encode(other, "json"))
    (tmp_path / "broken.json").write_bytes(codec.encode(other, "json")[:-40])
    (tmp_path / f"{good.id}.toml").write_bytes(codec.encode(other, "toml"))  # a twin: the .json one is used
    listed = indexed(store).list_sessions()
    assert [s.id for s in listed if isinstance(s, SessionSummary)] == [good.id]
    assert {u.path.name for u in listed if isinstance(u, UnreadableSession)} == {
        f"{good.id}.toml",
        "broken.json",
        "wrongname.json",
    }
    assert store.search("needle") == []
    assert index_rows(tmp_path, "SELECT count(*) FROM messages WHERE content LIKE '%needle%'") == [(0,)]
    before = {name: (tmp_path / name).read_bytes() for name in ("wrongname.json", "broken.json")}
    indexed(SessionStore(tmp_path))
    assert {name: (tmp_path / name).read_bytes() for name in before} == before


def test_a_file_that_becomes_unreadable_loses_its_text(tmp_path):
    store = SessionStore(tmp_path)
    conversation = chat(("soon broken", "its answer"))
    path = store.save(conversation)
    indexed(store)
    path.write_bytes(b"garbage now")
    [entry] = store.list_sessions()
    assert isinstance(entry, UnreadableSession)
    assert store.search("answer") == []
    assert store.index_text() is True
    assert index_rows(tmp_path, "SELECT count(*) FROM messages") == [(0,)]
    assert path.read_bytes() == b"garbage now"


def test_text_with_lone_surrogates_and_nul_is_indexed(tmp_path, files_unread):
    store = SessionStore(tmp_path)
    conversation = chat(("title \ud800 odd", "lone \udfff here and a \x00 nul"))
    store.save(conversation)
    indexed(store)
    [summary] = store.list_sessions()
    assert summary.title == "title \ud800 odd"
    assert [hit.line for hit in store.search("lone")] == ["lone \udfff here and a \x00 nul"]
    assert len(store.search("\udfff")) == 1 and len(store.search("\x00")) == 1 and len(store.search("a \x00 n")) == 1
    assert len(store.search("title \ud800")) == 1


def test_only_changed_messages_are_indexed_again(tmp_path, monkeypatch, files_unread):
    store = SessionStore(tmp_path)
    conversation = chat(*[(f"question {i}", f"answer {i}") for i in range(20)])
    store.save(conversation)
    indexed(store)
    inserted: list[int] = []
    real = SessionIndex._put_text

    def counting(self, db, file_id, messages):
        before = db.total_changes
        real(self, db, file_id, messages)
        inserted.append(db.total_changes - before)

    monkeypatch.setattr(SessionIndex, "_put_text", counting)
    conversation.add_user("one more question")
    store.save(conversation)
    indexed(store)
    assert inserted and inserted[0] <= 3  # the new message (and its text), not all 41
    assert len(store.search("question")) == 21


def test_the_index_is_private_to_its_owner(tmp_path):
    store = indexed(SessionStore(tmp_path))
    store.save(chat(("private", "words")))
    indexed(store)
    for path in tmp_path.glob(INDEX_NAME + "*"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_an_empty_or_missing_directory_gets_no_index(tmp_path):
    store = SessionStore(tmp_path / "not yet")
    assert store.list_sessions() == [] and store.search("x") == [] and store.index_text() is True
    assert not (tmp_path / "not yet").exists()


# --- failures fall back to the files ------------------------------------------------------------------


def test_when_sqlite_fails_listing_search_and_saves_use_the_files(tmp_path, monkeypatch):
    store = indexed(varied_store(tmp_path))
    expected = hits_of(store, "sorted")

    def locked(self):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(SessionIndex, "_connection", locked)
    fresh = SessionStore(tmp_path)
    assert len(fresh.list_sessions()) == 3
    assert hits_of(fresh, "sorted") == expected
    conversation = chat(("saved while the index is locked", "still saved"))
    fresh.save(conversation)
    assert fresh.load(conversation.id).title == "saved while the index is locked"
    assert len(fresh.list_sessions()) == 4
    assert [hit.line for hit in fresh.search("still saved")] == ["still saved"]
    assert fresh.index_text() is False
    monkeypatch.undo()
    assert len(indexed(SessionStore(tmp_path)).search("still saved")) == 1


def test_a_sqlite_without_the_trigram_tokenizer_searches_the_files(tmp_path, monkeypatch):
    monkeypatch.setattr(session_index, "_TEXT_SQL", ["CREATE VIRTUAL TABLE message_text USING no_such_module()"])
    store = varied_store(tmp_path)
    store.list_sessions()
    assert store.index_text() is False
    assert store._index.text_search is False
    assert len(store.search("sorted")) == 2
    assert len(store.list_sessions()) == 3


def test_a_directory_where_the_index_should_be_leaves_it_to_the_files(tmp_path):
    (tmp_path / INDEX_NAME).mkdir()
    store = varied_store(tmp_path)
    assert len(store.list_sessions()) == 3
    assert len(store.search("sorted")) == 2
    assert store.index_text() is False


# --- sharing the directory -------------------------------------------------------------------------


def test_two_stores_in_one_directory_share_the_index(tmp_path, monkeypatch):
    left, right = SessionStore(tmp_path), SessionStore(tmp_path)
    conversation = chat(("shared question", "first answer"))
    left.save(conversation)
    indexed(left)
    parsed: list[Path] = []
    real = SessionStore._read_document
    monkeypatch.setattr(SessionStore, "_read_document", lambda self, path: parsed.append(path) or real(self, path))
    assert [s.id for s in right.list_sessions()] == [conversation.id]
    assert parsed == []  # the summary came from the index
    theirs = right.load(conversation.id)
    theirs.add_user("a question from the right")
    right.save(theirs)
    conversation.add_user("a question from the left")
    left.save(conversation)  # merged with what the right saved
    assert len(right.search("a question from the")) == 2
    indexed(right)
    real_search = SessionStore._search_file
    monkeypatch.setattr(SessionStore, "_search_file", lambda *args: pytest.fail("read a file"))
    assert len(left.search("a question from the")) == 2
    assert len(right.search("a question from the")) == 2
    monkeypatch.setattr(SessionStore, "_search_file", real_search)


def test_searching_and_indexing_in_threads_while_saving(tmp_path):
    store = SessionStore(tmp_path)
    conversations = [chat((f"topic {i}", f"answer {i}")) for i in range(8)]
    for conversation in conversations:
        store.save(conversation)
    errors: list[BaseException] = []
    done = threading.Event()

    def search_and_index() -> None:
        try:
            while not done.is_set():
                store.search("answer")
                store.search("an")
                store.index_text()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=search_and_index) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        for round_number in range(15):
            for conversation in conversations:
                conversation.add_user(f"round {round_number} of {conversation.id}")
                store.save(conversation)
    finally:
        done.set()
        for thread in threads:
            thread.join(60)
    assert errors == []
    indexed(store)
    assert len(store.search("round 14 of")) == 8
    assert len(store.search("round")) == 8 * 15


INDEXING_WRITER = """
import sys, time
from pathlib import Path
from deepseek_tui.conversation import SessionStore
directory, session, name, turns, ready, go = sys.argv[1:]
store = SessionStore(directory)
conversation = store.load(session)
Path(ready).touch()
while not Path(go).exists():
    time.sleep(0.001)
for i in range(int(turns)):
    conversation.add_user(f"{name} question {i}")
    reply = conversation.start_assistant("deepseek-flash", False)
    reply.content = f"{name} answer {i}"
    conversation.finish_assistant(reply.id)
    store.save(conversation)
    store.search(f"{name} answer")
    store.index_text()
"""


def test_two_processes_saving_and_indexing_at_once(tmp_path):
    conversation = chat(("start", "here"))
    SessionStore(tmp_path).save(conversation)
    turns, go = 15, tmp_path / "go"
    processes, readies = [], []
    for name in ("left", "right"):
        ready = tmp_path / f"{name}.ready"
        readies.append(ready)
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    INDEXING_WRITER,
                    str(tmp_path),
                    conversation.id,
                    name,
                    str(turns),
                    str(ready),
                    str(go),
                ],
            )
        )
    try:
        end = time.monotonic() + 60
        while not all(r.exists() for r in readies):
            assert time.monotonic() < end, "the writers did not start"
            time.sleep(0.01)
        go.touch()
        for process in processes:
            assert process.wait(timeout=120) == 0
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    store = indexed(SessionStore(tmp_path))
    for name in ("left", "right"):
        assert len(store.search(f"{name} answer")) == turns
        assert len(store.search(f"{name} question")) == turns
    assert index_rows(tmp_path, "PRAGMA integrity_check") == [("ok",)]
    assert index_rows(tmp_path, "SELECT count(*) FROM messages") == [(2 + 4 * turns,)]


INDEX_HOLDER = """
import sqlite3, sys, time
from pathlib import Path
index, mode, ready, release = sys.argv[1:]
db = sqlite3.connect(index, isolation_level=None)
if mode == "exclusive":  # not even readers get in
    db.execute("PRAGMA locking_mode = EXCLUSIVE")
db.execute("BEGIN EXCLUSIVE" if mode == "exclusive" else "BEGIN IMMEDIATE")
db.execute("UPDATE meta SET value = value")
Path(ready).touch()
while not Path(release).exists():
    time.sleep(0.005)
db.execute("COMMIT")
"""


@pytest.mark.parametrize("mode", ["writing", "exclusive"])
def test_an_index_another_process_holds_leaves_everything_to_the_files(tmp_path, monkeypatch, mode):
    for name in ("READ_BUSY_TIMEOUT", "SHORT_BUSY_TIMEOUT", "BUSY_TIMEOUT"):
        monkeypatch.setattr(session_index, name, 0.05)  # the test need not wait as long as the app would
    sessions = tmp_path / "sessions"
    store = indexed(varied_store(sessions))
    doomed = chat(("soon deleted", "doomed answer"))
    store.save(doomed)
    indexed(store)
    store._index.close()  # an exclusive lock waits for every other connection to close
    ready, release = tmp_path / "ready", tmp_path / "release"
    holder = subprocess.Popen(
        [sys.executable, "-c", INDEX_HOLDER, str(sessions / INDEX_NAME), mode, str(ready), str(release)]
    )
    try:
        end = time.monotonic() + 60
        while not ready.exists():
            assert holder.poll() is None and time.monotonic() < end, "the holder did not take the lock"
            time.sleep(0.01)
        busy = SessionStore(sessions)
        assert len(busy.list_sessions()) == 4
        added = chat(("saved while the index is held", "a held answer"))
        busy.save(added)
        busy.delete(doomed.id)
        assert [s.id for s in busy.list_sessions()][0] == added.id and len(busy.list_sessions()) == 4
        assert [hit.line for hit in busy.search("held answer")] == ["a held answer"]
        assert len(busy.search("sorted")) == 2 and busy.search("doomed") == []
        assert busy.index_text() is False
    finally:
        release.touch()
        assert holder.wait(timeout=60) == 0
    busy.list_sessions()  # records what the index could not take while it was held
    recorded = {name for (name,) in index_rows(sessions, "SELECT name FROM files")}
    assert f"{added.id}.json" in recorded and f"{doomed.id}.json" not in recorded
    assert busy.index_text() is True
    monkeypatch.setattr(SessionStore, "_search_file", lambda *args: pytest.fail("read a file"))
    assert [hit.line for hit in busy.search("held answer")] == ["a held answer"]
    assert index_rows(sessions, "PRAGMA integrity_check") == [("ok",)]


def test_the_known_listing_is_the_last_listing_with_this_stores_saves_and_deletes(tmp_path, monkeypatch):
    store = SessionStore(tmp_path)
    assert store.known_sessions() is None  # nothing listed yet: the caller lists
    kept, deleted = chat(("kept", "a")), chat(("deleted", "b"))
    store.save(kept)
    store.save(deleted)
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / f"{kept.id}.toml").write_text("")  # a second file for the same session
    assert store.known_sessions() is None
    store.list_sessions()
    added = chat(("added", "c"))
    store.save(added)
    store.delete(deleted.id)
    SessionStore(tmp_path).save(chat(("by another process", "d")))  # seen by the next listing only
    monkeypatch.setattr(SessionStore, "_session_files", lambda self: pytest.fail("looked at the files"))
    known = store.known_sessions()
    assert [(type(s).__name__, s.id) for s in known[:2]] == [("SessionSummary", added.id), ("SessionSummary", kept.id)]
    unreadable = sorted([f"{kept.id}.toml", "broken.json"])  # the .toml: the .json is the one used
    assert [(type(s).__name__, s.path.name) for s in known[2:]] == [("UnreadableSession", n) for n in unreadable]
    monkeypatch.undo()
    known_then = store.known_sessions()
    listed = store.list_sessions()
    assert len(listed) == 5 and listed[1:] == known_then
