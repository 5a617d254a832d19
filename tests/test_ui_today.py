"""The TUI against DeepSeek as it is today (V4.1, reference §12), over a real socket to the simulator:
retired model names, the model list from /models, the unsupported-model 400, aborted answers,
unknown prices and peak pricing on the status line."""

from __future__ import annotations

import json
import threading

from textual.widgets import Input, OptionList, Select
from ui_support import SIZE, keep_notifications, make_app, reply, send, wait_for_screen, wait_until

from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.labels import money
from deepseek_tui.models_cache import ModelsCache
from deepseek_tui.simulator import Fault
from deepseek_tui.ui.screens.dialogs import ChooseScreen
from deepseek_tui.ui.screens.transfer import ImportScreen
from deepseek_tui.ui.widgets.messages import AnswerBlock
from deepseek_tui.ui.widgets.settings import SettingRow
from deepseek_tui.ui.widgets.status import StatusLine

SESSION_ID = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def old_session_document() -> dict:
    """A session file as deepseek-tui wrote it before V4.1: deepseek-reasoner everywhere, and the
    old default thinking=False in the settings (the reasoner always thought anyway)."""
    return {
        "kind": "deepseek-tui-session",
        "schema_version": 1,
        "id": SESSION_ID,
        "created_at": "2026-07-01T10:00:00+00:00",
        "updated_at": "2026-07-01T10:00:10+00:00",
        "active_leaf_id": "a1",
        "settings": {"model": "deepseek-reasoner", "thinking": False, "json_output": False, "system_prompt": ""},
        "messages": [
            {
                "id": "u1",
                "role": "user",
                "status": "complete",
                "content": "What is 2 + 2?",
                "thinking": False,
                "created_at": "2026-07-01T10:00:00+00:00",
            },
            {
                "id": "a1",
                "parent_id": "u1",
                "role": "assistant",
                "status": "complete",
                "content": "It is 4.",
                "reasoning": "A simple sum.",
                "model": "deepseek-reasoner",
                "thinking": True,
                "usage": {
                    "prompt_tokens": 12,
                    "completion_tokens": 30,
                    "cache_hit_tokens": 0,
                    "cache_miss_tokens": 12,
                    "reasoning_tokens": 20,
                },
                "cost": 0.0042,
                "currency": "USD",
                "finish_reason": "stop",
                "created_at": "2026-07-01T10:00:01+00:00",
                "completed_at": "2026-07-01T10:00:05+00:00",
            },
        ],
    }


def chat_bodies(simulator) -> list[dict]:
    return [r.body for r in simulator.requests if r.path.endswith("/chat/completions")]


def chat_requests_paths(simulator) -> list[str]:
    return [r.path for r in simulator.requests if r.path.endswith("/chat/completions")]


def choices(app, selector: str) -> list:
    return [value for _, value in app.query_one(selector, Select)._options]


def model_choices(app) -> list:
    return choices(app, "#setting-model")


def status_text(app) -> str:
    return str(app.query_one(StatusLine).render())


def warnings(kept) -> list[str]:
    return [n.message for n in kept]


async def test_an_old_reasoner_session_continues_on_deepseek_flash_with_its_costs(simulator, tmp_path):
    sessions = tmp_path / "data" / "sessions"
    sessions.mkdir(parents=True)
    (sessions / f"{SESSION_ID}.json").write_text(json.dumps(old_session_document()))
    app = make_app(simulator.url, tmp_path)
    kept = keep_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: any("deepseek-reasoner was retired" in m for m in warnings(kept)))  # notify posts
        told = [m for m in warnings(kept) if "deepseek-reasoner was retired" in m]
        assert app.conversation.id == SESSION_ID and told == [
            "deepseek-reasoner was retired by DeepSeek on 2026-07-24: this conversation now uses "
            "deepseek-flash with thinking on."
        ]
        old_meta = str(app.query(AnswerBlock).first().query_one(".meta").render())
        assert "deepseek-reasoner" in old_meta and "$0.0042" in old_meta  # history and its cost stay
        assert "Σ $0.0042" in status_text(app)
        await send(app, pilot, "And 3 + 3?")
        body = chat_bodies(simulator)[-1]
        assert body["model"] == "deepseek-flash" and body["thinking"] == {"type": "enabled"}
        old, new = [m for m in app.conversation.active_path() if m.role == "assistant"]
        assert (old.model, old.cost) == ("deepseek-reasoner", 0.0042)
        assert new.model == "deepseek-flash" and new.reasoning and new.cost is not None
        assert f"Σ {money(0.0042 + new.cost, 'USD')}" in status_text(app)
        await app.show_conversation(app.conversation)
        app.notify("sentinel")  # notifications arrive in order: once it is there, any other is too
        await wait_until(lambda: "sentinel" in warnings(kept))
        assert len([m for m in warnings(kept) if "retired" in m]) == 1  # told once


async def test_an_imported_export_naming_deepseek_chat_continues_without_thinking(simulator, tmp_path):
    document = old_session_document()
    document["settings"]["model"] = "deepseek-chat"
    export = tmp_path / "old-export.json"
    export.write_text(json.dumps(document))
    app = make_app(simulator.url, tmp_path, chat=ChatSettings(model="deepseek-v4-pro", thinking=True))
    kept = keep_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f9")
        screen = await wait_for_screen(app, ImportScreen)
        screen.query_one(Input).value = str(export)
        await pilot.press("enter")
        await wait_until(lambda: app.conversation.id == SESSION_ID)
        assert (app.conversation.settings.model, app.conversation.settings.thinking) == ("deepseek-flash", False)
        await wait_until(lambda: any(m.startswith("deepseek-chat was retired by DeepSeek") for m in warnings(kept)))
        await send(app, pilot, "And now?")
        body = chat_bodies(simulator)[-1]
        assert body["model"] == "deepseek-flash" and body["thinking"] == {"type": "disabled"}


async def test_a_config_naming_a_retired_model_is_told_once_and_updated(simulator, tmp_path):
    from deepseek_tui.config import load_config

    config_file = tmp_path / "config.toml"
    config_file.write_text('[chat]\nmodel = "deepseek-chat"\n')
    loaded = load_config(config_file)
    app = make_app(
        simulator.url,
        tmp_path,
        chat=loaded.chat,
        notices=loaded.notices,
        names_retired_model=loaded.names_retired_model,
    )
    kept = keep_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: any(m.startswith("deepseek-chat was retired by DeepSeek") for m in warnings(kept)))
        await wait_until(lambda: config_file.exists() and "deepseek-flash" in config_file.read_text())
        assert 'model = "deepseek-chat"' not in config_file.read_text()
        await send(app, pilot, "hello")
        body = chat_bodies(simulator)[-1]
        assert body["model"] == "deepseek-flash" and body["thinking"] == {"type": "disabled"}


async def test_an_unsupported_model_offers_a_one_key_switch(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path, chat=ChatSettings(model="deepseek-v9"))
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "hello")
        screen = await wait_for_screen(app, ChooseScreen)
        options = screen.query_one(OptionList)
        assert [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)] == [
            "deepseek-flash",
            "deepseek-v4-pro",
        ]
        assert app.conversation.active_path()[-1].status == "failed"
        await pilot.press("enter")  # the one key
        await wait_until(lambda: app.conversation.settings.model == "deepseek-flash")
        await reply(app, pilot, "ctrl+r")
        assert chat_bodies(simulator)[-1]["model"] == "deepseek-flash"
        assert app.conversation.active_path()[-1].status == "complete"


async def test_an_aborted_answer_is_kept_and_continues_with_f5(simulator, tmp_path):
    simulator.inject(Fault.aborted(after_chunks=8))
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "tell me a long story")
        answer = app.conversation.active_path()[-1]
        arrived = answer.content
        assert answer.status == "partial" and arrived and "aborted" in (answer.error or "")
        note = str(app.query(AnswerBlock).last().query_one(".error").render())
        assert "DeepSeek aborted the answer" in note and note.endswith("F5 continues it.")
        await reply(app, pilot, "f5")
        assert chat_requests_paths(simulator)[-1] == "/beta/chat/completions"
        assert answer.status == "complete" and answer.content.startswith(arrived) and len(answer.content) > len(arrived)


async def test_the_model_list_comes_from_models_and_is_cached_for_a_day(simulator, tmp_path, pinned_clock):
    simulator.listed_models = ["deepseek-flash", "deepseek-flash-2"]  # DeepSeek moved on
    app = make_app(simulator.url, tmp_path, show_settings=True)
    async with app.run_test(size=SIZE):
        await wait_until(lambda: model_choices(app) == ["deepseek-flash", "deepseek-flash-2"])
        assert app.catalogue.unlisted_ids() == ["deepseek-v4-pro"]  # retired: not offered
        newcomer = app.catalogue.get("deepseek-flash-2")
        assert not newcomer.known and newcomer.pricing is None
    cached = ModelsCache(simulator.url).load()
    assert cached is not None and cached.ids == ("deepseek-flash", "deepseek-flash-2")

    models_requests = lambda: [r for r in simulator.requests if r.path == "/models"]  # noqa: E731
    assert len(models_requests()) == 1
    again = make_app(simulator.url, tmp_path)
    async with again.run_test(size=SIZE):
        await wait_until(lambda: bool(again.account.balance_text))
        assert again.account.listing_fresh and again.catalogue.offered_ids() == ["deepseek-flash", "deepseek-flash-2"]
    assert len(models_requests()) == 1  # a fresh cache: no request

    pinned_clock.advance(hours=25)
    stale = make_app(simulator.url, tmp_path)
    async with stale.run_test(size=SIZE):
        await wait_until(lambda: len(models_requests()) == 2)
        await wait_until(lambda: stale.account.listing_fresh)


async def test_a_corrupt_model_cache_is_ignored_and_replaced(simulator, tmp_path):
    cache = ModelsCache(simulator.url)
    cache.path.parent.mkdir(parents=True, exist_ok=True)
    cache.path.write_text('{"version": 1, "listings": {"')
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE):
        await wait_until(lambda: app.account.listing_fresh)
    assert cache.load().ids == ("deepseek-flash", "deepseek-v4-pro")


async def test_unknown_prices_say_unknown(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path, currency="CNY")  # deepseek-flash has no off-peak CNY price
    async with app.run_test(size=SIZE) as pilot:
        await send(app, pilot, "hello")
        reply = app.conversation.active_path()[-1]
        assert reply.usage is not None and reply.cost is None
        assert "cost unknown" in str(app.query(AnswerBlock).last().query_one(".meta").render())
        assert "Σ cost unknown" in status_text(app)


async def test_the_status_line_says_when_peak_pricing_is_in_force(simulator, tmp_path, any_moment):
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE):
        await wait_until(lambda: "bal ¥" in status_text(app))  # the account has arrived: the line is complete
        if any_moment == "weekday-peak":
            assert "peak ×2 until 10:00 UTC" in status_text(app)
        else:
            assert "peak" not in status_text(app)


async def test_effort_choice_and_top_p_in_the_settings_pane(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path, chat=ChatSettings(model="deepseek-flash", top_p=0.5), show_settings=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: choices(app, "#setting-reasoning_effort") == ["none", "low", "high", "max"])
        effort = app.query_one("#setting-reasoning_effort", Select)
        assert effort.value == "none"  # thinking is off
        top_p = app.query_one("#row-top_p", SettingRow)
        assert top_p.has_class("-inert")  # fixed at 1.0 without thinking
        effort.value = "max"  # a thinking effort switches thinking on
        await wait_until(lambda: app.conversation.settings.thinking and not top_p.has_class("-inert"))
        assert app.conversation.settings.reasoning_effort == "max"
        assert "0.95 is sent" in str(top_p.query_one(".note").render())
        await send(app, pilot, "think hard")
        body = chat_bodies(simulator)[-1]
        assert body["reasoning_effort"] == "max" and body["top_p"] == 0.95 and "temperature" not in body
        await pilot.press("ctrl+t")  # ctrl+t still toggles thinking
        await wait_until(lambda: not app.conversation.settings.thinking and effort.value == "none")
        effort.value = "high"
        await wait_until(lambda: app.conversation.settings.thinking)
        effort.value = "none"
        await wait_until(lambda: not app.conversation.settings.thinking)
        await send(app, pilot, "plain")
        body = chat_bodies(simulator)[-1]
        assert body["thinking"] == {"type": "disabled"} and "top_p" not in body


async def test_start_and_chat_do_not_wait_for_models(simulator, tmp_path):
    """The list is fetched in the background: with /models held, the app starts and answers."""
    simulator.models_release = threading.Event()
    app = make_app(simulator.url, tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(lambda: any(r.path == "/models" for r in simulator.requests))
            await send(app, pilot, "hello while /models is slow")
            assert app.conversation.active_path()[-1].status == "complete"
            assert not app.account.listing_fresh
            simulator.models_release.set()
            await wait_until(lambda: app.account.listing_fresh)
    finally:
        simulator.models_release.set()


async def test_the_demo_shows_deepseek_flash(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path, chat=ChatSettings(), demo=True, show_settings=True)
    async with app.run_test(size=SIZE):
        await wait_until(
            lambda: app.account.listing_fresh and model_choices(app) == ["deepseek-flash", "deepseek-v4-pro"]
        )
        assert status_text(app).startswith(" DEMO  deepseek-flash · chat")
        assert app.query_one("#setting-model", Select).value == "deepseek-flash"
