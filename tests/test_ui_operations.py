"""Pilot tests of message operations and the session picker, against the simulator."""

from __future__ import annotations

import json
import threading

import pytest
from textual.widgets import Input, OptionList
from ui_support import SIZE, make_app, reply, send, wait_for_screen, wait_reply, wait_until

from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.conversation.model import Conversation
from deepseek_tui.conversation.store import SessionStore
from deepseek_tui.simulator import Fault
from deepseek_tui.ui.screens.dialogs import AskScreen, ChooseScreen, ConfirmScreen
from deepseek_tui.ui.screens.sessions import SessionsScreen
from deepseek_tui.ui.widgets.messages import AnswerBlock, UserBubble
from deepseek_tui.ui.widgets.prompt import PromptArea


def chat_requests(simulator):
    return [r for r in simulator.requests if r.path.endswith("/chat/completions")]


def store_of(tmp_path) -> SessionStore:
    return SessionStore(tmp_path / "data" / "sessions")


async def test_edit_earlier_message_resends_only_the_active_branch(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "first question")
        await send(app, pilot, "second question")
        first_user = app.conversation.active_path()[0]
        app.query_one(f"#m-{first_user.id}", UserBubble).focus()
        await pilot.press("e")
        prompt = app.query_one(PromptArea)
        await wait_until(lambda: app.editing_id == first_user.id)
        assert prompt.text == "first question"
        prompt.load_text("edited question")
        await reply(app, pilot, "enter")
        messages = chat_requests(simulator)[-1].body["messages"]
        assert [m["content"] for m in messages if m["role"] == "user"] == ["edited question"]
        path = app.conversation.active_path()
        assert [m.role for m in path] == ["user", "assistant"]
        assert app.conversation.sibling_position(path[0].id) == (2, 2)
        assert "‹2/2›" in str(app.query_one(f"#m-{path[0].id}", UserBubble).query_one(".meta").render())
        # The old branch is still there: left arrow on the edited message goes back to it.
        app.query_one(f"#m-{path[0].id}", UserBubble).focus()
        await pilot.press("left")
        await wait_until(
            lambda: (
                [m.content for m in app.conversation.active_path() if m.role == "user"]
                == ["first question", "second question"]
            )
        )
        await send(app, pilot, "third on old branch")
        sent = [m["content"] for m in chat_requests(simulator)[-1].body["messages"] if m["role"] == "user"]
        assert sent == ["first question", "second question", "third on old branch"]


async def test_regenerate_keeps_old_answer_as_sibling_and_can_switch_mode(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path, chat=ChatSettings(model="deepseek-flash"))
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "regenerate me")
        old = app.conversation.active_path()[-1]
        await reply(app, pilot, "ctrl+g")  # regenerate in the other mode
        new = app.conversation.active_path()[-1]
        assert new.id != old.id and app.conversation.siblings(new.id) == [old, new]
        assert chat_requests(simulator)[-1].body["thinking"] == {"type": "enabled"}
        assert new.reasoning
        assert app.conversation.settings.thinking is False  # only that reply changed mode
        await reply(app, pilot, "ctrl+r")
        assert len(app.conversation.siblings(old.id)) == 3
        assert chat_requests(simulator)[-1].body["thinking"] == {"type": "disabled"}
        assert len(app.query(AnswerBlock)) == 1


async def test_continue_cut_off_answer_uses_prefix_completion_on_beta(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path, chat=ChatSettings(model="deepseek-flash", max_tokens=30))
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "write a lot")
        answer = app.conversation.active_path()[-1]
        assert answer.finish_reason == "length"
        cut = answer.content
        await reply(app, pilot, "f5")
        request = chat_requests(simulator)[-1]
        assert request.path.startswith("/beta/")
        last = request.body["messages"][-1]
        assert last == {"role": "assistant", "content": cut, "prefix": True}
        assert answer.content.startswith(cut) and len(answer.content) > len(cut)
        assert len(app.conversation.active_path()) == 2  # joined the same message
        block = app.query(AnswerBlock).last()
        assert block.query_one(".answer").source == answer.content


async def test_continue_after_drop(simulator, tmp_path):
    simulator.inject(Fault.drop(after_chunks=8))
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "drop then continue")
        answer = app.conversation.active_path()[-1]
        assert answer.status == "partial"
        partial = answer.content
        await reply(app, pilot, "f5")
        assert answer.status == "complete" and answer.content.startswith(partial)
        assert chat_requests(simulator)[-1].body["messages"][-1]["prefix"] is True


async def test_copy_answer_and_code_block(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "show code")
        answer = app.conversation.active_path()[-1]
        await pilot.press("f6")
        await wait_until(lambda: app.clipboard == answer.content)

        def code_copied() -> bool:
            return "def " in app.clipboard and "```" not in app.clipboard

        await pilot.press("f7")  # one code block: copied; several: the first one is offered first
        await wait_until(lambda: code_copied() or isinstance(app.screen, ChooseScreen) and app.screen.is_mounted)
        if isinstance(app.screen, ChooseScreen):
            await pilot.press("enter")
        await wait_until(code_copied)


async def test_select_message_keys(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "one")
        await pilot.press("f8")
        await wait_until(lambda: isinstance(app.focused, AnswerBlock))
        await pilot.press("up")
        await wait_until(lambda: isinstance(app.focused, UserBubble))
        await pilot.press("c")
        await wait_until(lambda: app.clipboard == "one")
        await pilot.press("escape")
        await wait_until(lambda: isinstance(app.focused, PromptArea))


def _conversation(title: str) -> Conversation:
    conversation = Conversation(settings=ChatSettings(model="deepseek-flash"))
    conversation.add_user(f"{title} question")
    reply = conversation.start_assistant("deepseek-flash", False)
    reply.content = f"The answer mentions {title} and zebra-{title}."
    conversation.finish_assistant(reply.id)
    return conversation


def _stored(tmp_path, titles: list[str]) -> list[Conversation]:
    store = store_of(tmp_path)
    conversations = []
    for title in titles:
        conversation = _conversation(title)
        store.save(conversation)
        conversations.append(conversation)
    return conversations


async def test_session_picker_filters_searches_and_opens(simulator, tmp_path):
    alpha, beta, gamma = _stored(tmp_path, ["alpha", "beta", "gamma"])
    (tmp_path / "data" / "sessions" / "broken.json").write_text("{not json")
    app = make_app(simulator.url, tmp_path, on_start="new")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o")
        screen = await wait_for_screen(app, SessionsScreen)
        option_list = screen.query_one("#sessions-list", OptionList)

        def labels() -> list[str]:
            return [str(option_list.get_option_at_index(i).prompt) for i in range(option_list.option_count)]

        assert sum("question" in label for label in labels()) == 3
        assert any("broken.json" in label and "unreadable" in label for label in labels())
        await pilot.press(*"zebra-beta")

        # Hits for a half-typed query may come first; wait for the full one's.
        await wait_until(lambda: any("zebra-beta" in label for label in labels()))
        assert screen.hits and all(hit.session_id == beta.id for hit in screen.hits)
        assert not any("alpha question" in label for label in labels())
        screen.query_one("#sessions-filter", Input).value = "gamma"
        await pilot.press("enter")
        await wait_until(lambda: app.conversation.id == gamma.id)
        await pilot.pause()  # the app goes on showing it; a pause waits for that handler to end
        assert (tmp_path / "data" / "sessions" / "broken.json").read_text() == "{not json"


async def test_the_open_picker_indexes_the_text_and_searches_through_the_index(simulator, tmp_path, monkeypatch):
    import sqlite3

    from deepseek_tui.conversation.session_index import INDEX_NAME

    alpha, beta, gamma = _stored(tmp_path, ["alpha", "beta", "gamma"])
    index = tmp_path / "data" / "sessions" / INDEX_NAME

    def not_indexed() -> int | None:
        if not index.exists():
            return None
        with sqlite3.connect(index) as db:
            return db.execute("SELECT count(*) FROM files WHERE text_indexed = 0").fetchone()[0]

    assert not_indexed() == 3  # saves record summaries only
    app = make_app(simulator.url, tmp_path, on_start="new")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o")
        screen = await wait_for_screen(app, SessionsScreen)
        await wait_until(lambda: not_indexed() == 0)
        monkeypatch.setattr(SessionStore, "_search_file", lambda *args: pytest.fail("read a file"))
        screen.query_one("#sessions-filter", Input).value = "zebra-gamma"
        await wait_until(lambda: screen._hits_query == "zebra-gamma")
        assert [(hit.session_id, hit.line) for hit in screen.hits] == [
            (gamma.id, "The answer mentions gamma and zebra-gamma.")
        ]


async def test_the_picker_lists_a_limited_number_of_title_matches(simulator, tmp_path, monkeypatch):
    from deepseek_tui.ui.screens import sessions as picker

    monkeypatch.setattr(picker, "UNFILTERED_LIMIT", 2)  # thousands of matching rows took a second to show
    _stored(tmp_path, ["common one", "common two", "common three", "other"])
    app = make_app(simulator.url, tmp_path, on_start="new")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o")
        screen = await wait_for_screen(app, SessionsScreen)
        screen.query_one("#sessions-filter", Input).value = "common"
        await wait_until(lambda: screen._hits_query == "common")
        option_list = screen.query_one("#sessions-list", OptionList)
        options = [option_list.get_option_at_index(i) for i in range(option_list.option_count)]
        assert [o.id[:2] for o in options if o.id and o.id.startswith("s:")] == ["s:", "s:"]
        [more] = [o for o in options if o.id == "more"]
        assert "1 more titles match" in str(more.prompt)
        assert (
            len([o for o in options if o.id and o.id.startswith("h:")]) == 6
        )  # the search still finds all (questions and answers)


async def test_the_app_lists_the_conversations_in_the_background_before_the_picker_opens(
    simulator, tmp_path, monkeypatch
):
    from deepseek_tui.ui import app as app_module

    monkeypatch.setattr(app_module, "LISTING_WARM_DELAY", 0.05)
    stored = _stored(tmp_path, ["alpha", "beta"])
    app = make_app(simulator.url, tmp_path, on_start="new")
    async with app.run_test(size=SIZE):
        await wait_until(lambda: len(app.store._known) == 2)  # the picker's first listing only checks for changes
        assert {name.partition(".")[0] for name in app.store._known} == {c.id for c in stored}


async def test_the_background_listing_runs_the_full_garbage_collection_it_makes_due(simulator, tmp_path, monkeypatch):
    """Its thousands of summaries would make the next full collection (50–100 ms with 10,000
    conversations) happen when the picker opens; the listing's thread runs it instead."""
    import gc

    from deepseek_tui.ui import app as app_module

    monkeypatch.setattr(app_module, "LISTING_WARM_DELAY", 0.05)
    _stored(tmp_path, ["alpha"])
    full_collections: list[bool] = []  # for each, whether it ran in the listing's thread

    def collected(phase: str, info: dict) -> None:
        if phase == "stop" and info["generation"] == 2:
            full_collections.append(
                app.store.known_sessions() is not None and threading.current_thread() is not threading.main_thread()
            )

    app = make_app(simulator.url, tmp_path, on_start="new")
    gc.callbacks.append(collected)
    try:
        async with app.run_test(size=SIZE):
            await wait_until(lambda: any(full_collections))
    finally:
        gc.callbacks.remove(collected)


def _hold_background_listings(app, monkeypatch) -> tuple[threading.Event, list[bool]]:
    """Listings outside the UI thread are made, then held until the event is set; the list
    says, for each listing since, whether it ran on the UI thread."""
    gate, on_ui_thread = threading.Event(), []
    real = app.store.list_sessions

    def held():
        sessions = real()
        on_ui_thread.append(threading.current_thread() is threading.main_thread())
        if not on_ui_thread[-1]:
            gate.wait(10)
        return sessions

    monkeypatch.setattr(app.store, "list_sessions", held)
    return gate, on_ui_thread


def _session_rows(screen: SessionsScreen) -> list[str]:
    """The conversations' rows (not the search hits)."""
    option_list = screen.query_one("#sessions-list", OptionList)
    options = [option_list.get_option_at_index(i) for i in range(option_list.option_count)]
    return [str(option.prompt) for option in options if option.id and option.id.startswith("s:")]


def _labels(screen: SessionsScreen) -> str:
    option_list = screen.query_one("#sessions-list", OptionList)
    return "\n".join(str(option_list.get_option_at_index(i).prompt) for i in range(option_list.option_count))


async def test_the_picker_opens_with_the_background_listing_then_shows_what_changed_on_disk(
    simulator, tmp_path, monkeypatch
):
    from deepseek_tui.ui import app as app_module

    monkeypatch.setattr(app_module, "LISTING_WARM_DELAY", 0.05)
    alpha, beta = _stored(tmp_path, ["alpha", "beta"])
    app = make_app(simulator.url, tmp_path, on_start="new")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: app.store.known_sessions() is not None)
        other = store_of(tmp_path)  # another process, meanwhile
        other.rename(alpha.id, "alpha elsewhere")
        other.delete(beta.id)
        other.save(_conversation("delta"))
        gate, on_ui_thread = _hold_background_listings(app, monkeypatch)
        await pilot.press("ctrl+o")
        screen = await wait_for_screen(app, SessionsScreen)
        shown = _labels(screen)  # at once: the app's last listing, no file looked at
        assert "alpha question" in shown and "beta question" in shown and "delta" not in shown
        await wait_until(lambda: on_ui_thread)  # the picker lists the files in the background
        gate.set()
        await wait_until(lambda: "delta question" in _labels(screen))
        shown = _labels(screen)
        assert "alpha elsewhere" in shown and "beta question" not in shown and "alpha question" not in shown
        assert on_ui_thread == [False]


async def test_a_background_listing_does_not_undo_a_rename_made_in_the_picker_meanwhile(
    simulator, tmp_path, monkeypatch
):
    from deepseek_tui.ui import app as app_module

    monkeypatch.setattr(app_module, "LISTING_WARM_DELAY", 0.05)
    (alpha,) = _stored(tmp_path, ["alpha"])
    app = make_app(simulator.url, tmp_path, on_start="new")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: app.store.known_sessions() is not None)
        store_of(tmp_path).save(_conversation("beta"))  # so that the background listing differs
        gate, on_ui_thread = _hold_background_listings(app, monkeypatch)
        await pilot.press("ctrl+o")
        screen = await wait_for_screen(app, SessionsScreen)
        await wait_until(lambda: on_ui_thread)  # made, with the old title, and held
        screen.query_one("#sessions-filter", Input).value = "alpha"
        await wait_until(lambda: screen.selected_session_id() == alpha.id)
        await pilot.press("f2")
        ask = await wait_for_screen(app, AskScreen)
        ask.query_one(Input).value = "Renamed alpha"
        await pilot.press("enter")
        await wait_until(lambda: "Renamed alpha" in _labels(screen))
        gate.set()
        await wait_until(
            lambda: not any(w.node is screen and w.group == "index" and not w.is_finished for w in app.workers)
        )
        await pilot.pause()
        rows = _session_rows(screen)  # the search for "alpha" may have added hit lines below them
        assert any("Renamed alpha" in row for row in rows) and not any("alpha question" in row for row in rows)
        assert on_ui_thread == [False, True]  # the held listing, then the rename's


async def test_session_picker_rename_duplicate_delete(simulator, tmp_path):
    alpha, beta = _stored(tmp_path, ["alpha", "beta"])
    app = make_app(simulator.url, tmp_path, on_start="new")
    store = store_of(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o")
        screen = await wait_for_screen(app, SessionsScreen)
        filter_input = screen.query_one("#sessions-filter", Input)
        option_list = screen.query_one("#sessions-list", OptionList)

        def highlighted() -> str:
            index = option_list.highlighted
            return str(option_list.get_option_at_index(index).prompt) if index is not None else ""

        def titles() -> list[str]:
            return [s.title for s in store.list_sessions()]

        # The keys act on the highlighted session: wait until the filter has picked it.
        filter_input.value = "alpha"
        await wait_until(lambda: "alpha question" in highlighted())
        await pilot.press("f2")
        ask = await wait_for_screen(app, AskScreen)
        ask.query_one(Input).value = "Renamed alpha"
        await pilot.press("enter")
        await wait_until(lambda: store.load(alpha.id).title == "Renamed alpha")
        filter_input.value = "renamed"
        await wait_until(lambda: "Renamed alpha" in highlighted())
        await pilot.press("f3")
        await wait_until(lambda: "Renamed alpha (copy)" in titles())
        assert "Renamed alpha" in titles()
        filter_input.value = "beta"
        await wait_until(lambda: "beta question" in highlighted())
        await pilot.press("f8")
        await wait_for_screen(app, ConfirmScreen)
        await pilot.press("n")
        await wait_until(lambda: app.screen is screen)
        assert any(s.id == beta.id for s in store.list_sessions())
        await pilot.press("down")  # into the list, where the Delete key works too
        await wait_until(lambda: app.focused is option_list)
        await pilot.press("delete")
        await wait_for_screen(app, ConfirmScreen)
        await pilot.press("y")
        await wait_until(lambda: not any(s.id == beta.id for s in store.list_sessions()))


async def test_export_markdown_and_json_then_import(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path, chat=ChatSettings(model="deepseek-flash", thinking=True))
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "export me")
        for name in ("out.md", "out.json"):
            await pilot.press("ctrl+s")
            ask = await wait_for_screen(app, AskScreen)
            ask.query_one(Input).value = str(tmp_path / name)
            await pilot.press("enter")
            await wait_until(lambda: (tmp_path / name).exists() and app.screen is not ask)
        markdown = (tmp_path / "out.md").read_text()
        assert "export me" in markdown and "<details>" in markdown
        exported = json.loads((tmp_path / "out.json").read_text())
        assert "sk-test" not in (tmp_path / "out.json").read_text() + markdown
        original_id = app.conversation.id
        await pilot.press("f9")
        ask = await wait_for_screen(app, AskScreen)
        ask.query_one(Input).value = str(tmp_path / "out.json")
        await pilot.press("enter")
        # Said once the imported conversation is open (its id changes before it is shown).
        await wait_until(lambda: any(n.message.startswith("Imported") for n in app.notified))
        assert app.conversation.id != original_id
        assert [m.content for m in app.conversation.active_path()][0] == "export me"
        assert exported


async def test_edit_prompt_in_editor_headless_reports_and_keeps_prompt(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptArea)
        prompt.load_text("keep me")
        await pilot.press("f4")
        await wait_until(lambda: any("editor" in n.message.lower() for n in app.notified))
        assert prompt.text == "keep me"


async def test_the_editor_returns_the_text_with_the_cursor_at_its_end(simulator, tmp_path, monkeypatch):
    from contextlib import nullcontext

    monkeypatch.setenv("VISUAL", 'sh -c \'printf "line one\\nline two\\n" > "$0"\'')
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        monkeypatch.setattr(app, "suspend", lambda: nullcontext())  # no real terminal to hand over
        prompt = app.query_one(PromptArea)
        await pilot.press("f4")
        await pilot.pause()
        assert prompt.text == "line one\nline two"
        assert prompt.cursor_location == (1, len("line two"))


async def test_palette_lists_every_action(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE):
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for description in ("Chats", "Regenerate", "Continue answer", "Export", "Import", "Copy code block"):
            assert any(title.startswith(description) for title in titles), description


async def test_theme_choice_persists(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE):
        app.theme = "nord"
        config_file = tmp_path / "config.toml"  # saved by a timer, half a second after the change
        await wait_until(lambda: config_file.exists() and 'theme = "nord"' in config_file.read_text())


async def test_the_open_chat_cannot_be_deleted_while_its_reply_streams(simulator, tmp_path):
    """The picker refuses; the reply finishes into the same conversation and is saved."""
    import threading

    release = threading.Event()
    simulator.inject(Fault.hold(after_chunks=5, release=release))
    app = make_app(simulator.url, tmp_path, on_start="new")
    async with app.run_test(size=SIZE) as pilot:
        try:
            await send(app, pilot, "stream into me", wait=False)
            await wait_until(lambda: app.progress is not None and app.progress.content_chars > 0)
            streaming = app.conversation
            await pilot.press("ctrl+o")
            await wait_until(lambda: isinstance(app.screen, SessionsScreen))
            screen = app.screen
            await pilot.press("down", "f8")
            await pilot.pause()
            assert isinstance(app.screen, SessionsScreen)  # no confirmation asked: refused at once
            assert any("reply is streaming" in n.message for n in app.notified)
            await pilot.press("escape")
            await wait_until(lambda: app.screen is not screen)
        finally:
            release.set()
        await wait_reply(app, pilot)
        assert app.is_running and app.conversation is streaming
        assert streaming.active_path()[-1].status == "complete"
        await pilot.pause()
    stored = store_of(tmp_path).load(streaming.id)
    assert stored.active_path()[-1].content == streaming.active_path()[-1].content != ""


async def test_deleting_the_open_chat_shows_a_new_one_and_it_stays_deleted(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path, on_start="new")
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "short lived")
        deleted = app.conversation.id
        await pilot.press("ctrl+o")
        await wait_until(lambda: isinstance(app.screen, SessionsScreen))
        await pilot.press("down", "f8")
        await wait_until(lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(lambda: app.conversation.id != deleted)
        assert not app.conversation.active_path()
        await pilot.press("escape")
        await pilot.pause()
    assert not any(s.id == deleted for s in store_of(tmp_path).list_sessions())


async def test_a_new_chat_starts_from_the_configured_defaults(simulator, tmp_path):
    """Not from the settings of the chat that was open (e.g. one saved with a one-off limit)."""
    stored = Conversation(settings=ChatSettings(model="deepseek-flash", max_tokens=30))
    stored.add_user("a plan")
    store_of(tmp_path).save(stored)
    defaults = ChatSettings(model="deepseek-flash", temperature=0.7)
    app = make_app(simulator.url, tmp_path, chat=defaults)
    async with app.run_test(size=SIZE) as pilot:
        assert app.conversation.id == stored.id and app.conversation.settings.max_tokens == 30
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.conversation.id != stored.id and app.conversation.settings == defaults


async def test_a_selected_messages_keys_can_be_remapped(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path, keymap={"message_copy": "y"})
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "copy me")
        await pilot.press("f8")
        await wait_until(lambda: isinstance(app.focused, AnswerBlock))
        await pilot.press("up")
        await wait_until(lambda: isinstance(app.focused, UserBubble))
        await pilot.press("y")
        await wait_until(lambda: app.clipboard == "copy me")
        assert any(keys == "y" and binding_id == "message_copy" for keys, _, binding_id in app.binding_rows())


def _fake_tmux(tmp_path, monkeypatch, set_clipboard: str, passthrough: str) -> None:
    """A tmux that answers option queries, on a PATH with no clipboard tool; we are "in tmux"."""
    import os
    import stat

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "tmux"
    script.write_text(
        f'#!/bin/sh\ncase "$3" in set-clipboard) echo {set_clipboard};; allow-passthrough) echo {passthrough};; esac\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(bin_dir) + os.pathsep + "/nonexistent")
    monkeypatch.setenv("TMUX", "/tmp/tmux-0/default,1,0")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)


async def test_copy_says_when_nothing_reached_a_clipboard_and_keeps_the_text(simulator, tmp_path, monkeypatch):
    _fake_tmux(tmp_path, monkeypatch, "external", "off")  # tmux's defaults
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "copy me")
        await pilot.press("f6")
        await pilot.pause()
        note = app.notified[-1]
        assert "Nothing reached a clipboard" in note.message and "set-clipboard external" in note.message
        assert "tmux set -g set-clipboard on" in note.message and "Copied" not in note.message
        kept = tmp_path / "data" / "copied.txt"
        assert kept.read_text() == app.conversation.active_path()[-1].content
        assert str(kept) in note.message and oct(kept.stat().st_mode & 0o777) == "0o600"


async def test_copy_through_tmux_with_set_clipboard_on(simulator, tmp_path, monkeypatch):
    _fake_tmux(tmp_path, monkeypatch, "on", "off")
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "copy me")
        await pilot.press("f6")
        await pilot.pause()
        assert app.notified[-1].message.startswith("Copied the answer")
        assert "through tmux" in app.notified[-1].message


async def test_export_asks_before_replacing_and_never_creates_folders(simulator, tmp_path):
    from deepseek_tui.ui.screens.transfer import ExportScreen

    existing = tmp_path / "notes.md"
    existing.write_text("my notes")
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "export me")

        async def export_to(path) -> None:
            await pilot.press("ctrl+s")
            await wait_until(lambda: isinstance(app.screen, ExportScreen))
            app.screen.query_one(Input).value = str(path)
            await pilot.press("enter")
            await pilot.pause()

        await export_to(tmp_path / "no" / "such" / "dir" / "x.md")
        assert isinstance(app.screen, ExportScreen)  # still open, with the reason said
        assert any("no folder" in n.message.lower() for n in app.notified)
        assert not (tmp_path / "no").exists()
        await pilot.press("escape")
        await export_to(existing)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert existing.read_text() == "my notes"
        await pilot.press("enter")  # the export dialog is still there: enter asks again
        await wait_until(lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(lambda: "export me" in existing.read_text())


async def test_compaction_is_offered_past_80_percent_and_runs_from_its_key(simulator, tmp_path):
    from deepseek_tui.conversation.compact import SUMMARY_REQUEST

    # A model with a small window, so that a few exchanges fill it.
    tiny = {"deepseek-flash": {"context_window": 1200}}
    app = make_app(simulator.url, tmp_path, models=tiny)
    async with app.run_test(size=SIZE) as pilot:
        offered = False
        for number in range(8):
            await send(app, pilot, f"question {number}")
            offered = any(n.title == "Context nearly full" for n in app.notified)
            if offered:
                break
        assert offered and number >= 2
        assert "ctrl+l" in next(n.message for n in app.notified if n.title == "Context nearly full")
        old_first = app.conversation.active_path()[0].id
        await reply(app, pilot, "ctrl+l")
        await pilot.pause()
        path = app.conversation.active_path()
        assert path[0].content == SUMMARY_REQUEST and path[1].cost is not None and len(path) == 6
        assert any(n.message.startswith("Compacted") for n in app.notified)
        shown = [v.message_id for v in app.query("#chat > UserBubble, #chat > AnswerBlock")]
        assert shown == [m.id for m in path]
        assert "‹2/2›" in str(app.query(UserBubble).first().query_one(".meta").render())
        assert old_first in app.conversation
    assert store_of(tmp_path).load(app.conversation.id).active_path()[0].content == SUMMARY_REQUEST


async def test_picker_rows_fit_a_narrow_terminal_and_show_the_short_id(simulator, tmp_path):
    alpha, beta = _stored(tmp_path, ["a rather long title that would not fit in eighty columns", "beta"])
    app = make_app(simulator.url, tmp_path, on_start="new")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+o")
        await wait_until(lambda: isinstance(app.screen, SessionsScreen))
        await pilot.pause()
        option_list = app.screen.query_one("#sessions-list", OptionList)
        room = option_list.scrollable_content_region.width
        prompts = [option_list.get_option_at_index(i).prompt for i in range(option_list.option_count)]
        assert len(prompts) == 2 and all(prompt.cell_len <= room for prompt in prompts)  # no row wraps
        shown = " ".join(str(prompt) for prompt in prompts)
        assert alpha.id[:8] in shown and beta.id[:8] in shown


async def test_opening_a_search_hit_marks_it_and_typing_goes_to_the_prompt(simulator, tmp_path):
    alpha, beta = _stored(tmp_path, ["alpha", "beta"])
    app = make_app(simulator.url, tmp_path, on_start="new")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o")
        screen = await wait_for_screen(app, SessionsScreen)
        option_list = screen.query_one("#sessions-list", OptionList)
        await pilot.press(*"zebra-beta")
        await wait_until(
            lambda: any(option_list.get_option_at_index(i).id == "h:0" for i in range(option_list.option_count))
        )
        option_list.highlighted = option_list.get_option_index("h:0")
        await pilot.press("enter")
        await wait_until(lambda: app.conversation.id == beta.id)
        answer_id = beta.active_path()[-1].id
        await wait_until(lambda: app.chat.found_view is not None)
        assert app.chat.found_view is app.chat.view_of(answer_id)
        assert isinstance(app.focused, PromptArea)
        await pilot.press(*"calculate")  # c (copy) and e (edit) are a selected message's keys
        await wait_until(lambda: app.query_one(PromptArea).text == "calculate")
        assert app.clipboard == "" and app.editing_id is None
        await pilot.press("f8")  # moving into the chat starts at the hit
        await wait_until(lambda: app.focused is app.chat.view_of(answer_id))
        await send(app, pilot, "next")
        assert app.chat.found_view is None  # a new exchange: F8 starts at the end again


@pytest.mark.parametrize("demo", [False, True])
async def test_the_picker_names_ask_continue_except_in_the_demo(simulator, tmp_path, demo):
    _stored(tmp_path, ["alpha"])
    app = make_app(simulator.url, tmp_path, on_start="new", demo=demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o")
        screen = await wait_for_screen(app, SessionsScreen)
        hint = str(screen.query_one("#sessions-hint").render())
        assert "esc close" in hint and ("ask --continue" in hint) is not demo
