"""Fill-in-the-middle from the app: the FIM screen with the models that can, and the completion it
asks for, made with the app's client and priced like a turn."""

from __future__ import annotations

from typing import TYPE_CHECKING

from deepseek_tui import clock
from deepseek_tui import labels as fmt

if TYPE_CHECKING:
    from deepseek_tui.ui.app import DeepSeekApp
    from deepseek_tui.ui.screens.fim import FimOutcome

# The FIM screen loads when first opened: start-up does not wait for it.


class FimController:
    """Owned by the app; the screen calls back `complete` for each completion."""

    def __init__(self, app: DeepSeekApp) -> None:
        self.app = app

    def open(self) -> None:
        from deepseek_tui.ui.screens.fim import FimScreen

        app = self.app
        if not app.account.has_client():
            app.account.ask_for_key()
            return
        models = [m for m in app.catalogue.offered_ids() if app.catalogue.get(m).fim]
        if not models:
            app.notify("No model in the catalogue supports FIM.", severity="warning")
            return
        current = app.conversation.settings.model
        app.push_screen(FimScreen(self.complete, models, model=current if current in models else None))

    async def complete(self, model: str, prefix: str, suffix: str, max_tokens: int) -> FimOutcome:
        from deepseek_tui.ui.screens.fim import FimOutcome

        app = self.app
        assert app.client is not None
        result = await app.client.fim(model, prefix, suffix or None, max_tokens=max_tokens)
        usage, cost = fmt.usage_and_cost(result.usage, app.catalogue.get(model), app.config.currency, clock.now())
        return FimOutcome(text=result.text, usage_label=usage, cost_label=cost)
