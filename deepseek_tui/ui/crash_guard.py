"""What the app does on an unhandled exception, before Textual ends it.

Textual's own handling prints a traceback with local variables (the config and its API key
among them) and the process still exits 0 (issue 11/13). `CrashGuard` saves the conversation,
writes the traceback to a file without secrets (`deepseek_tui.crash`) and keeps Textual from
printing it; `launch.run_app` then prints one line and exits with `CRASH_EXIT_CODE`.
"""

from __future__ import annotations

from deepseek_tui.crash import CrashReport, write_crash_report


class CrashGuard:
    """Mixin for the App (before `App` in the bases). Overrides Textual's private
    `_handle_exception`; tests/test_crash_exit.py fails if Textual changes it."""

    crash_report: CrashReport | None = None
    crash_saved: bool = False
    """Whether `save_before_crash` succeeded."""

    def save_before_crash(self) -> None:
        """Save what there is; raise when it cannot be saved. The app overrides this."""

    def crash_secrets(self) -> list[str | None]:
        """Strings that must not appear in the report (the API key). The app overrides this."""
        return []

    def _handle_exception(self, error: Exception) -> None:
        if self.crash_report is None:
            try:
                self.save_before_crash()
                self.crash_saved = True
            except Exception:
                self.crash_saved = False
            self.crash_report = write_crash_report(error, secrets=self.crash_secrets())
        super()._handle_exception(error)  # type: ignore[misc]  # Textual: return code 1, exit
        self._exit_renderables.clear()  # type: ignore[attr-defined]  # the report is in the file
