"""The fill-in-the-middle screen: prefix, completion, suffix. It does no HTTP itself.

The app passes an async `complete(model, prefix, suffix, max_tokens) -> FimOutcome` that talks to
the API; whatever it raises is shown in the screen as `str(exc)`. Keys: ctrl+r completes (it
passes through tmux and is not taken by TextArea), esc closes. The screen dismisses with the last
`FimOutcome` (None when nothing was completed) so the caller can use the text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from deepseek_tui.catalogue import FIM_MAX_TOKENS
from deepseek_tui.ui.intents import CopyText
from deepseek_tui.ui.widgets.inert import InertStatic, InertTextArea

DEFAULT_MAX_TOKENS = 1024


@dataclass(frozen=True)
class FimOutcome:
    text: str
    usage_label: str = ""
    """e.g. "in 12 (0% cached) · out 40"."""
    cost_label: str = ""
    """e.g. "$0.00002"; empty when the model has no prices."""


FimComplete = Callable[[str, str, str, int], Awaitable[FimOutcome]]
"""(model, prefix, suffix, max_tokens) -> outcome; raises on failure."""


class FimScreen(ModalScreen[FimOutcome | None]):
    DEFAULT_CSS = """
    FimScreen { align: center middle; }
    FimScreen > #fim-dialog {
        width: 90%; height: 90%; border: thick $primary; background: $surface; padding: 0 1;
    }
    FimScreen #fim-title { text-style: bold; }
    FimScreen #fim-controls { height: 3; }
    FimScreen #fim-model { width: 1fr; }
    FimScreen #fim-max-tokens { width: 16; }
    FimScreen #fim-complete { width: auto; }
    FimScreen TextArea { height: 1fr; }
    FimScreen #fim-result { border: round $success; }
    FimScreen #fim-usage { color: $text-muted; height: 1; }
    FimScreen #fim-error { color: $error; height: auto; }
    FimScreen #fim-keys { color: $text-muted; height: 1; }
    """

    BINDINGS = [
        Binding("ctrl+r", "complete", "Complete", id="fim_complete", priority=True),
        Binding("ctrl+y", "copy_completion", "Copy completion", id="fim_copy", priority=True),
        Binding("ctrl+g", "accept", "Accept into prefix", id="fim_accept", priority=True),
        Binding("escape", "close", "Close", id="fim_close"),
    ]

    def __init__(
        self,
        complete: FimComplete,
        models: Sequence[str],
        *,
        model: str | None = None,
        prefix: str = "",
        suffix: str = "",
        max_tokens: int = DEFAULT_MAX_TOKENS,
    ) -> None:
        """`models`: the FIM-capable model ids (ask the catalogue); `model`: the one preselected."""
        super().__init__()
        self._complete = complete
        self._models = list(models)
        self._model = model if model in self._models else (self._models[0] if self._models else None)
        self._prefix = prefix
        self._suffix = suffix
        self._max_tokens = max_tokens
        self.outcome: FimOutcome | None = None
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="fim-dialog"):
            yield Static("Fill in the middle", id="fim-title")
            with Horizontal(id="fim-controls"):
                yield Select(
                    [(m, m) for m in self._models],
                    value=self._model or Select.NULL,
                    allow_blank=not self._models,
                    prompt="no FIM-capable model",
                    id="fim-model",
                )
                yield Input(
                    str(self._max_tokens),
                    type="integer",
                    id="fim-max-tokens",
                    tooltip=f"max_tokens, 1 to {FIM_MAX_TOKENS}",
                )
                yield Button("Complete", variant="primary", id="fim-complete", disabled=not self._models)
            yield Label("Prefix (before the gap)")
            yield InertTextArea(self._prefix, id="fim-prefix")
            yield Label("Completion")
            yield InertTextArea("", id="fim-result", read_only=True)
            yield InertStatic("", id="fim-usage")
            yield Label("Suffix (after the gap)")
            yield InertTextArea(self._suffix, id="fim-suffix")
            yield InertStatic("" if self._models else "No model in the catalogue can do FIM.", id="fim-error")
            yield Static(
                "ctrl+r complete · ctrl+y copy the completion · ctrl+g accept it into the prefix · esc close",
                id="fim-keys",
            )

    def on_mount(self) -> None:
        self.query_one("#fim-prefix", TextArea).focus()

    # --- actions -----------------------------------------------------------------------------

    @on(Button.Pressed, "#fim-complete")
    def action_complete(self) -> None:
        if self.busy:
            return
        model = self.query_one("#fim-model", Select).value
        if not isinstance(model, str):
            self._show_error("Choose a model.")
            return
        max_tokens = self._read_max_tokens()
        if max_tokens is None:
            self._show_error(f"max_tokens must be a whole number from 1 to {FIM_MAX_TOKENS}.")
            return
        self._show_error("")
        prefix = self.query_one("#fim-prefix", TextArea).text
        suffix = self.query_one("#fim-suffix", TextArea).text
        self.run_completion(model, prefix, suffix, max_tokens)

    def action_copy_completion(self) -> None:
        text = self.query_one("#fim-result", TextArea).text
        if text:
            self.post_message(CopyText(text, "the completion"))
        else:
            self._show_error("Nothing to copy yet: ctrl+r completes.")

    def action_accept(self) -> None:
        """The completion joins the prefix, so the next ctrl+r completes from there."""
        result = self.query_one("#fim-result", TextArea)
        if not result.text:
            self._show_error("Nothing to accept yet: ctrl+r completes.")
            return
        prefix = self.query_one("#fim-prefix", TextArea)
        prefix.load_text(prefix.text + result.text)
        prefix.move_cursor(prefix.document.end)
        result.load_text("")
        self.query_one("#fim-usage", Static).update("")

    def action_close(self) -> None:
        self.workers.cancel_group(self, "fim")
        self.dismiss(self.outcome)

    # --- the completion ----------------------------------------------------------------------

    @work(exclusive=True, group="fim", exit_on_error=False)
    async def run_completion(self, model: str, prefix: str, suffix: str, max_tokens: int) -> None:
        self._set_busy(True)
        try:
            outcome = await self._complete(model, prefix, suffix, max_tokens)
        except Exception as exc:  # the callable's errors are the user's to read, not crashes
            self._show_error(str(exc) or type(exc).__name__)
            self.query_one("#fim-usage", Static).update("")
            return
        finally:
            self._set_busy(False)
        self.outcome = outcome
        self.query_one("#fim-result", TextArea).load_text(outcome.text)
        labels = [label for label in (model, outcome.usage_label, outcome.cost_label) if label]
        self.query_one("#fim-usage", Static).update(" · ".join(labels))

    def _read_max_tokens(self) -> int | None:
        try:
            value = int(self.query_one("#fim-max-tokens", Input).value)
        except ValueError:
            return None
        return value if 1 <= value <= FIM_MAX_TOKENS else None

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        if not self.is_attached:  # closed while the completion ran
            return
        self.query_one("#fim-complete", Button).disabled = busy
        if busy:
            self.query_one("#fim-usage", Static).update("Completing…")

    def _show_error(self, text: str) -> None:
        self.query_one("#fim-error", Static).update(text)
