"""Helpers for the Pilot tests: an app wired to the local simulator and temporary dirs."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from pathlib import Path

from textual.css.query import NoMatches
from textual.notifications import Notification
from textual.screen import Screen
from textual.worker import WorkerCancelled, WorkerFailed

from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.client import DeepSeekClient, RetryPolicy, Timeouts
from deepseek_tui.config import AppConfig
from deepseek_tui.ui.app import DeepSeekApp

SIZE = (120, 40)


def fast_client(key: str, url: str) -> DeepSeekClient:
    return DeepSeekClient(
        key, url,
        timeouts=Timeouts(connect=2, idle=3, deadline=30),
        retry=RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.2, jitter=False),
    )


def make_app(
    base_url: str,
    tmp_path: Path,
    *,
    api_key: str | None = "sk-test",
    chat: ChatSettings | None = None,
    demo: bool = False,
    **config_changes,
) -> DeepSeekApp:
    config = AppConfig(
        api_key=api_key,
        base_url=base_url,
        data_dir=str(tmp_path / "data"),
        chat=chat or ChatSettings(model="deepseek-v4-flash"),
        **config_changes,
    )
    app = DeepSeekApp(
        config, config_path=tmp_path / "config.toml", client_factory=fast_client, demo=demo
    )
    app.notified = keep_notifications(app)
    return app


def keep_notifications(app: DeepSeekApp) -> list[Notification]:
    """Every notification the app shows, in order, kept after its toast has gone.

    Textual forgets a notification once its timeout has passed by the wall clock, so checking
    `app._notifications` after a slow reply depends on the machine's speed.
    """
    kept: list[Notification] = []
    store = app._notifications
    add = store.add

    def add_and_keep(notification: Notification):
        kept.append(notification)
        return add(notification)

    store.add = add_and_keep
    return kept


async def wait_reply(app: DeepSeekApp, pilot, timeout: float = 30.0) -> None:
    """Wait until the current reply worker ended (any way) and the screen settled."""
    worker = app.turn_worker
    if worker is not None:
        with suppress(WorkerCancelled, WorkerFailed):
            await asyncio.wait_for(worker.wait(), timeout)
    await pilot.pause()


async def reply(app: DeepSeekApp, pilot, *keys: str, wait: bool = True) -> None:
    """Press `keys`, which start a reply; return once it has started (and ended, unless wait=False).

    A key reaches its action through several message queues; `pilot.press` can return before
    that on a loaded machine, so wait for the new reply worker itself.
    """
    before = app.turn_worker
    await pilot.press(*keys)
    await wait_until(lambda: app.turn_worker is not before)
    if wait:
        await wait_reply(app, pilot)


async def send(app: DeepSeekApp, pilot, text: str, *, wait: bool = True) -> None:
    prompt = app.query_one("#prompt")
    prompt.focus()
    prompt.load_text(text)
    await reply(app, pilot, "enter", wait=wait)


async def wait_for_screen(app: DeepSeekApp, kind: type[Screen]) -> Screen:
    """Wait until a screen of `kind` is on top and mounted (pushing one is not showing it yet)."""
    await wait_until(lambda: isinstance(app.screen, kind) and app.screen.is_mounted)
    return app.screen


async def wait_until(predicate, timeout: float = 10.0, interval: float = 0.02) -> None:
    """Wait until `predicate()` is true; a widget it looks for that is not there yet counts as false."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        missing: NoMatches | None = None
        try:
            if predicate():
                return
        except NoMatches as exc:
            missing = exc
        if loop.time() > end:
            raise AssertionError("condition not reached in time" + (f" ({missing})" if missing else ""))
        await asyncio.sleep(interval)
