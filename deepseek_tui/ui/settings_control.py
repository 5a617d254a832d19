"""The chat settings on their way from the user to the next turn and the config: the mode key,
the settings pane (built the first time it is shown), the side column it shares with the
reasoning pane, and saving the config a moment after the last change (settings, theme)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from textual.timer import Timer

from deepseek_tui import labels as fmt
from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.config import save_config
from deepseek_tui.conversation.request import adjusted_settings, inert_settings
from deepseek_tui.model_choice import after_change, effort_choice
from deepseek_tui.ui.widgets.prompt import PromptArea
from deepseek_tui.ui.widgets.reasoning import ReasoningPane
from deepseek_tui.ui.widgets.settings import SettingsPane

if TYPE_CHECKING:
    from deepseek_tui.ui.app import DeepSeekApp

CONFIG_SAVE_DELAY = 0.5
"""Seconds after the last change before the config is written (a burst of changes saves once)."""


class SettingsController:
    """Owned by the app: applies settings to the open conversation and the config default, keeps
    the settings pane in step with them, shows and hides the side panes, and saves the config."""

    def __init__(self, app: DeepSeekApp) -> None:
        self.app = app
        self._save_timer: Timer | None = None

    # --- applying settings ----------------------------------------------------------------------

    def toggle_mode(self) -> None:
        app = self.app
        settings = app.conversation.settings
        model, thinking = app.catalogue.toggle_thinking(settings.model, settings.thinking)
        self.apply(settings.updated(model=model, thinking=thinking))
        mode = fmt.mode_label(app.catalogue, model, thinking, settings.reasoning_effort)
        app.notify(f"Next turn: {model} · {mode}", timeout=2)

    def apply(self, settings: ChatSettings, *, reload_pane: bool = True) -> None:
        """Use `settings` from the next turn on, in this conversation and as the config default."""
        app = self.app
        app.conversation.settings = settings
        app.config = replace(app.config, chat=settings)
        app.refresh_attachment_bar()  # the new model may not see images
        if reload_pane:
            self.load_pane()
        elif (pane := self.pane()) is not None:
            pane.mark_inert(inert_settings(settings, app.catalogue), adjusted_settings(settings, app.catalogue))
        app.refresh_status()
        app.save_conversation()
        self.schedule_save()

    def changed(self, event: SettingsPane.Changed) -> None:
        """A field of the pane changed: what it implies for the others, then apply."""
        settings = after_change(event.settings, event.field, self.app.catalogue)
        self.apply(settings, reload_pane=event.field in ("model", "thinking", "reasoning_effort"))

    # --- the panes ------------------------------------------------------------------------------

    def pane(self) -> SettingsPane | None:
        found = self.app.query(SettingsPane)
        return found.first() if found else None

    async def mount_pane(self) -> SettingsPane:
        app = self.app
        pane = SettingsPane(app.conversation.settings, app.catalogue.offered_ids(), id="settings")
        await app.query_one("#side").mount(pane)
        self.load_pane()
        return pane

    def load_pane(self) -> None:
        pane = self.pane()
        if pane is None:
            return
        catalogue = self.app.catalogue
        settings = self.app.conversation.settings
        spec = catalogue.get(settings.model)
        efforts, effort = effort_choice(settings, catalogue)
        pane.load(
            settings,
            models=catalogue.offered_ids(),
            efforts=efforts,
            effort=effort,
            max_tokens_limit=spec.max_output_tokens,
            inert=inert_settings(settings, catalogue),
            adjusted=adjusted_settings(settings, catalogue),
        )

    async def toggle_pane(self) -> None:
        pane = self.pane()
        if pane is None:
            pane = await self.mount_pane()
        else:
            pane.display = not pane.display
        self.update_side_visibility()
        if pane.display:  # opened to change something: the first field takes the keys
            first = next((widget for widget in pane.query("*") if widget.focusable), None)
            if first is not None:
                first.focus()

    def toggle_reasoning(self) -> None:
        pane = self.app.query_one(ReasoningPane)
        pane.display = not pane.display
        self.update_side_visibility()

    def update_side_visibility(self) -> None:
        app = self.app
        settings = self.pane()
        app.query_one("#side").display = app.query_one(ReasoningPane).display or (
            settings is not None and settings.display
        )
        focused = app.focused
        if focused is None or not all(node.display for node in focused.ancestors_with_self):
            app.query_one(PromptArea).focus()  # typing never goes into a pane that was just hidden

    # --- the config -----------------------------------------------------------------------------

    def schedule_save(self) -> None:
        if not self.app.persist_config:
            return
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_timer = self.app.set_timer(CONFIG_SAVE_DELAY, self.save_now)

    def save_now(self) -> None:
        self._save_timer = None
        app = self.app
        if not app.persist_config:
            return
        try:
            save_config(app.config, app.config_path)
        except OSError as exc:
            app.notify(f"Could not save settings: {exc.strerror}", severity="warning")

    def theme_chosen(self, theme: str) -> None:
        """Keep the chosen theme (F1 palette → "Change theme") for the next start."""
        if self.app.config.theme != theme:
            self.app.config = replace(self.app.config, theme=theme)
            self.schedule_save()
