"""Export a conversation to a file, import one from a JSON export: each a one-line dialog that
does its own store operation and dismisses with what it wrote or read."""

from __future__ import annotations

from pathlib import Path

from textual import work

from deepseek_tui.conversation.model import Conversation
from deepseek_tui.conversation.store import SessionStore, StoreError, read_export
from deepseek_tui.ui.screens.dialogs import AskScreen, ConfirmScreen


class ExportScreen(AskScreen):
    """Asks where to export; `.json` writes a lossless copy, anything else Markdown. Dismisses
    with the path written (a failure is said and the dialog stays open to fix the path)."""

    def __init__(self, store: SessionStore, conversation: Conversation, suggested: Path) -> None:
        super().__init__("Export to file (.md for Markdown, .json for a lossless copy)", str(suggested))
        self.store, self.conversation = store, conversation

    def answer(self, value: str) -> None:
        if not value.strip():
            self.dismiss(None)
            return
        path = Path(value).expanduser()
        if path.is_dir():
            self.notify(f"{path} is a folder: add a file name.", severity="error")
        elif not path.parent.is_dir():
            self.notify(f"There is no folder {path.parent}: create it first, or choose another path.", severity="error")
        elif path.exists():

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self._write(path)

            self.app.push_screen(ConfirmScreen(f"{path} exists. Replace it?", yes="Replace"), confirmed)
        else:
            self._write(path)

    def _write(self, path: Path) -> None:
        try:
            if path.suffix.lower() == ".json":
                written = self.store.export_json(self.conversation, path)
            else:
                written = self.store.export_markdown(self.conversation, path)
        except (StoreError, OSError) as exc:
            self.notify(f"Export failed: {exc}", severity="error")
            return
        self.dismiss(str(written))


class ImportScreen(AskScreen):
    """Asks for a JSON export, reads it off the event loop into the store, and dismisses with the
    imported conversation's id (a failure is said and the dialog stays open)."""

    def __init__(self, store: SessionStore) -> None:
        super().__init__("Import a JSON export", placeholder="path/to/conversation.json")
        self.store = store

    def answer(self, value: str) -> None:
        if not value.strip():
            self.dismiss(None)
            return
        self._import(Path(value).expanduser())

    @work(group="import", exclusive=True, thread=True, exit_on_error=False)
    def _import(self, path: Path) -> None:
        """Read in a thread (only regular files are read, but a slow disk must not freeze the app
        either); store it on the app's thread, where every other save happens."""
        try:
            conversation = read_export(path)
        except (StoreError, OSError) as exc:
            self.app.call_from_thread(self.notify, f"Import failed: {exc}", severity="error")
            return
        self.app.call_from_thread(self._store, conversation)

    def _store(self, conversation: Conversation) -> None:
        try:
            stored = self.store.import_conversation(conversation)
        except (StoreError, OSError) as exc:
            self.notify(f"Import failed: {exc}", severity="error")
            return
        self.dismiss(stored.id)
