"""Pilot tests: JSON output mode in the chat, and the FIM screen opened from the app."""

from __future__ import annotations

import json

from textual.widgets import TextArea
from ui_support import SIZE, make_app, send, wait_for_screen, wait_until

from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.conversation.json_mode import JSON_HINT
from deepseek_tui.ui.screens.fim import FimScreen
from deepseek_tui.ui.widgets.messages import AnswerBlock


def last_chat_body(simulator) -> dict:
    return [r.body for r in simulator.requests if r.path.endswith("/chat/completions")][-1]


async def test_json_mode_adds_hint_validates_and_pretty_prints(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path, chat=ChatSettings(model="deepseek-flash", json_output=True))
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "list three fruits")
        body = last_chat_body(simulator)
        assert body["response_format"] == {"type": "json_object"}
        assert body["messages"][0] == {"role": "system", "content": JSON_HINT}
        assert app.conversation.settings.system_prompt == ""  # the hint is the request's, not the user's
        assert any("json" in n.message.lower() for n in app.notified)
        answer = app.conversation.active_path()[-1]
        shown = app.query(AnswerBlock).last().query_one(".answer").source
        assert shown == "```json\n" + json.dumps(json.loads(answer.content), indent=2, ensure_ascii=False) + "\n```"


async def test_json_mode_cut_off_reply_is_explained(simulator, tmp_path):
    settings = ChatSettings(model="deepseek-flash", json_output=True, max_tokens=5, system_prompt="Answer in json.")
    app = make_app(simulator.url, tmp_path, chat=settings)
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "big object please")
        assert app.conversation.active_path()[-1].finish_reason == "length"
        assert app.conversation.settings.system_prompt == "Answer in json."  # already said json
        error = app.query(AnswerBlock).last().query_one(".error")
        assert "max_tokens" in str(error.render())


async def test_fim_screen_from_app_completes_with_usage(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+f")
        screen = await wait_for_screen(app, FimScreen)
        areas = list(screen.query(TextArea))
        areas[0].load_text("def fib(n):\n")
        areas[-1].load_text("\nprint(fib(10))\n")
        await pilot.press("ctrl+r")
        await wait_until(lambda: screen.outcome is not None)
        fim_requests = [r for r in simulator.requests if r.path == "/beta/completions"]
        assert fim_requests and fim_requests[-1].body["prompt"] == "def fib(n):\n"
        assert screen.outcome.text and "in " in screen.outcome.usage_label
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert app.clipboard == screen.outcome.text
        await pilot.press("ctrl+g")  # accepted: the completion joins the prefix
        await pilot.pause()
        assert areas[0].text == "def fib(n):\n" + screen.outcome.text and areas[1].text == ""


async def test_json_hint_belongs_to_the_json_turn_only(simulator, tmp_path):
    """JSON on, send, JSON off, send: the second request and the config carry the user's prompt only."""
    settings = ChatSettings(model="deepseek-flash", json_output=True, system_prompt="You are terse.")
    app = make_app(simulator.url, tmp_path, chat=settings)
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "list three fruits")
        assert JSON_HINT in last_chat_body(simulator)["messages"][0]["content"]
        app.apply_settings(app.conversation.settings.updated(json_output=False))
        await send(app, pilot, "and now in prose")
        second = last_chat_body(simulator)
        assert second["messages"][0] == {"role": "system", "content": "You are terse."}
        assert "response_format" not in second
        app.save_config_now()
    assert JSON_HINT not in (tmp_path / "config.toml").read_text()
