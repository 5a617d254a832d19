"""Attachments against the local simulator over a real socket: the turn, the simulator's own rules
(vision models only, image tokens, the 48 MiB body limit) and `deepseek-tui ask -a` (issue 15)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys

import httpx
import pytest
from pngs import png_bytes

from deepseek_tui.catalogue import Catalogue
from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.client import DeepSeekClient
from deepseek_tui.config import AppConfig
from deepseek_tui.conversation.attachments import AttachmentLimits, make_attachment
from deepseek_tui.conversation.model import Conversation
from deepseek_tui.conversation.store import SessionStore
from deepseek_tui.conversation.turn import TurnEnded, prepare_reply
from deepseek_tui.pipe import ExitCode
from deepseek_tui.simulator.validation import IMAGE_TOKENS, MAX_BODY_BYTES, NO_VISION

KEY = "sk-test"
PNG = png_bytes(8, 6)
SOURCE = b"def main():\n    print('hi')\n"


def chat_bodies(simulator) -> list[dict]:
    return [r.body for r in simulator.requests if r.path.endswith("/chat/completions")]


def post(simulator, body: dict | bytes) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(
        simulator.url + "/chat/completions",
        content=content,
        timeout=30,
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
    )


def image_message(url: str) -> dict:
    return {
        "role": "user",
        "content": [{"type": "image_url", "image_url": {"url": url}}, {"type": "text", "text": "what is it?"}],
    }


DATA_URL = "data:image/png;base64," + base64.b64encode(PNG).decode()


async def run_turn(simulator, conversation: Conversation):
    turn = prepare_reply(conversation, Catalogue())
    async with DeepSeekClient(KEY, simulator.url) as client:
        events = [e async for e in turn.stream(client, currency="USD")]
    assert isinstance(events[-1], TurnEnded) and events[-1].error is None
    return turn


# --- the simulator's rules ------------------------------------------------------------------------


def test_simulator_takes_images_for_vision_models_only(simulator):
    assert post(simulator, {"model": "deepseek-flash", "messages": [image_message(DATA_URL)]}).status_code == 200
    refused = post(simulator, {"model": "deepseek-v4-pro", "messages": [image_message(DATA_URL)]})
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == NO_VISION.format(model="deepseek-v4-pro")


@pytest.mark.parametrize("url", ["data:image/png;base64,@@@", "data:text/plain;base64,aGk=", "data:image/png,raw"])
def test_simulator_refuses_a_data_url_that_is_not_a_base64_image(simulator, url):
    assert post(simulator, {"model": "deepseek-flash", "messages": [image_message(url)]}).status_code == 400


def test_simulator_counts_each_image_at_its_token_price(simulator):
    def prompt_tokens(messages: list[dict]) -> int:
        reply = post(simulator, {"model": "deepseek-flash", "messages": messages})
        return reply.json()["usage"]["prompt_tokens"]

    text_only = prompt_tokens([{"role": "user", "content": "what is it?"}])
    two_images = image_message(DATA_URL)
    two_images["content"].insert(0, {"type": "image_url", "image_url": {"url": DATA_URL}})
    assert prompt_tokens([two_images]) - text_only == 2 * IMAGE_TOKENS == 768


def test_simulator_refuses_a_body_over_the_limit(simulator):
    assert simulator.max_body_bytes == MAX_BODY_BYTES == 48 * 1024 * 1024  # reference §12
    simulator.max_body_bytes = 4096
    small = {"model": "deepseek-flash", "messages": [{"role": "user", "content": "hi"}]}
    assert post(simulator, small).status_code == 200
    big = post(simulator, {**small, "messages": [{"role": "user", "content": "x" * 5000}]})
    assert big.status_code == 413
    assert big.json()["error"]["message"] == "Request body too large: the limit is 4,096 bytes"


# --- turns with attachments -----------------------------------------------------------------------


async def test_a_text_file_reaches_the_model_as_a_fenced_block(simulator):
    conversation = Conversation(settings=ChatSettings(model="deepseek-flash", thinking=False))
    conversation.add_user("Review it", [make_attachment("src/app.py", SOURCE, AttachmentLimits())])
    turn = await run_turn(simulator, conversation)
    assert chat_bodies(simulator)[-1]["messages"][-1]["content"] == (
        "Review it\n\nsrc/app.py\n```python\ndef main():\n    print('hi')\n```"
    )
    assert turn.message.status == "complete" and "You asked: “Review it src/app.py" in turn.message.content


async def test_an_image_reaches_a_vision_model_and_is_counted(simulator):
    conversation = Conversation(settings=ChatSettings(model="deepseek-flash", thinking=False))
    conversation.add_user("What is it?", [make_attachment("shot.png", PNG, AttachmentLimits())])
    turn = await run_turn(simulator, conversation)
    content = chat_bodies(simulator)[-1]["messages"][-1]["content"]
    assert content[0] == {"type": "image_url", "image_url": {"url": DATA_URL}}
    assert "The request carries 1 image" in turn.message.content
    assert turn.message.usage is not None and turn.message.usage.prompt_tokens > IMAGE_TOKENS
    assert turn.estimated_prompt_tokens >= IMAGE_TOKENS  # the offline estimate counts it too


async def test_images_in_history_are_sent_with_every_later_request(simulator):
    conversation = Conversation(settings=ChatSettings(model="deepseek-flash", thinking=False))
    conversation.add_user("What is it?", [make_attachment("shot.png", PNG, AttachmentLimits())])
    await run_turn(simulator, conversation)
    conversation.add_user("And its colours?")
    await run_turn(simulator, conversation)
    first, later = chat_bodies(simulator)[-1]["messages"][0], chat_bodies(simulator)[-1]["messages"][-1]
    assert first["content"][0]["image_url"]["url"] == DATA_URL and later["content"] == "And its colours?"


async def test_a_missing_attachment_after_reload_is_sent_as_a_note(simulator, tmp_path):
    store = SessionStore(tmp_path / "sessions")
    conversation = Conversation(settings=ChatSettings(model="deepseek-flash", thinking=False))
    conversation.add_user("What is it?", [make_attachment("shot.png", PNG, AttachmentLimits())])
    store.save(conversation)
    (tmp_path / "sessions" / "attachments" / hashlib.sha256(PNG).hexdigest()).unlink()
    reloaded = SessionStore(tmp_path / "sessions").load(conversation.id)
    turn = await run_turn(simulator, reloaded)
    assert "could not be sent" in chat_bodies(simulator)[-1]["messages"][-1]["content"]
    assert turn.notes and "shot.png was not sent" in turn.notes[0]


# --- ask -a ---------------------------------------------------------------------------------------


@pytest.fixture
def ask(simulator, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "shot.png").write_bytes(PNG)
    (work / "app.py").write_bytes(SOURCE)
    (work / "blob.bin").write_bytes(b"\x00\x01\x02")
    env = dict(os.environ, DEEPSEEK_API_KEY=KEY, DEEPSEEK_BASE_URL=simulator.url, PYTHONIOENCODING="utf-8")

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "-m", "deepseek_tui", "ask", *args],
            input=stdin,
            cwd=work,
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=env,
            timeout=30,
        )
        assert "Traceback" not in done.stderr
        return done

    return run


def test_ask_sends_attached_files_with_the_prompt_from_stdin(ask, simulator):
    done = ask("-a", "shot.png", "--attach", "app.py", "--save", stdin="What is wrong here?\n")
    assert done.returncode == ExitCode.OK, done.stderr
    content = chat_bodies(simulator)[-1]["messages"][-1]["content"]
    assert content[0]["image_url"]["url"] == DATA_URL
    assert content[1]["text"] == "What is wrong here?\n\napp.py\n```python\ndef main():\n    print('hi')\n```"
    assert "The request carries 1 image" in done.stdout
    saved = SessionStore(AppConfig().sessions_dir())
    session = saved.load(saved.list_sessions()[0].id)
    assert [a.name for a in session.active_path()[0].attachments] == ["shot.png", "app.py"]


def test_ask_refuses_an_image_for_a_model_without_vision_before_sending(ask, simulator):
    done = ask("-a", "shot.png", "--model", "deepseek-v4-pro", "look")
    assert done.returncode == ExitCode.USAGE
    assert "deepseek-v4-pro does not see images (shot.png)" in done.stderr and "--model deepseek-flash" in done.stderr
    assert chat_bodies(simulator) == []


@pytest.mark.parametrize(
    "name, reason", [("blob.bin", "binary files cannot be attached"), ("missing.txt", "does not exist")]
)
def test_ask_refuses_a_file_it_cannot_attach(ask, simulator, name, reason):
    done = ask("-a", name, "look")
    assert done.returncode == ExitCode.USAGE and reason in done.stderr
    assert chat_bodies(simulator) == []


def test_ask_with_files_only_needs_no_words(ask, simulator):
    assert ask("-a", "app.py", stdin="").returncode == ExitCode.OK
    assert chat_bodies(simulator)[-1]["messages"][-1]["content"].startswith("app.py\n```python")
