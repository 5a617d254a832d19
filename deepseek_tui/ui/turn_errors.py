"""Telling the user why a turn stopped: an API error with the fix it points to (the key screen,
or a choice of the models the API accepts), or a bug, written to a crash report file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from deepseek_tui.client.errors import DeepSeekError, UnsupportedModel
from deepseek_tui.crash import write_crash_report
from deepseek_tui.model_choice import after_change
from deepseek_tui.ui.screens.dialogs import ChooseScreen
from deepseek_tui.ui.status_report import error_notice

if TYPE_CHECKING:
    from deepseek_tui.ui.app import DeepSeekApp


class TurnErrors:
    """Owned by the app; the turn worker hands it what ended a turn badly."""

    def __init__(self, app: DeepSeekApp) -> None:
        self.app = app

    def report_bug(self, error: Exception) -> str:
        """Write the traceback to a report file and say so; returns the one-line summary."""
        report = write_crash_report(error, secrets=self.app.crash_secrets())
        where = f"Details in {report.path}." if report.path else f"The details could not be written ({report.problem})."
        self.app.notify(
            f"{report.summary}. What arrived is kept. {where}",
            title="Unexpected error in this reply",
            severity="error",
            timeout=20,
        )
        return f"Stopped by an unexpected error: {report.summary}"

    def report_error(self, error: DeepSeekError) -> None:
        app = self.app
        if isinstance(error, UnsupportedModel) and error.supported:
            self._offer_models(error)
            return
        notice = error_notice(error, app.account.balance_text)
        app.notify(notice.text, title=notice.title, severity="error", timeout=notice.timeout)
        if notice.ask_for_key:
            app.account.ask_for_key(error=str(error))

    def _offer_models(self, exc: UnsupportedModel) -> None:
        """The API named the models it accepts: one key (Enter) switches to the first."""
        app = self.app

        def chosen(index: int | None) -> None:
            if index is not None:
                settings = app.conversation.settings.updated(model=exc.supported[index])
                app.apply_settings(after_change(settings, "model", app.catalogue))
                app.notify(f"Next turn: {exc.supported[index]} (ctrl+r answers again).", timeout=5)

        app.push_screen(
            ChooseScreen(
                f"DeepSeek does not accept {exc.passed}. Switch the next turn to (Enter, Esc keeps it):",
                list(exc.supported),
            ),
            chosen,
        )
