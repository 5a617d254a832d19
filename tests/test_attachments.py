"""Attachments without the UI: what may be attached, what a request carries, how they are stored,
exported and imported, pasted paths and `@` completion (issue 15)."""

from __future__ import annotations

import base64
import codecs
import hashlib
import json
import os
from pathlib import Path

import pytest
from pngs import gradient, png_bytes

from deepseek_tui.attach_paths import display_name, pasted_files, path_candidates, read_attachment, resolve
from deepseek_tui.catalogue import Catalogue
from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.config import ConfigError, parse_config
from deepseek_tui.conversation import codec
from deepseek_tui.conversation.attachments import (
    Attachment,
    AttachmentError,
    AttachmentLimits,
    estimated_tokens,
    make_attachment,
    sniff_image,
)
from deepseek_tui.conversation.blobs import DAMAGED, MISSING
from deepseek_tui.conversation.codec import CodecError
from deepseek_tui.conversation.export import markdown_text
from deepseek_tui.conversation.model import Conversation
from deepseek_tui.conversation.request import RequestTooLarge, build_chat_request
from deepseek_tui.conversation.send_check import check_send, prospective_path
from deepseek_tui.conversation.store import SessionStore, read_export
from deepseek_tui.conversation.turn import prepare_reply
from deepseek_tui.image_preview import PreviewUnavailable, png_preview

LIMITS = AttachmentLimits()
PNG = png_bytes(4, 3)
JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + bytes(40)
GIF = b"GIF89a" + bytes(20)
WEBP = b"RIFF\x20\x00\x00\x00WEBPVP8 " + bytes(20)
SOURCE = b"def main():\n    print('hi')\n"


def attach(name: str, data: bytes, already=(), limits: AttachmentLimits = LIMITS) -> Attachment:
    return make_attachment(name, data, limits, already)


def flash() -> ChatSettings:
    return ChatSettings(model="deepseek-flash", thinking=False)


def pro() -> ChatSettings:
    return ChatSettings(model="deepseek-v4-pro", thinking=False)


# --- what may be attached ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, media_type", [(PNG, "image/png"), (JPEG, "image/jpeg"), (GIF, "image/gif"), (WEBP, "image/webp")]
)
def test_images_are_known_by_their_bytes_not_their_name(data, media_type):
    attachment = attach("notes.txt", data)
    assert (attachment.media_type, attachment.is_image, attachment.size) == (media_type, True, len(data))
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()


def test_text_is_known_by_its_content_not_its_name():
    assert attach("picture.png", SOURCE).media_type == "text/plain"
    assert attach("utf16.txt", codecs.BOM_UTF16_LE + "héllo\n".encode("utf-16-le")).media_type == "text/plain"
    assert sniff_image(SOURCE) is None


@pytest.mark.parametrize("data", [b"\x00\x01\x02binary", b"caf\xe9 latin-1", bytes(range(1, 32)) * 4])
def test_binary_files_that_are_not_images_are_refused_with_a_reason(data):
    with pytest.raises(AttachmentError, match="neither text .* nor an image"):
        attach("program.bin", data)


def test_a_text_file_over_the_per_file_cap_is_refused_and_the_cap_named():
    limits = AttachmentLimits(text_file_bytes=100)
    with pytest.raises(AttachmentError, match=r"max_text_file_kb"):
        attach("big.txt", b"x" * 101, limits=limits)
    assert attach("fits.txt", b"x" * 100, limits=limits).size == 100


def test_text_files_over_the_per_message_cap_are_refused():
    limits = AttachmentLimits(text_file_bytes=100, text_message_bytes=150)
    first = attach("a.txt", b"a" * 100, limits=limits)
    with pytest.raises(AttachmentError, match=r"come to 160 B.*max_text_message_kb"):
        attach("b.txt", b"b" * 60, [first], limits=limits)
    image = attach("shot.png", PNG, [first], limits=limits)  # images do not count towards the text cap
    assert image.is_image


def test_an_image_over_the_image_cap_is_refused():
    with pytest.raises(AttachmentError, match="max_image_mb"):
        attach("shot.png", PNG, limits=AttachmentLimits(image_bytes=len(PNG) - 1))


def test_the_same_file_twice_is_refused():
    first = attach("a.py", SOURCE)
    with pytest.raises(AttachmentError, match="attached already"):
        attach("copy.py", SOURCE, [first])


def test_token_estimates_count_an_image_at_the_catalogue_figure():
    spec = Catalogue().get("deepseek-flash")
    assert spec.image_tokens == 384 and spec.max_request_bytes == 48 * 1024 * 1024
    assert estimated_tokens(attach("shot.png", PNG), spec.image_tokens) == 384
    assert estimated_tokens(attach("a.py", SOURCE), spec.image_tokens) > 5


def test_config_sets_the_caps_and_rejects_nonsense():
    config = parse_config({"attachments": {"max_text_file_kb": 8, "max_text_message_kb": 16, "max_image_mb": 2}})
    assert config.attachments == AttachmentLimits(8 * 1024, 16 * 1024, 2 * 1024 * 1024)
    with pytest.raises(ConfigError, match="max_image_mb"):
        parse_config({"attachments": {"max_image_mb": -1}})


# --- what the request carries -------------------------------------------------------------------------


def test_a_text_file_goes_as_a_fenced_block_labelled_with_its_path_after_the_prompt():
    conversation = Conversation(settings=flash())
    conversation.add_user("Review this", [attach("src/app.py", SOURCE)])
    content = build_chat_request(conversation, Catalogue()).body["messages"][-1]["content"]
    assert content == "Review this\n\nsrc/app.py\n```python\ndef main():\n    print('hi')\n```"


def test_a_fence_in_the_file_gets_a_longer_fence():
    conversation = Conversation(settings=flash())
    conversation.add_user("", [attach("README.md", b"Run:\n```sh\nmake\n```\n")])
    content = build_chat_request(conversation, Catalogue()).body["messages"][-1]["content"]
    assert content == "README.md\n````markdown\nRun:\n```sh\nmake\n```\n````"


def test_an_image_goes_as_an_image_url_part_with_a_data_url_to_a_vision_model():
    conversation = Conversation(settings=flash())
    conversation.add_user("What is this?", [attach("shot.png", PNG), attach("a.py", SOURCE)])
    request = build_chat_request(conversation, Catalogue())
    image, text = request.body["messages"][-1]["content"]
    assert image == {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64," + base64.b64encode(PNG).decode()},
    }
    assert text["type"] == "text" and text["text"].startswith("What is this?\n\na.py\n```python\n")
    assert request.notes == ()


def test_a_model_without_vision_gets_a_note_in_place_of_the_image_and_the_user_is_told():
    conversation = Conversation(settings=pro())
    conversation.add_user("What is this?", [attach("shot.png", PNG)])
    request = build_chat_request(conversation, Catalogue())
    assert request.body["messages"][-1]["content"] == (
        "What is this?\n\n[Image shot.png not sent: deepseek-v4-pro does not see images.]"
    )
    assert request.notes == (
        "shot.png was not sent: deepseek-v4-pro does not see images (a note says so in its place).",
    )


def test_every_user_message_of_the_branch_carries_its_attachments():
    conversation = Conversation(settings=flash())
    conversation.add_user("first", [attach("shot.png", PNG)])
    reply = conversation.start_assistant("deepseek-flash", False)
    reply.content = "An image."
    conversation.finish_assistant(reply.id)
    conversation.add_user("second", [attach("a.py", SOURCE)])
    messages = build_chat_request(conversation, Catalogue()).body["messages"]
    assert messages[0]["content"][0]["type"] == "image_url"
    assert messages[2]["content"].startswith("second\n\na.py\n")


def test_send_check_finds_unseen_images_and_a_model_that_sees_them():
    conversation = Conversation(settings=pro())
    path = prospective_path(conversation, "look", [attach("shot.png", PNG)])
    check = check_send(path, Catalogue(), pro())
    assert [a.name for a in check.unseen_images] == ["shot.png"] and check.vision_model == "deepseek-flash"
    assert check_send(path, Catalogue(), flash()).ok


def test_a_request_over_the_size_limit_is_refused_before_anything_is_added():
    catalogue = Catalogue().with_overrides({"deepseek-flash": {"max_request_bytes": 2000}})
    conversation = Conversation(settings=flash())
    big = attach("shot.png", png_bytes(40, 40))
    check = check_send(prospective_path(conversation, "look", [big]), catalogue, flash())
    assert check.too_large is not None
    assert (
        check.too_large.startswith("This request would be 5.8 KB;")
        and "deepseek-flash takes 2.0 KB at most" in check.too_large
    )
    conversation.add_user("look", [big])
    with pytest.raises(RequestTooLarge):
        prepare_reply(conversation, catalogue)
    assert [m.role for m in conversation.active_path()] == ["user"]  # no streaming reply was added


def test_edit_keeps_the_attachments_unless_given_others():
    conversation = Conversation(settings=flash())
    image = attach("shot.png", PNG)
    first = conversation.add_user("What is it?", [image])
    edited = conversation.edit_user(first.id, "What colour is it?")
    assert edited.attachments == (image,) and edited.attachments[0].data == PNG
    assert conversation.edit_user(first.id, "No file", []).attachments == ()


def test_files_sent_without_words_name_the_conversation():
    conversation = Conversation(settings=flash())
    conversation.add_user("", [attach("shot.png", PNG), attach("a.py", SOURCE)])
    assert conversation.title == "shot.png, a.py"


# --- store, export, import ---------------------------------------------------------------------------


def stored_conversation(store: SessionStore) -> Conversation:
    conversation = Conversation(settings=flash())
    conversation.add_user("What is this?", [attach("shot.png", PNG), attach("src/a.py", SOURCE)])
    store.save(conversation)
    return conversation


def test_session_files_name_attachments_by_hash_and_the_bytes_are_beside_them(tmp_path):
    store = SessionStore(tmp_path / "sessions")
    conversation = stored_conversation(store)
    document = json.loads((tmp_path / "sessions" / f"{conversation.id}.json").read_text())
    assert document["schema_version"] == 2  # a reader of schema 1 would drop the attachments
    entry = document["messages"][0]["attachments"][0]
    assert entry == {
        "name": "shot.png",
        "sha256": hashlib.sha256(PNG).hexdigest(),
        "size": len(PNG),
        "media_type": "image/png",
    }
    blob = tmp_path / "sessions" / "attachments" / entry["sha256"]
    assert blob.read_bytes() == PNG and oct(blob.stat().st_mode & 0o777) == "0o600"
    loaded = store.load(conversation.id)
    assert [(a.name, a.data) for a in loaded.active_path()[0].attachments] == [("shot.png", PNG), ("src/a.py", SOURCE)]


def test_sessions_without_attachments_stay_schema_1(tmp_path):
    store = SessionStore(tmp_path / "sessions")
    conversation = Conversation(settings=flash())
    conversation.add_user("hello")
    path = store.save(conversation)
    assert json.loads(path.read_text())["schema_version"] == 1


def test_duplicates_and_copies_share_the_stored_bytes(tmp_path):
    store = SessionStore(tmp_path / "sessions")
    conversation = stored_conversation(store)
    twin = store.duplicate(conversation.id)
    assert twin.active_path()[0].attachments[0].data == PNG
    assert sorted(p.name for p in (tmp_path / "sessions" / "attachments").iterdir()) == sorted(
        [hashlib.sha256(PNG).hexdigest(), hashlib.sha256(SOURCE).hexdigest()]
    )


def test_a_missing_attachment_is_reported_and_the_session_still_opens(tmp_path):
    store = SessionStore(tmp_path / "sessions")
    conversation = stored_conversation(store)
    (tmp_path / "sessions" / "attachments" / hashlib.sha256(PNG).hexdigest()).unlink()
    loaded = SessionStore(tmp_path / "sessions").load(conversation.id)
    image, source = loaded.active_path()[0].attachments
    assert (image.data, image.problem) == (None, MISSING) and source.data == SOURCE
    request = build_chat_request(loaded, Catalogue())
    assert "[Attachment shot.png (" in request.body["messages"][-1]["content"]
    assert request.notes and "shot.png was not sent" in request.notes[0]
    assert "not available" in markdown_text(loaded)


def test_a_damaged_attachment_is_reported_kept_and_replaced_when_attached_again(tmp_path):
    store = SessionStore(tmp_path / "sessions")
    conversation = stored_conversation(store)
    blob = tmp_path / "sessions" / "attachments" / hashlib.sha256(PNG).hexdigest()
    blob.write_bytes(b"scribbled over")
    fresh = SessionStore(tmp_path / "sessions")
    loaded = fresh.load(conversation.id)
    assert loaded.active_path()[0].attachments[0].problem == DAMAGED
    again = Conversation(settings=flash())
    again.add_user("again", [attach("shot.png", PNG)])
    fresh.save(again)
    assert blob.read_bytes() == PNG
    assert blob.with_name(blob.name + ".damaged").read_bytes() == b"scribbled over"  # never overwritten


def test_json_export_embeds_the_attachments_and_imports_without_the_store(tmp_path):
    store = SessionStore(tmp_path / "one")
    conversation = stored_conversation(store)
    exported = store.export_json(store.load(conversation.id), tmp_path / "export.json")
    document = json.loads(exported.read_text())
    assert base64.b64decode(document["messages"][0]["attachments"][0]["data"]) == PNG
    other = SessionStore(tmp_path / "two")  # another machine: no attachment files at all
    imported = other.import_json(exported)
    reloaded = SessionStore(tmp_path / "two").load(imported.id)
    assert [(a.name, a.data) for a in reloaded.active_path()[0].attachments] == [
        ("shot.png", PNG),
        ("src/a.py", SOURCE),
    ]
    assert (
        "data"
        not in json.loads((tmp_path / "two" / f"{imported.id}.json").read_text())["messages"][0]["attachments"][0]
    )


def test_an_export_whose_embedded_bytes_do_not_match_is_refused(tmp_path):
    store = SessionStore(tmp_path / "one")
    exported = store.export_json(stored_conversation(store), tmp_path / "export.json")
    document = json.loads(exported.read_text())
    document["messages"][0]["attachments"][0]["data"] = base64.b64encode(b"other bytes").decode()
    exported.write_text(json.dumps(document))
    with pytest.raises(Exception, match="do not match the attachment's sha256"):
        read_export(exported)


def test_markdown_export_lists_the_attachments(tmp_path):
    text = markdown_text(stored_conversation(SessionStore(tmp_path / "s")))
    assert "**Attachments**\n\n- `shot.png` (PNG image, 150 B)\n- `src/a.py` (text, 28 B)" in text.replace(
        f"{len(PNG)} B", "150 B"
    )


@pytest.mark.parametrize("fmt", ["json", "toml"])
def test_attachment_references_round_trip_in_both_formats(fmt):
    conversation = Conversation(settings=flash())
    conversation.add_user("x", [attach("shot.png", PNG)])
    decoded = codec.decode(codec.encode(conversation, fmt), fmt)
    assert decoded.active_path()[0].attachments == conversation.active_path()[0].attachments
    assert decoded.active_path()[0].attachments[0].data is None  # the store reads the bytes


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"sha256": "../../etc/passwd"}, "not a SHA-256 hash"),
        ({"media_type": "application/x-sh"}, "is not one of"),
        ({"size": -1}, "negative"),
    ],
)
def test_bad_attachment_entries_are_reported(change, reason):
    conversation = Conversation(settings=flash())
    conversation.add_user("x", [attach("shot.png", PNG)])
    document = json.loads(codec.encode(conversation, "json"))
    document["messages"][0]["attachments"][0].update(change)
    with pytest.raises(CodecError, match=reason):
        codec.decode(json.dumps(document).encode(), "json")


# --- the user's files ---------------------------------------------------------------------------------


@pytest.fixture
def workdir(tmp_path):
    work = tmp_path / "work"
    (work / "src").mkdir(parents=True)
    (work / "src" / "app.py").write_bytes(SOURCE)
    (work / "src" / "api.py").write_bytes(b"x = 1\n")
    (work / "My Shot.png").write_bytes(PNG)
    (work / "notes.md").write_text("# notes\n")
    (work / ".hidden").write_text("secret\n")
    return work


def test_path_completion_lists_folders_first_filters_and_hides_dotfiles(workdir):
    assert [c.value for c in path_candidates("", workdir)] == ["src/", "My Shot.png", "notes.md"]
    assert [c.value for c in path_candidates("src/a", workdir)] == ["src/api.py", "src/app.py"]
    assert [c.value for c in path_candidates("s", workdir)] == [
        "src/",
        "My Shot.png",
        "notes.md",
    ]  # starts, then contains
    assert [c.value for c in path_candidates(".h", workdir)] == [".hidden"]
    assert path_candidates("nowhere/", workdir) == []


@pytest.mark.parametrize(
    "paste",
    [
        "'{dir}/My Shot.png' ",  # GNOME Terminal: quoted, a trailing space
        "{dir}/My\\ Shot.png",  # iTerm2, kitty: escaped
        "file://{dir}/My%20Shot.png",  # a file URL
        "{dir}/My Shot.png",  # an unquoted name with a space
    ],
)
def test_pasted_paths_of_dropped_files_are_recognised(workdir, paste):
    assert pasted_files(paste.format(dir=workdir), workdir) == [workdir / "My Shot.png"]


def test_several_dropped_files_and_what_is_not_a_drop(workdir):
    both = f"'{workdir}/notes.md' '{workdir}/src/app.py'"
    assert pasted_files(both, workdir) == [workdir / "notes.md", workdir / "src" / "app.py"]
    assert pasted_files(f"{workdir}/missing.txt", workdir) is None
    assert pasted_files(f"see {workdir}/notes.md", workdir) is None
    assert pasted_files("notes.md", workdir) is None  # relative: typed text, not a drop
    assert pasted_files(f"{workdir}/src", workdir) is None  # a folder


def test_reading_an_attachment_names_it_relative_to_the_working_directory(workdir):
    attachment = read_attachment(str(workdir / "src" / "app.py"), workdir, LIMITS)
    assert (attachment.name, attachment.data) == ("src/app.py", SOURCE)
    assert display_name(Path("/elsewhere/x.txt"), workdir) == "/elsewhere/x.txt"
    assert resolve("~/x", workdir) == Path(os.path.expanduser("~/x"))
    with pytest.raises(AttachmentError, match="does not exist"):
        read_attachment("gone.txt", workdir, LIMITS)
    with pytest.raises(AttachmentError, match="is a directory"):
        read_attachment("src", workdir, LIMITS)


def test_a_named_pipe_is_refused_without_blocking(workdir):
    os.mkfifo(workdir / "pipe")
    with pytest.raises(AttachmentError, match="named pipe"):
        read_attachment("pipe", workdir, LIMITS)


# --- previews ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("filters", [(0,), (1,), (2,), (3,), (4,), (0, 1, 2, 3, 4)])
def test_png_previews_undo_every_filter(filters):
    preview = png_preview(png_bytes(7, 5, filters=filters), 7, 5)
    assert preview.rows == tuple(tuple(gradient(x, y) for x in range(7)) for y in range(5))


def test_a_preview_is_sampled_down_keeping_the_aspect_ratio():
    preview = png_preview(png_bytes(64, 32), 16, 16)
    assert (preview.width, preview.height, preview.image_width) == (16, 8, 64)


def test_what_cannot_be_previewed_says_so():
    with pytest.raises(PreviewUnavailable):
        png_preview(JPEG, 8, 8)
    with pytest.raises(PreviewUnavailable):
        png_preview(PNG[:40], 8, 8)


def test_a_message_another_window_saved_arrives_with_its_attachments(tmp_path):
    first, second = SessionStore(tmp_path / "sessions"), SessionStore(tmp_path / "sessions")
    conversation = Conversation(settings=flash())
    conversation.add_user("hello")
    first.save(conversation)
    elsewhere = second.load(conversation.id)
    conversation.add_user("look", [attach("shot.png", PNG)])
    first.save(conversation)
    elsewhere.add_user("meanwhile")
    second.save(elsewhere)  # merges the other window's message in
    adopted = next(m for m in elsewhere.messages if m.content == "look")
    assert adopted.attachments[0].data == PNG
