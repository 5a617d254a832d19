"""Two processes on one data directory: no save drops a turn the other saved.

The merge itself is unit-tested; then two stores in one process, then two real processes saving
to the same session at the same time.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from ui_support import FifoTrap

from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.conversation import Conversation, SessionStore, SessionUnreadableError, UnreadableSession
from deepseek_tui.conversation import store as store_module
from deepseek_tui.conversation.merge import merge_saved
from deepseek_tui.conversation.model import STALE_STREAM_ERROR


def exchange(conversation: Conversation, question: str, answer: str = "", *, finish: bool = True):
    user = conversation.add_user(question)
    reply = conversation.start_assistant("deepseek-flash", False)
    reply.content = answer or f"answer to {question}"
    if finish:
        conversation.finish_assistant(reply.id)
    return user, reply


def started() -> Conversation:
    conversation = Conversation(settings=ChatSettings(model="deepseek-flash"))
    exchange(conversation, "first")
    return conversation


# --- the merge ----------------------------------------------------------------------------------


def test_messages_only_on_disk_are_added_to_memory_and_written():
    base = started()
    mine, theirs = base.copy(new_id_=False), base.copy(new_id_=False)
    my_question, my_answer = exchange(mine, "mine")
    their_question, their_answer = exchange(theirs, "theirs")
    result = merge_saved(mine, theirs)
    assert result.added == [their_question.id, their_answer.id]
    assert their_answer.id in mine and mine.active_leaf_id == my_answer.id  # my view stays
    assert {m.id for m in result.conversation.messages} == {m.id for m in base.messages} | {
        my_question.id,
        my_answer.id,
        their_question.id,
        their_answer.id,
    }
    assert [m.content for m in mine.siblings(my_question.id)] == ["mine", "theirs"]
    assert result.memory_holds_all


def test_the_version_further_along_is_written_and_memory_keeps_its_own():
    base = started()
    _, reply = exchange(base, "long one", "part", finish=False)
    mine, theirs = base.copy(new_id_=False), base.copy(new_id_=False)
    mine.end_stale_streams()  # this window loaded it while the other was streaming
    theirs.get(reply.id).content = "part and the rest"
    theirs.finish_assistant(reply.id)
    result = merge_saved(mine, theirs)
    written = result.conversation.get(reply.id)
    assert written.content == "part and the rest" and written.status == "complete"
    assert mine.get(reply.id).content == "part"  # objects in memory are never replaced
    assert not result.memory_holds_all
    # and the other way round: the finished version is kept over the stale copy
    assert merge_saved(theirs, mine).conversation.get(reply.id).status == "complete"


def test_a_reply_streaming_in_memory_is_not_overwritten_by_a_stale_copy():
    base = started()
    _, reply = exchange(base, "streaming here", "so far", finish=False)
    stale = base.copy(new_id_=False)
    stale.end_stale_streams()
    reply.content = "so far and more"
    result = merge_saved(base, stale)
    assert result.conversation.get(reply.id) is reply and reply.status == "streaming"


def test_a_reply_streaming_elsewhere_is_written_as_it_is_there_and_partial_here():
    base = started()
    mine, theirs = base.copy(new_id_=False), base.copy(new_id_=False)
    _, reply = exchange(theirs, "theirs", "half", finish=False)
    result = merge_saved(mine, theirs)
    assert mine.get(reply.id).status == "partial" and mine.get(reply.id).error == STALE_STREAM_ERROR
    assert result.conversation.get(reply.id).status == "streaming"
    assert not result.memory_holds_all


def test_equal_versions_keep_memory_and_a_title_set_elsewhere_is_taken():
    base = started()
    mine, theirs = base.copy(new_id_=False), base.copy(new_id_=False)
    theirs.rename("Named elsewhere")
    result = merge_saved(mine, theirs)
    assert result.conversation is mine and mine.title == "Named elsewhere"
    mine.rename("Named here")
    assert merge_saved(mine, theirs).conversation.title == "Named here"


# --- two stores on one directory -----------------------------------------------------------------


def test_two_stores_keep_each_others_turns(tmp_path: Path):
    first, second = SessionStore(tmp_path), SessionStore(tmp_path)
    conversation = started()
    first.save(conversation)
    mine, theirs = first.load(conversation.id), second.load(conversation.id)
    exchange(mine, "from one")
    first.save(mine)
    exchange(theirs, "from two")
    second.save(theirs)
    assert "from one" in [m.content for m in theirs.messages]  # the second store merged it in
    exchange(mine, "from one again")
    first.save(mine)
    stored = [m.content for m in SessionStore(tmp_path).load(conversation.id).messages]
    assert {"first", "from one", "from two", "from one again"} <= set(stored)


def test_an_unchanged_file_is_not_parsed_again(tmp_path: Path, monkeypatch):
    store = SessionStore(tmp_path)
    conversation = started()
    store.save(conversation)
    decoded = []
    real_decode = store_module.codec.decode
    monkeypatch.setattr(store_module.codec, "decode", lambda *a: decoded.append(1) or real_decode(*a))
    exchange(conversation, "again")
    store.save(conversation)
    assert decoded == []
    other = SessionStore(tmp_path).load(conversation.id)
    exchange(other, "elsewhere")
    SessionStore(tmp_path).save(other)
    exchange(conversation, "and again")
    store.save(conversation)  # the file changed: parsed and merged
    assert decoded and "elsewhere" in [m.content for m in conversation.messages]


def test_a_file_changed_to_something_unreadable_is_still_never_overwritten(tmp_path: Path):
    store = SessionStore(tmp_path)
    conversation = started()
    path = store.save(conversation)
    path.write_text('{"schema_version": ' + "9" * 5000 + "}")
    exchange(conversation, "more")
    with pytest.raises(SessionUnreadableError, match="too long.*not overwritten"):
        store.save(conversation)
    assert path.read_text().startswith('{"schema_version": 999')


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_a_directory_or_pipe_in_the_way_is_refused_without_blocking(tmp_path: Path, kind):
    store = SessionStore(tmp_path)
    conversation = started()
    target = tmp_path / f"{conversation.id}.json"
    if kind == "directory":
        target.mkdir()
        trap = None
    else:
        trap = FifoTrap(target)
    try:
        with pytest.raises(SessionUnreadableError, match="not a regular file"):
            store.save(conversation)
        with pytest.raises(SessionUnreadableError, match="not a regular file"):
            store.load(conversation.id)
    finally:
        if trap is not None:
            trap.close()
            assert not trap.opened


def test_twin_files_for_one_id_list_the_json_one_and_mark_the_other(tmp_path: Path):
    store = SessionStore(tmp_path)
    conversation = Conversation(id="twin", settings=ChatSettings(model="deepseek-flash"))
    exchange(conversation, "json twin")
    store.save(conversation)
    toml_copy = conversation.copy(new_id_=False)
    toml_copy.rename("toml twin")
    (tmp_path / "twin.toml").write_bytes(store_module.codec.encode(toml_copy, "toml"))
    listed = store.list_sessions()
    assert [type(s).__name__ for s in listed] == ["SessionSummary", "UnreadableSession"]
    assert listed[0].path.name == "twin.json" and listed[0].title == "json twin"
    twin = listed[1]
    assert isinstance(twin, UnreadableSession) and twin.path.name == "twin.toml"
    assert "same session id as twin.json" in twin.reason
    assert store.load("twin").title == "json twin"


# --- two processes -------------------------------------------------------------------------------

WRITER = """
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
    reply.content = f"{name} answer {i} (half"
    store.save(conversation)  # mid-stream autosave
    reply.content += " and the rest)"
    conversation.finish_assistant(reply.id)
    store.save(conversation)
"""


def _wait_for(predicate, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def test_two_processes_saving_one_session_at_once_keep_every_turn(tmp_path: Path):
    sessions = tmp_path / "sessions"
    conversation = started()
    SessionStore(sessions).save(conversation)
    turns, go = 25, tmp_path / "go"
    processes, readies = [], []
    for name in ("left", "right"):
        ready = tmp_path / f"{name}.ready"
        readies.append(ready)
        processes.append(
            subprocess.Popen(
                [sys.executable, "-c", WRITER, str(sessions), conversation.id, name, str(turns), str(ready), str(go)],
            )
        )
    try:
        _wait_for(lambda: all(r.exists() for r in readies))
        go.touch()
        for process in processes:
            assert process.wait(timeout=60) == 0
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    stored = SessionStore(sessions).load(conversation.id)
    contents = [m.content for m in stored.messages]
    for name in ("left", "right"):
        for i in range(turns):
            assert f"{name} question {i}" in contents
            assert f"{name} answer {i} (half and the rest)" in contents
    assert all(m.status == "complete" for m in stored.messages)
    assert len(stored) == 2 + 4 * turns


def test_a_file_system_without_locks_still_saves(tmp_path: Path, monkeypatch):
    def no_locks(fd, operation):
        raise OSError(37, "No locks available")

    monkeypatch.setattr(store_module.fcntl, "flock", no_locks)
    store = SessionStore(tmp_path)
    conversation = started()
    store.save(conversation)
    assert SessionStore(tmp_path).load(conversation.id).title == "first"


def test_a_save_waits_for_another_process_holding_the_lock_then_gives_up(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(store_module, "LOCK_TIMEOUT", 0.2)
    store = SessionStore(tmp_path)
    conversation = started()
    store.save(conversation)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR);"
            "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); sys.stdin.read()",
            str(tmp_path / ".lock"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        exchange(conversation, "while locked")
        with pytest.raises(store_module.StoreError, match="another deepseek-tui has been saving"):
            store.save(conversation)
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    store.save(conversation)  # the lock is free again
    assert "while locked" in [m.content for m in SessionStore(tmp_path).load(conversation.id).messages]
