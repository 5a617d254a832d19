"""The session store: files, atomic saves, listing, search, import/export, the save throttle."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest

from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.client.events import Usage
from deepseek_tui.conversation import (
    Conversation,
    SaveThrottle,
    SessionNotFoundError,
    SessionStore,
    SessionSummary,
    SessionUnreadableError,
    StoreError,
    ToolCall,
    UnreadableSession,
    codec,
    default_sessions_dir,
)
from deepseek_tui.conversation import store as store_module
from deepseek_tui.conversation.model import ToolRun

SECRET = "sk-live-0123456789abcdef-SECRET"


def sample(title_text: str = "How do I sort a dict?", model: str = "deepseek-flash") -> Conversation:
    conv = Conversation(settings=ChatSettings(model=model, system_prompt="Be brief."))
    conv.add_user(title_text)
    answer = conv.start_assistant(model, thinking=True, effort="high")
    answer.reasoning = "The user wants sorted(d.items()).\nMention key=."
    answer.reasoning_seconds = 3.4
    answer.content = "Use `sorted(d.items(), key=lambda kv: kv[1])`.\nThat is all."
    answer.tool_calls = []
    conv.finish_assistant(answer.id, finish_reason="stop", usage=Usage(100, 50, 64, 36, 20))
    answer.cost, answer.currency = 0.001, "USD"
    return conv


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    return SessionStore(tmp_path / "sessions")


def test_default_directory_is_under_the_user_data_dir(isolated_environment) -> None:
    assert default_sessions_dir() == isolated_environment / "data" / "deepseek-tui" / "sessions"


@pytest.mark.parametrize("fmt", ["json", "toml"])
def test_save_and_load(tmp_path: Path, fmt) -> None:
    store = SessionStore(tmp_path, fmt=fmt)
    conv = sample()
    path = store.save(conv)
    assert path == tmp_path / f"{conv.id}.{fmt}"
    loaded = store.load(conv.id)
    assert codec.to_document(loaded) == codec.to_document(conv)


def test_a_store_reads_both_formats_and_keeps_each_files_format(tmp_path: Path) -> None:
    toml_conv, json_conv = sample("in toml"), sample("in json")
    SessionStore(tmp_path, fmt="toml").save(toml_conv)
    store = SessionStore(tmp_path, fmt="json")
    store.save(json_conv)
    assert store.load(toml_conv.id).title == "in toml"
    toml_conv.rename("still toml")
    assert store.save(toml_conv).suffix == ".toml"
    assert not (tmp_path / f"{toml_conv.id}.json").exists()


def test_missing_session(store: SessionStore) -> None:
    with pytest.raises(SessionNotFoundError):
        store.load("abc")
    with pytest.raises(StoreError):
        store.load("../../etc/passwd")


def test_failed_encode_leaves_the_old_file(store: SessionStore, monkeypatch) -> None:
    conv = sample()
    path = store.save(conv)
    before = path.read_bytes()
    conv.add_user("more")

    def broken(*args, **kwargs):
        raise RuntimeError("encoder exploded")

    monkeypatch.setattr(codec, "encode", broken)
    with pytest.raises(RuntimeError):
        store.save(conv)
    assert path.read_bytes() == before


def test_failed_write_leaves_the_old_file_and_no_temp_files(store: SessionStore, monkeypatch) -> None:
    conv = sample()
    path = store.save(conv)
    before = path.read_bytes()
    conv.add_user("more " * 1000)

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError):
        store.save(conv)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")) == []


def test_failed_replace_leaves_the_old_file(store: SessionStore, monkeypatch) -> None:
    conv = sample()
    path = store.save(conv)
    before = path.read_bytes()
    conv.add_user("more")
    monkeypatch.setattr(os, "replace", lambda a, b: (_ for _ in ()).throw(OSError("busy")))
    with pytest.raises(OSError):
        store.save(conv)
    assert path.read_bytes() == before


def test_listing_gives_summaries_newest_first(store: SessionStore) -> None:
    older, newer = sample("older"), sample("newer", model="deepseek-v4-pro")
    older.updated_at -= timedelta(hours=1)
    store.save(older)
    store.save(newer)
    listed = store.list_sessions()
    assert [s.title for s in listed] == ["newer", "older"]
    first = listed[0]
    assert isinstance(first, SessionSummary)
    assert (first.model, first.message_count, first.cost, first.currency) == ("deepseek-v4-pro", 2, 0.001, "USD")
    assert (first.prompt_tokens, first.completion_tokens) == (100, 50)


def test_listing_reports_unreadable_files_and_leaves_them_alone(store: SessionStore) -> None:
    good = sample()
    store.save(good)
    directory = store.directory
    bad_files = {
        "truncated.json": (directory / f"{good.id}.json").read_bytes()[:50],
        "future.json": json.dumps({"kind": "deepseek-tui-session", "schema_version": 7}).encode(),
        "deep.json": b"[" * 200_000 + b"]" * 200_000,
        "types.json": json.dumps(
            {"kind": "deepseek-tui-session", "schema_version": 1, "id": 5, "messages": {}}
        ).encode(),
        "binary.toml": os.urandom(300),
        "wrongid.json": (directory / f"{good.id}.json").read_bytes(),
    }
    for name, data in bad_files.items():
        (directory / name).write_bytes(data)
    (directory / "notes.txt").write_text("ignored")
    listed = store.list_sessions()
    readable = [s for s in listed if isinstance(s, SessionSummary)]
    unreadable = {u.id: u.reason for u in listed if isinstance(u, UnreadableSession)}
    assert [s.id for s in readable] == [good.id]
    assert set(unreadable) == {"truncated", "future", "deep", "types", "binary", "wrongid"}
    assert "newer" in unreadable["future"]
    assert "holds session" in unreadable["wrongid"]
    assert "messages" in unreadable["types"] or "id" in unreadable["types"]
    for name, data in bad_files.items():
        assert (directory / name).read_bytes() == data


def test_huge_files_are_not_parsed(store: SessionStore, monkeypatch) -> None:
    monkeypatch.setattr(store_module, "MAX_FILE_BYTES", 1000)
    conv = sample("x" * 5000)
    store.save(conv)
    (store.directory / store_module.INDEX_NAME).unlink(missing_ok=True)
    [entry] = SessionStore(store.directory).list_sessions()  # a store that has not seen it written
    assert isinstance(entry, UnreadableSession)
    assert "larger than" in entry.reason


def test_saving_over_an_unreadable_file_is_refused(store: SessionStore) -> None:
    conv = sample()
    store.directory.mkdir(parents=True)
    path = store.directory / f"{conv.id}.json"
    path.write_bytes(b'{"kind": "deepseek-tui-session", "schema_version": 1, "mess')
    with pytest.raises(SessionUnreadableError):
        store.save(conv)
    assert path.read_bytes() == b'{"kind": "deepseek-tui-session", "schema_version": 1, "mess'
    with pytest.raises(SessionUnreadableError):
        store.load(conv.id)


def test_a_file_damaged_after_saving_is_not_overwritten(store: SessionStore) -> None:
    conv = sample()
    path = store.save(conv)
    path.write_bytes(b"garbage, not json at all")  # changes size and mtime
    with pytest.raises(SessionUnreadableError):
        store.save(conv)
    assert path.read_bytes() == b"garbage, not json at all"


def test_listing_uses_the_index_and_notices_changes(store: SessionStore, monkeypatch) -> None:
    conversations = [sample(f"chat {i}") for i in range(5)]
    for conv in conversations:
        store.save(conv)
    store.list_sessions()
    fresh = SessionStore(store.directory)  # reads the index file, parses nothing
    parsed: list[Path] = []
    real_read = SessionStore._read_document

    def counting_read(self, path):
        parsed.append(path)
        return real_read(self, path)

    monkeypatch.setattr(SessionStore, "_read_document", counting_read)
    assert len(fresh.list_sessions()) == 5
    assert parsed == []
    changed = conversations[2]
    changed.rename("renamed elsewhere")
    SessionStore(store.directory).save(changed)  # another store instance writes it, and indexes it
    titles = {s.title for s in fresh.list_sessions()}
    assert "renamed elsewhere" in titles
    assert parsed == []
    edited = conversations[3]
    edited.rename("edited by hand")
    (store.directory / f"{edited.id}.json").write_bytes(codec.encode(edited, "json"))  # no store knows
    titles = {s.title for s in fresh.list_sessions()}
    assert "edited by hand" in titles
    assert [p.stem for p in parsed] == [edited.id]


def test_a_corrupt_index_is_rebuilt(store: SessionStore) -> None:
    conv = sample()
    store.save(conv)
    store.list_sessions()
    (store.directory / store_module.INDEX_NAME).write_text('{"version": 1, "files": {"x": 5}}')
    assert [s.id for s in SessionStore(store.directory).list_sessions()] == [conv.id]
    (store.directory / store_module.INDEX_NAME).write_text("[[[[")
    assert [s.id for s in SessionStore(store.directory).list_sessions()] == [conv.id]


def test_rename_delete_duplicate_most_recent(store: SessionStore) -> None:
    first, second = sample("first"), sample("second")
    first.updated_at -= timedelta(days=1)
    store.save(first)
    store.save(second)
    assert store.most_recent().id == second.id
    store.rename(first.id, "Renamed")
    assert store.load(first.id).title == "Renamed"
    assert store.most_recent().id == first.id  # renaming touched it
    twin = store.duplicate(second.id)
    assert twin.id != second.id
    assert store.load(twin.id).title == "second (copy)"
    assert len(store.load(twin.id)) == len(second)
    store.delete(second.id)
    assert {s.id for s in store.list_sessions()} == {first.id, twin.id}
    with pytest.raises(SessionNotFoundError):
        store.delete(second.id)


def test_most_recent_of_an_empty_store(store: SessionStore) -> None:
    assert store.most_recent() is None
    assert store.list_sessions() == []


def test_search_finds_lines_in_all_branches(store: SessionStore) -> None:
    conv = sample("Sorting a DICT in python")
    first_answer = conv.active_path()[1]
    conv.prepare_regenerate(first_answer.id)
    alt = conv.start_assistant("deepseek-flash", thinking=False)
    alt.content = "Alternative:\nuse operator.itemgetter for the DICT"
    conv.finish_assistant(alt.id)
    store.save(conv)
    other = sample("nothing here")
    other.active_path()[1].content = "unrelated"
    store.save(other)
    hits = store.search("dict")
    assert {(h.session_id, h.message_id, h.line) for h in hits} == {
        (conv.id, conv.active_path()[0].id, "Sorting a DICT in python"),
        (conv.id, alt.id, "use operator.itemgetter for the DICT"),
    }
    assert hits[0].title == "Sorting a DICT in python"


def test_search_in_reasoning_only_when_asked(store: SessionStore) -> None:
    conv = sample()
    store.save(conv)
    assert store.search("mention key") == []
    [hit] = store.search("mention key", include_reasoning=True)
    assert hit.line == "Mention key=."


@pytest.mark.parametrize("fmt", ["json", "toml"])
def test_search_through_escaped_text(tmp_path: Path, fmt) -> None:
    store = SessionStore(tmp_path, fmt=fmt)
    conv = Conversation()
    conv.add_user('He said "quote\\me"\tnow; 中文 here; lone \ud800 one')
    store.save(conv)
    assert len(store.search('"quote\\me"\tnow')) == 1
    assert len(store.search("中文")) == 1
    assert len(store.search("lone")) == 1
    assert store.search("absent") == []
    assert store.search("") == []


def test_export_markdown(store: SessionStore, tmp_path: Path) -> None:
    conv = sample()
    conv.add_user("Now call a tool")
    turn = conv.start_assistant("deepseek-flash", thinking=False)
    turn.tool_calls = [ToolCall("call_1", "get_date", '{"tz": "UTC"}')]
    conv.finish_assistant(turn.id, finish_reason="tool_calls")
    conv.add_tool_result("call_1", "2026-01-01 with ``` fence")
    text = store.export_markdown(conv, tmp_path / "out.md").read_text()
    assert text.startswith('---\ntitle: "How do I sort a dict?"\n')
    assert "model: deepseek-flash\n" in text
    assert "prompt_tokens: 100\ncompletion_tokens: 50\n" in text
    assert "cost: 0.001000 USD\n" in text
    assert (
        "<details><summary>Thought for 3 s</summary>\n\nThe user wants sorted(d.items()).\nMention key=.\n\n</details>"
    ) in text
    assert '**Tool call** `get_date` (`call_1`)\n\n```json\n{\n  "tz": "UTC"\n}\n```' in text
    assert "````\n2026-01-01 with ``` fence\n````" in text
    assert "## System\n\nBe brief." in text


def test_export_markdown_keeps_its_own_outline(store: SessionStore, tmp_path: Path) -> None:
    conv = Conversation(settings=ChatSettings(model="deepseek-flash", system_prompt=" \n"))
    conv.add_user("# My notes\nplease")
    answer = conv.start_assistant("deepseek-flash", thinking=True)
    answer.reasoning, answer.reasoning_seconds = "## Plan\nthink", 0.4
    answer.content = (
        "## Summary\n\nText #not-a-heading\n\n```md\n## inside a fence\n```\n\n###### Deepest\n   # indented"
    )
    conv.finish_assistant(answer.id, finish_reason="stop")
    text = store.export_markdown(conv, tmp_path / "outline.md").read_text()
    assert "## System" not in text  # no system prompt (blank is none)
    assert "## User\n\n### My notes\nplease" in text
    assert "<details><summary>Thought for <1 s</summary>\n\n#### Plan\nthink" in text  # as on screen
    assert "#### Summary\n\nText #not-a-heading\n\n```md\n## inside a fence\n```" in text
    assert "###### Deepest\n   ### indented" in text
    headings = [line for line in text.splitlines() if line.startswith("## ") and "fence" not in line]
    assert headings == ["## User", "## Assistant · deepseek-flash"]


def test_export_and_import_json(store: SessionStore, tmp_path: Path) -> None:
    conv = sample()
    store.save(conv)
    exported = store.export_json(conv, tmp_path / "export.json")
    imported = store.import_json(exported)
    assert imported.id != conv.id  # the id was taken
    assert [m.content for m in imported.messages] == [m.content for m in conv.messages]
    other_store = SessionStore(tmp_path / "elsewhere")
    same_id = other_store.import_json(exported)
    assert same_id.id == conv.id
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(StoreError):
        store.import_json(tmp_path / "bad.json")


def test_import_with_a_hostile_id_gets_a_new_one(store: SessionStore, tmp_path: Path) -> None:
    document = codec.to_document(sample())
    document["id"] = "../../escape"
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(document))
    imported = store.import_json(path)
    assert imported.id != "../../escape"
    assert store.load(imported.id).title == "How do I sort a dict?"


def test_the_api_key_is_never_written(store: SessionStore, tmp_path: Path) -> None:
    settings = ChatSettings.from_dict({"api_key": SECRET, "model": "deepseek-chat"})
    conv = Conversation(settings=settings)
    conv.add_user("hello")
    for fmt in ("json", "toml"):
        path = SessionStore(tmp_path / fmt, fmt=fmt).save(conv)
        assert SECRET not in path.read_text()
    store.save(conv)
    store.list_sessions()
    store.index_text()
    assert (store.directory / store_module.INDEX_NAME).exists()
    for path in store.directory.iterdir():  # the session and the index (and its WAL)
        assert SECRET.encode() not in path.read_bytes()
    assert SECRET not in store.export_markdown(conv, tmp_path / "x.md").read_text()
    assert SECRET not in store.export_json(conv, tmp_path / "x.json").read_text()


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_save_throttle() -> None:
    clock = FakeClock()
    throttle = SaveThrottle(interval=2.0, clock=clock)
    assert not throttle.due()
    assert throttle.changed() is False  # just started: the conversation was saved
    clock.now += 1.9
    assert throttle.changed() is False
    assert throttle.pending
    clock.now += 0.1
    assert throttle.changed() is True
    throttle.saved()
    assert not throttle.pending and not throttle.due()
    clock.now += 5
    assert not throttle.due()  # nothing changed, nothing to save
    assert throttle.changed() is True  # a change after a long quiet spell saves at once
    throttle.saved()
    throttle.changed()
    clock.now += 2.5
    assert throttle.due()  # a stalled stream's pending change


def test_a_line_shared_by_branches_is_one_hit_on_the_active_branch(tmp_path):
    store = SessionStore(tmp_path)
    conv = Conversation()
    conv.add_user("tell me about otters")
    first = conv.start_assistant("deepseek-flash", False)
    first.content = "Otters hold hands while they sleep."
    conv.finish_assistant(first.id)
    conv.prepare_regenerate(first.id)
    second = conv.start_assistant("deepseek-flash", False)
    second.content = "Otters hold hands while they sleep."  # the same words on another branch
    conv.finish_assistant(second.id)
    conv.switch_to(first.id)
    store.save(conv)
    hits = store.search("hold hands")
    assert [hit.message_id for hit in hits] == [first.id]
    assert len(store.search("otters")) == 2  # the question and the answer: two different lines


def test_a_session_is_found_by_a_unique_prefix_of_its_id(tmp_path):
    from deepseek_tui.conversation.store import SessionNotFoundError

    store = SessionStore(tmp_path)
    for session_id in ("abcd1111", "abcd2222", "ffff0000"):
        conv = Conversation(id=session_id)
        conv.add_user("hi")
        store.save(conv)
    assert store.resolve_id("ffff") == "ffff0000" and store.resolve_id("abcd2222") == "abcd2222"
    with pytest.raises(SessionNotFoundError, match="starts 2 session ids"):
        store.resolve_id("abcd")
    with pytest.raises(SessionNotFoundError):
        store.resolve_id("ff")  # too short to be a prefix


def test_export_shows_tool_calls_readably_and_json_keeps_them_whole(store: SessionStore, tmp_path: Path) -> None:
    conv = Conversation(settings=ChatSettings(model="deepseek-flash"))
    conv.add_user("What is 17 * 23 + 4?")
    reply = conv.start_assistant("deepseek-flash", thinking=True)
    reply.reasoning = "The calculator knows."
    reply.tool_calls = [
        ToolCall("call_00_a", "calculate", '{"expression":"17 * 23 + 4"}'),
        ToolCall("call_01_b", "big", "{}"),
    ]
    conv.finish_assistant(reply.id, finish_reason="tool_calls")
    conv.add_tool_result("call_00_a", "395", ToolRun("ok", "demo · calculate", 0.25))
    conv.add_tool_result("call_01_b", "xxx", ToolRun("error", "demo · big", 1.5, full_chars=90_000))
    answer = conv.start_assistant("deepseek-flash", thinking=True)
    answer.content = "It is 395."
    conv.finish_assistant(answer.id, finish_reason="stop")
    text = store.export_markdown(conv, tmp_path / "tools.md").read_text()
    assert '**Tool call** `calculate` (`call_00_a`)\n\n```json\n{\n  "expression": "17 * 23 + 4"\n}\n```' in text
    assert "## Tool result · demo · calculate (`call_00_a`)\n\n_ok in 0.25 s_\n\n```\n395\n```" in text
    assert "_error in 1.50 s; output cut to the size limit (it had 90,000 characters)_" in text
    exported = store.export_json(conv, tmp_path / "tools.json")
    back = SessionStore(tmp_path / "other").import_json(exported)
    assert [(m.role, m.content, m.tool_calls, m.tool_call_id, m.tool_run) for m in back.active_path()] == [
        (m.role, m.content, m.tool_calls, m.tool_call_id, m.tool_run) for m in conv.active_path()
    ]
