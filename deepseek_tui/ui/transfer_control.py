"""Conversations in and out of files: exporting the open one (Markdown or JSON) and importing one
(the screens write and read the files; an imported conversation opens at once)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deepseek_tui.ui.app import DeepSeekApp


class TransferController:
    """Owned by the app; opening the imported conversation is the app's (`app.open_session`)."""

    def __init__(self, app: DeepSeekApp) -> None:
        self.app = app

    def export(self) -> None:
        app = self.app
        if not app.conversation.active_path():
            app.notify("Nothing to export yet.", severity="warning")
            return
        suggested = Path.cwd() / f"{file_stem(app.conversation.title)}.md"

        def exported(path: str | None) -> None:
            if path:
                app.notify(f"Exported to {path}", timeout=5)

        from deepseek_tui.ui.screens.transfer import ExportScreen

        app.push_screen(ExportScreen(app.store, app.conversation, suggested), exported)

    def import_session(self) -> None:
        app = self.app

        async def imported(session_id: str | None) -> None:
            if session_id:
                await app.open_session(session_id)
                app.notify(f"Imported “{app.conversation.title}”.", timeout=4)

        from deepseek_tui.ui.screens.transfer import ImportScreen

        app.push_screen(ImportScreen(app.store), imported)


def file_stem(title: str) -> str:
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in title.lower()).strip("-")
    return "-".join(filter(None, stem.split("-")))[:60] or "conversation"
