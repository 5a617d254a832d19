"""Attachments in the app, through Pilot against the simulator: `@` completion, chips and their
removal, pasted paths, F10, the vision question, the size check, edit-and-resend (issue 15)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pngs import png_bytes
from textual import events
from ui_support import SIZE, make_app, reply, wait_for_screen, wait_until

from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.conversation.attachments import AttachmentLimits, make_attachment
from deepseek_tui.conversation.model import Conversation
from deepseek_tui.conversation.store import SessionStore
from deepseek_tui.ui.screens.dialogs import AskScreen, ChooseScreen
from deepseek_tui.ui.widgets.attachment_views import ImagePreview
from deepseek_tui.ui.widgets.attachments import AttachmentBar, PathCompletions
from deepseek_tui.ui.widgets.messages import UserBubble
from deepseek_tui.ui.widgets.prompt import PromptArea

PNG = png_bytes(12, 8)
SOURCE = b"def main():\n    print('hi')\n"


@pytest.fixture
def work(tmp_path) -> Path:
    work = tmp_path / "work"
    (work / "src").mkdir(parents=True)
    (work / "src" / "app.py").write_bytes(SOURCE)
    (work / "shot.png").write_bytes(PNG)
    (work / "blob.bin").write_bytes(b"\x00\x01\x02")
    return work


def app_in(work: Path, simulator, tmp_path, **changes):
    app = make_app(simulator.url, tmp_path, **changes)
    app.working_directory = work
    return app


def chat_bodies(simulator) -> list[dict]:
    return [r.body for r in simulator.requests if r.path.endswith("/chat/completions")]


def names(app) -> list[str]:
    return [a.name for a in app.pending_attachments]


def offered(app) -> list[str]:
    completions = app.query_one(PathCompletions)
    return [c.value for c in completions.candidates] if completions.is_open else []


async def type_keys(pilot, text: str) -> None:
    await pilot.press(*[{" ": "space", "@": "at", "/": "slash", ".": "full_stop"}.get(c, c) for c in text])


async def attach_through_at(app, pilot, fragment: str) -> None:
    """Type `@fragment`, wait for the list, pick the first entry."""
    before = len(app.pending_attachments)
    await type_keys(pilot, "@" + fragment)
    await wait_until(lambda: bool(offered(app)) and all(fragment.split("/")[-1] in v for v in offered(app)[:1]))
    await pilot.press("enter")
    await wait_until(lambda: len(app.pending_attachments) == before + 1)


async def test_at_offers_paths_filters_opens_folders_and_attaches_a_file(simulator, tmp_path, work):
    app = app_in(work, simulator, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptArea)
        prompt.focus()
        await type_keys(pilot, "Look at @")
        await wait_until(lambda: offered(app) == ["src/", "blob.bin", "shot.png"])
        await type_keys(pilot, "sr")
        await wait_until(lambda: offered(app) == ["src/"])
        await pilot.press("tab")  # a folder opens
        await wait_until(lambda: prompt.text == "Look at @src/" and offered(app) == ["src/app.py"])
        await pilot.press("enter")  # a file is attached; the @word leaves the prompt
        await wait_until(lambda: names(app) == ["src/app.py"])
        assert prompt.text == "Look at " and not app.query_one(PathCompletions).is_open
        bar = app.query_one(AttachmentBar)
        await wait_until(lambda: bar.display and "app.py · 28 B · ≈" in str(bar.render()))
        assert chat_bodies(simulator) == []  # nothing is sent before Enter on the prompt


async def test_picking_a_file_keeps_the_words_around_the_at_word_apart(simulator, tmp_path, work):
    app = app_in(work, simulator, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptArea)
        prompt.focus()
        await type_keys(pilot, "abc ")
        await attach_through_at(app, pilot, "shot")
        await type_keys(pilot, "X")  # what is typed next does not stick to the word before
        await wait_until(lambda: prompt.text == "abc X")
        await type_keys(pilot, " def")
        await pilot.press(*["left"] * 4)
        await type_keys(pilot, " ")
        await attach_through_at(app, pilot, "src/app")  # in the middle: one space is left
        await wait_until(lambda: prompt.text == "abc X def")
        assert names(app) == ["shot.png", "src/app.py"]


async def test_esc_closes_the_list_and_arrows_move_in_it(simulator, tmp_path, work):
    app = app_in(work, simulator, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(PromptArea).focus()
        await type_keys(pilot, "@")
        await wait_until(lambda: offered(app) == ["src/", "blob.bin", "shot.png"])
        await pilot.press("down", "down")
        await wait_until(lambda: app.query_one(PathCompletions).chosen.value == "shot.png")
        await pilot.press("escape")
        await wait_until(lambda: not app.query_one(PathCompletions).is_open)
        await type_keys(pilot, "s")  # the closed @word is not offered again
        await wait_until(lambda: app.query_one(PromptArea).text == "@s")
        assert not app.query_one(PathCompletions).is_open and app.pending_attachments == []


async def test_an_at_word_that_names_no_file_leaves_enter_sending(simulator, tmp_path, work):
    app = app_in(work, simulator, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(PromptArea).focus()
        await type_keys(pilot, "ask @nobody")
        await wait_until(lambda: app.query_one(PathCompletions).is_open and offered(app) == [])
        await reply(app, pilot, "enter")
        assert chat_bodies(simulator)[-1]["messages"][-1]["content"] == "ask @nobody"
        await wait_until(lambda: not app.query_one(PathCompletions).is_open)


async def test_a_file_that_cannot_be_attached_says_why_and_adds_no_chip(simulator, tmp_path, work):
    app = app_in(work, simulator, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(PromptArea).focus()
        await type_keys(pilot, "@blob")
        await wait_until(lambda: offered(app) == ["blob.bin"])
        await pilot.press("enter")
        await wait_until(lambda: any("binary files cannot be attached" in n.message for n in app.notified))
        assert app.pending_attachments == []


async def test_chips_are_removed_by_click_by_backspace_and_by_delete(simulator, tmp_path, work):
    app = app_in(work, simulator, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptArea)
        prompt.focus()
        await attach_through_at(app, pilot, "shot")
        await attach_through_at(app, pilot, "src/app")
        assert names(app) == ["shot.png", "src/app.py"]
        await pilot.press("home", "backspace")  # at the very start: the last chip goes
        await wait_until(lambda: names(app) == ["shot.png"])
        await attach_through_at(app, pilot, "src/app")
        bar = app.query_one(AttachmentBar)
        await wait_until(lambda: "app.py" in str(bar.render()))
        await pilot.click(AttachmentBar, offset=(3, 0))  # the first chip
        await wait_until(lambda: names(app) == ["src/app.py"])
        await pilot.press("shift+tab")  # from the prompt to the chips
        await wait_until(lambda: app.focused is bar)
        await pilot.press("delete")
        await wait_until(lambda: names(app) == [] and not bar.display)
        await wait_until(lambda: app.focused is prompt)


async def test_typing_while_the_chips_are_selected_goes_on_in_the_prompt(simulator, tmp_path, work):
    app = app_in(work, simulator, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptArea)
        prompt.focus()
        await type_keys(pilot, "see ")
        await attach_through_at(app, pilot, "shot")
        bar = app.query_one(AttachmentBar)
        await pilot.press("shift+tab")
        await wait_until(lambda: app.focused is bar)
        await type_keys(pilot, "it now")
        await wait_until(lambda: prompt.text == "see it now")
        assert app.focused is prompt and names(app) == ["shot.png"]


async def test_a_pasted_path_attaches_the_file_and_other_pastes_stay_text(simulator, tmp_path, work):
    app = app_in(work, simulator, tmp_path)
    async with app.run_test(size=SIZE):
        prompt = app.query_one(PromptArea)
        prompt.focus()
        prompt.post_message(events.Paste(f"'{work}/shot.png' "))  # what a terminal pastes on a drop
        await wait_until(lambda: names(app) == ["shot.png"])
        assert prompt.text == ""
        assert any("a pasted path" in n.message for n in app.notified)
        prompt.post_message(events.Paste(f"{work}/no-such-file.txt"))
        await wait_until(lambda: prompt.text == f"{work}/no-such-file.txt")
        prompt.load_text("")
        app.post_message(events.Paste("plain words\nand a line"))  # as the driver delivers it
        await wait_until(lambda: prompt.text == "plain words\nand a line")
        assert names(app) == ["shot.png"]


async def test_f10_attaches_by_path(simulator, tmp_path, work):
    app = app_in(work, simulator, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(PromptArea).focus()
        await pilot.press("f10")
        screen = await wait_for_screen(app, AskScreen)
        screen.query_one("#ask-input").value = "src/app.py"
        await pilot.press("enter")
        await wait_until(lambda: names(app) == ["src/app.py"])


async def test_a_prompt_with_files_is_sent_with_them_and_shown_on_the_message(simulator, tmp_path, work):
    app = app_in(work, simulator, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptArea)
        prompt.focus()
        await attach_through_at(app, pilot, "shot")
        await attach_through_at(app, pilot, "src/app")
        await type_keys(pilot, "What is this")
        await reply(app, pilot, "enter")
        content = chat_bodies(simulator)[-1]["messages"][-1]["content"]
        assert [part["type"] for part in content] == ["image_url", "text"]
        assert content[1]["text"].startswith("What is this\n\nsrc/app.py\n```python")
        assert app.pending_attachments == [] and not app.query_one(AttachmentBar).display
        user = app.conversation.active_path()[0]
        assert [a.name for a in user.attachments] == ["shot.png", "src/app.py"]
        bubble = app.query_one(f"#m-{user.id}", UserBubble)
        lines = [str(w.render()) for w in bubble.query(".attachment")]
        assert lines == [f"📎 shot.png · PNG image · {len(PNG)} B", "📎 src/app.py · text · 28 B"]
        await wait_until(lambda: bubble.query_one(ImagePreview).display)
        stored = SessionStore(tmp_path / "data" / "sessions").blobs.path_of(hashlib.sha256(PNG).hexdigest())
        assert stored.read_bytes() == PNG


async def test_files_alone_can_be_sent(simulator, tmp_path, work):
    app = app_in(work, simulator, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(PromptArea).focus()
        await attach_through_at(app, pilot, "src/app")
        await reply(app, pilot, "enter")
        assert chat_bodies(simulator)[-1]["messages"][-1]["content"].startswith("src/app.py\n```python")


async def test_an_image_for_a_model_without_vision_is_asked_about_before_sending(simulator, tmp_path, work):
    app = app_in(work, simulator, tmp_path, chat=ChatSettings(model="deepseek-v4-pro"))
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptArea)
        prompt.focus()
        await attach_through_at(app, pilot, "shot")
        bar = app.query_one(AttachmentBar)
        await wait_until(lambda: "not seen by deepseek-v4-pro" in str(bar.render()))
        await type_keys(pilot, "Describe it")
        await pilot.press("enter")
        screen = await wait_for_screen(app, ChooseScreen)
        assert "deepseek-v4-pro does not see images (shot.png)" in str(screen.query_one(".title").render())
        await pilot.press("escape")  # back to the prompt: nothing sent, nothing lost
        await wait_until(lambda: not isinstance(app.screen, ChooseScreen))
        assert chat_bodies(simulator) == [] and app.conversation.active_path() == []
        assert prompt.text == "Describe it" and names(app) == ["shot.png"]
        await pilot.press("enter")
        await wait_for_screen(app, ChooseScreen)
        await reply(app, pilot, "enter")  # one key: switch to the model that sees images, and send
        assert app.conversation.settings.model == "deepseek-flash"
        body = chat_bodies(simulator)[-1]
        assert body["model"] == "deepseek-flash" and body["messages"][-1]["content"][0]["type"] == "image_url"


async def test_images_sent_without_are_marked_not_sent_on_the_message(simulator, tmp_path, work):
    app = app_in(work, simulator, tmp_path, chat=ChatSettings(model="deepseek-v4-pro"))
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(PromptArea).focus()
        await attach_through_at(app, pilot, "shot")
        await attach_through_at(app, pilot, "src/app")
        await type_keys(pilot, "Describe it")
        await pilot.press("enter")
        await wait_for_screen(app, ChooseScreen)
        await reply(app, pilot, "down", "enter")  # "Send without the images"
        assert app.conversation.settings.model == "deepseek-v4-pro"
        content = chat_bodies(simulator)[-1]["messages"][-1]["content"]
        assert isinstance(content, str) and "shot.png" in content  # a note in the image's place
        user = app.conversation.active_path()[0]

        def lines() -> list[str]:
            bubble = app.query_one(f"#m-{user.id}", UserBubble)
            return [str(w.render()) for w in bubble.query(".attachment")]

        not_sent = (
            f"📎 shot.png · PNG image · {len(PNG)} B — not sent: deepseek-v4-pro does not see images "
            "(a note went in its place)"
        )
        assert lines() == [not_sent, "📎 src/app.py · text · 28 B"]
        assert not app.query(ImagePreview)  # no preview that would say it went
        conversation_id = app.conversation.id
        await app.action_new_conversation()
        await app.open_session(conversation_id)  # read back from the store: said again
        await wait_until(lambda: lines() == [not_sent, "📎 src/app.py · text · 28 B"])


async def test_a_request_over_the_size_limit_is_refused_and_the_prompt_kept(simulator, tmp_path, work):
    app = app_in(work, simulator, tmp_path, models={"deepseek-flash": {"max_request_bytes": 500}})
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptArea)
        prompt.focus()
        await attach_through_at(app, pilot, "shot")
        await type_keys(pilot, "big")
        await pilot.press("enter")
        await wait_until(lambda: any(n.title == "Too large to send" for n in app.notified))
        assert chat_bodies(simulator) == [] and app.conversation.active_path() == []
        assert prompt.text == "big" and names(app) == ["shot.png"]


async def test_edit_and_resend_keeps_the_attachments(simulator, tmp_path, work):
    app = app_in(work, simulator, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptArea)
        prompt.focus()
        await attach_through_at(app, pilot, "shot")
        await type_keys(pilot, "What is it")
        await reply(app, pilot, "enter")
        first = app.conversation.active_path()[0]
        app.query_one(f"#m-{first.id}", UserBubble).focus()
        await pilot.press("e")
        await wait_until(lambda: app.editing_id == first.id and names(app) == ["shot.png"])
        prompt.load_text("What colour is it")
        await reply(app, pilot, "enter")
        edited = app.conversation.active_path()[0]
        assert edited.id != first.id and edited.content == "What colour is it"
        assert edited.attachments == first.attachments
        content = chat_bodies(simulator)[-1]["messages"][-1]["content"]
        assert content[0]["type"] == "image_url" and content[1]["text"] == "What colour is it"
        await reply(app, pilot, "ctrl+r")  # regenerate: the same prompt, its image again
        assert chat_bodies(simulator)[-1]["messages"][-1]["content"][0]["type"] == "image_url"


async def test_a_session_whose_attachment_is_missing_opens_and_says_so(simulator, tmp_path):
    store = SessionStore(tmp_path / "data" / "sessions")
    conversation = Conversation(settings=ChatSettings(model="deepseek-flash"))
    conversation.add_user("What is it?", [make_attachment("shot.png", PNG, AttachmentLimits())])
    store.save(conversation)
    store.blobs.path_of(hashlib.sha256(PNG).hexdigest()).unlink()
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: any(n.title == "Attachments not found" for n in app.notified))
        bubble = app.query_one(UserBubble)
        assert "not available: its file is missing" in str(bubble.query_one(".attachment").render())
        app.query_one(PromptArea).load_text("go on")
        app.query_one(PromptArea).focus()
        await reply(app, pilot, "enter")
        assert "could not be sent" in chat_bodies(simulator)[-1]["messages"][0]["content"]


async def test_a_large_png_is_previewed_from_a_thread():
    from textual.app import App

    large = png_bytes(300, 240, filters=(1, 2, 4))  # over the inline limit: decoded in a thread

    class One(App):
        def compose(self):
            yield ImagePreview(large)

    app = One()
    async with app.run_test(size=SIZE):
        preview = app.query_one(ImagePreview)
        await wait_until(lambda: preview.display)
        assert preview.size == (20, 8) and "▀" in str(preview.render())  # 20×16 pixels, two to a cell
