"""The app's main screen: the chat, the prompt and the side panes (composed by the app).

What it adds to Textual's screen: the mouse selection is copied the app's way (every clipboard
route, and a notification that says which one carried it: ui/copying.py) and the footer shows
the copy key while something is selected; links clicked in answers open in the browser.
"""

from __future__ import annotations

from textual.actions import SkipAction
from textual.binding import Binding
from textual.screen import Screen

from deepseek_tui.ui.intents import CopyText
from deepseek_tui.ui.widgets.markdown_lines import MarkdownLines


class MainScreen(Screen):
    BINDINGS = [
        Binding(
            "ctrl+c,super+c",
            "copy_text",
            "Copy selection",
            id="copy_selection",
            tooltip="Copy the text selected with the mouse",
        ),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "copy_text":
            return bool(self.selections)  # nothing selected: ctrl+c goes on to the app (quit hint)
        return True

    def watch_selections(self) -> None:
        self.refresh_bindings()

    def action_copy_text(self) -> None:
        text = self.get_selected_text()
        if not text:
            raise SkipAction()
        self.post_message(CopyText(text, "the selection"))

    def on_markdown_lines_link_clicked(self, event: MarkdownLines.LinkClicked) -> None:
        event.stop()
        self.app.open_url(event.url)
        self.notify(f"Opening {event.url}", timeout=3, markup=False)
