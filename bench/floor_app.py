"""The start-up floor for bench/ui.py case 1: a minimal Textual app (one Input and a Footer).

Our app is measured against this one in the same run, the same way (launch → the footer's ^p on
screen in tmux at 120×40): the difference is what our start costs beyond Textual's own.
"""

from textual.app import App, ComposeResult
from textual.widgets import Footer, Input


class Floor(App[None]):
    def compose(self) -> ComposeResult:
        yield Input(placeholder="floor")
        yield Footer()


if __name__ == "__main__":
    Floor().run()
