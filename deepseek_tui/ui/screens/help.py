"""F1 help: the current key bindings, built from the app's bindings (so remaps show)."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 100; max-width: 96%; height: 80%; border: thick $primary; background: $surface; padding: 0 1; }
    """

    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close", id="help_close")]

    def __init__(self, rows: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self._rows = rows

    def compose(self) -> ComposeResult:
        table = Table(title="Keys", expand=True, show_edge=False)
        table.add_column("Key", style="bold cyan", no_wrap=True, width=16)
        table.add_column("Action", ratio=1)
        table.add_column("Binding id", style="dim", no_wrap=True)
        for keys, description, binding_id in self._rows:
            table.add_row(keys, description, binding_id)
        table.add_row("enter", "Send the prompt", "")
        table.add_row("ctrl+j", "New line in the prompt (shift+enter too, where the terminal reports it)", "")
        table.add_row("up / down", "Earlier prompts (in an empty prompt)", "")
        with VerticalScroll():
            yield Static(table)
            yield Static(
                "All actions are also in the command palette (ctrl+p). Keys can be remapped in the "
                "config file's [keymap] table, by binding id.",
                markup=False,
            )

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
