"""Small modal dialogs: ask for a line of text, confirm, choose one of several.

Their texts can hold a conversation's title or an answer's code block label: drawn inert.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, OptionList
from textual.widgets.option_list import Option

from deepseek_tui.inert import inert_text
from deepseek_tui.ui.widgets.inert import InertInput, InertStatic

_DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 80; height: auto; max-height: 80%; border: thick $primary; background: $surface; padding: 1 2; }}
{name} .title {{ text-style: bold; margin: 0 0 1 0; }}
{name} .buttons {{ height: auto; margin: 1 0 0 0; }}
{name} .buttons Button {{ margin: 0 1 0 0; }}
"""


class AskScreen(ModalScreen[str | None]):
    """Ask for one line of text; dismisses with it, or None on Esc."""

    DEFAULT_CSS = _DIALOG_CSS.format(name="AskScreen")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="ask_cancel")]

    def __init__(self, title: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self._title, self._value, self._placeholder = title, value, placeholder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield InertStatic(self._title, classes="title")
            yield InertInput(self._value, placeholder=self._placeholder, id="ask-input")

    @on(Input.Submitted, "#ask-input")
    def _submit(self, event: Input.Submitted) -> None:
        self.answer(event.value)

    def answer(self, value: str) -> None:
        """Enter in the input: dismiss with the text (a subclass may act on it first)."""
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """Yes or no; Enter on the focused button, y/n keys, Esc = no."""

    DEFAULT_CSS = _DIALOG_CSS.format(name="ConfirmScreen")
    BINDINGS = [
        Binding("escape,n", "answer(False)", "No", id="confirm_no"),
        Binding("y", "answer(True)", "Yes", id="confirm_yes"),
    ]

    def __init__(self, question: str, yes: str = "Yes") -> None:
        super().__init__()
        self._question, self._yes = question, yes

    def compose(self) -> ComposeResult:
        with Vertical():
            yield InertStatic(self._question, classes="title")
            with Horizontal(classes="buttons"):
                yield Button(f"{self._yes} (y)", variant="error", id="confirm-yes")
                yield Button("Cancel (n)", id="confirm-no")

    def on_mount(self) -> None:
        self.query_one("#confirm-no").focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class ChooseScreen(ModalScreen[int | None]):
    """Pick one of several labels; dismisses with its index, or None on Esc."""

    DEFAULT_CSS = _DIALOG_CSS.format(name="ChooseScreen") + "ChooseScreen OptionList { height: auto; max-height: 20; }"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="choose_cancel")]

    def __init__(self, title: str, labels: list[str]) -> None:
        super().__init__()
        self._title, self._labels = title, labels

    def compose(self) -> ComposeResult:
        with Vertical():
            yield InertStatic(self._title, classes="title")
            yield OptionList(
                *[Option(Text(inert_text(label)), id=str(i)) for i, label in enumerate(self._labels)], id="choices"
            )

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0))

    def action_cancel(self) -> None:
        self.dismiss(None)
