"""The account: the API key (asked for, checked against the balance endpoint, saved), connecting
the app's client with it, the balance on the status line, and the model listing from /models
(cached for a day per base URL)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from functools import partial
from importlib import import_module
from typing import TYPE_CHECKING

from textual.worker import Worker

from deepseek_tui import labels as fmt
from deepseek_tui.client.errors import AuthenticationFailed, DeepSeekError
from deepseek_tui.config import save_config
from deepseek_tui.models_cache import ModelsCache

if TYPE_CHECKING:
    from deepseek_tui.ui.app import DeepSeekApp


class AccountController:
    """Owned by the app; sets `app.client` (the turns use it) once a key is known or checked."""

    def __init__(self, app: DeepSeekApp) -> None:
        self.app = app
        self.balance_text = ""
        self.models_cache = ModelsCache(app.config.effective_base_url())
        self.listing_fresh = self.models_cache.apply_to(app.catalogue)
        """The cached /models list is under a day old; else it is fetched once connected."""

    # --- connecting -----------------------------------------------------------------------------

    def connect_soon(self, key: str) -> Worker[None]:
        """Import the HTTP client (httpx: ~0.1 s) in a thread, so the screen finishes drawing
        meanwhile (the footer's keys came a frame late when it blocked the loop), then connect."""

        async def connect() -> None:
            await asyncio.to_thread(import_module, "deepseek_tui.client.api")
            self.connect(key)

        return self.app.run_worker(connect, name="connect_soon", group="connect", exclusive=True, exit_on_error=False)

    def connect(self, key: str) -> None:
        app = self.app
        if app.client is None:
            app.client = app.client_factory(key, app.config.effective_base_url())
            self.refresh()

    def has_client(self) -> bool:
        """Connect now if the key is known but the deferred connect has not run yet."""
        key = self.app.config.effective_api_key()
        if self.app.client is None and key:
            self.connect(key)
        return self.app.client is not None

    # --- the key --------------------------------------------------------------------------------

    def ask_for_key(self, error: str = "") -> None:
        app = self.app
        from deepseek_tui.ui.screens.key import KeyScreen

        if not isinstance(app.screen, KeyScreen):
            app.push_screen(KeyScreen(error, str(app.config_path or "")), callback=self._key_entered)

    def _key_entered(self, key: str | None) -> None:
        if key is not None:
            self.validate_key(key)
        elif self.app.client is None:
            self.app.notify(
                "No key: the app cannot send. Press F12 to enter one, or start it with DEEPSEEK_API_KEY set.",
                severity="warning",
                timeout=10,
            )

    def validate_key(self, key: str) -> Worker[None]:
        """Check `key` against the balance endpoint in the background; if it works, use and save it."""
        return self.app.run_worker(
            partial(self._validate_key, key), name="validate_key", group="key", exit_on_error=False
        )

    async def _validate_key(self, key: str) -> None:
        app = self.app
        candidate = app.client_factory(key, app.config.effective_base_url())
        try:
            balance = await candidate.balance()
        except DeepSeekError as exc:
            await candidate.aclose()
            self.ask_for_key(
                error="DeepSeek rejected that key. Check it and paste it again."
                if isinstance(exc, AuthenticationFailed)
                else f"Could not check the key: {exc}"
            )
            return
        if app.client is not None:
            await app.client.aclose()
        app.client = candidate
        self.balance_text = fmt.balance_label(balance)
        app.config = replace(app.config, api_key=key)
        if app.persist_config:
            try:
                path = save_config(app.config, app.config_path)
                app.notify(f"Key saved to {path} (mode 0600).", timeout=5)
            except OSError as exc:
                app.notify(f"Key works but could not be saved: {exc.strerror}", severity="warning")
        app.refresh_status()

    # --- balance and models ---------------------------------------------------------------------

    def refresh(self) -> Worker[None]:
        """Fetch the balance (and the model list when the cached one is stale) in the background."""
        return self.app.run_worker(
            self._refresh, name="refresh_account", group="account", exclusive=True, exit_on_error=False
        )

    async def _refresh(self) -> None:
        app = self.app
        if app.client is None:
            return
        try:
            self.balance_text = fmt.balance_label(await app.client.balance())
        except DeepSeekError:
            pass
        if not self.listing_fresh:  # in the background: start never waits for /models
            offered = app.catalogue.offered_ids()
            self.listing_fresh = await self.models_cache.refresh(app.client, app.catalogue)
            if app.catalogue.offered_ids() != offered:
                app.settings.load_pane()
        app.refresh_status()
