"""The API key screen: a masked input; the app validates the key and saves it."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from deepseek_tui.ui.widgets.inert import InertStatic

KEY_HELP = (
    "Paste your DeepSeek API key (https://platform.deepseek.com/api_keys). It is checked against "
    "/user/balance, then saved to the config file with mode 0600.\n"
    "Or leave the app (ctrl+q) and set DEEPSEEK_API_KEY in your environment instead."
)


class KeyScreen(ModalScreen[str | None]):
    """Dismisses with the entered key, or None when the user gives up."""

    DEFAULT_CSS = """
    KeyScreen { align: center middle; }
    KeyScreen > Vertical { width: 80; height: auto; border: thick $primary; background: $surface; padding: 1 2; }
    KeyScreen #key-title { text-style: bold; margin: 0 0 1 0; }
    KeyScreen #key-error { color: $error; height: auto; }
    KeyScreen #key-buttons { height: auto; margin: 1 0 0 0; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="key_cancel")]

    def __init__(self, error: str = "", config_path: str = "") -> None:
        super().__init__()
        self._error = error
        self._config_path = config_path

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("DeepSeek API key", id="key-title")
            yield Static(KEY_HELP + (f"\nConfig file: {self._config_path}" if self._config_path else ""), markup=False)
            yield Input(password=True, placeholder="sk-…", id="key-input")
            yield InertStatic(self._error, id="key-error")
            with Vertical(id="key-buttons"):
                yield Button("Check and save", variant="primary", id="key-save")

    @on(Input.Submitted, "#key-input")
    @on(Button.Pressed, "#key-save")
    def _submit(self) -> None:
        key = self.query_one("#key-input", Input).value.strip()
        if not key:
            self.query_one("#key-error", Static).update("Enter a key, or press Esc.")
            return
        self.dismiss(key)

    def action_cancel(self) -> None:
        self.dismiss(None)
