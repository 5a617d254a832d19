"""Pilot tests of the FIM screen in a tiny host app; `complete` talks to the simulator through
DeepSeekClient.fim over a real socket."""

from __future__ import annotations

from textual.app import App
from textual.widgets import Input, Select, Static, TextArea
from ui_support import wait_until

from deepseek_tui import clock
from deepseek_tui.catalogue import Catalogue
from deepseek_tui.client import DeepSeekClient, RetryPolicy
from deepseek_tui.pipe.fim import fim_labels, fim_models
from deepseek_tui.simulator import Fault
from deepseek_tui.ui.screens.fim import FimOutcome, FimScreen

SIZE = (100, 40)
NOT_CLOSED = object()


class FimHost(App[None]):
    def __init__(self, screen: FimScreen) -> None:
        super().__init__()
        self.fim = screen
        self.closed_with: object = NOT_CLOSED

    def on_mount(self) -> None:
        self.push_screen(self.fim, callback=self.record_result)

    def record_result(self, result: FimOutcome | None) -> None:
        self.closed_with = result


class Completions(list):
    """The FIM results of a completer, and how many calls to it have ended (either way)."""

    ended = 0


def simulator_completer(simulator):
    catalogue = Catalogue()
    results = Completions()

    async def complete(model: str, prefix: str, suffix: str, max_tokens: int) -> FimOutcome:
        try:
            retry = RetryPolicy(max_attempts=1)
            async with DeepSeekClient("sk-test", simulator.url, retry=retry) as client:
                result = await client.fim(model, prefix, suffix, max_tokens=max_tokens)
            results.append(result)
            usage, cost = fim_labels(result.usage, catalogue.get(model), "USD", clock.now())
            return FimOutcome(result.text, usage, cost)
        finally:
            results.ended += 1

    return complete, results


def fim_bodies(simulator) -> list[dict]:
    return [r.body for r in simulator.requests if r.path == "/beta/completions"]


def shown(app: App, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def complete_now(app: App, pilot, results: Completions) -> None:
    """Press ctrl+r and wait until the screen has shown what the completer gave or raised."""
    ended = results.ended
    await pilot.press("ctrl+r")
    await wait_until(lambda: results.ended > ended)  # the worker has started only once the key arrived
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_completion_is_shown_between_prefix_and_suffix_with_usage(simulator):
    complete, results = simulator_completer(simulator)
    models = fim_models(Catalogue())
    screen = FimScreen(complete, models, model="deepseek-flash", prefix="def area(r):", suffix="\nprint(area(2))\n")
    app = FimHost(screen)
    async with app.run_test(size=SIZE) as pilot:
        assert app.screen is screen
        select = screen.query_one("#fim-model", Select)
        assert [value for _, value in select._options] == models and select.value == "deepseek-flash"
        await complete_now(app, pilot, results)

        [result] = results
        assert result.text.lstrip().startswith("# filled in by the DeepSeek simulator")
        assert screen.query_one("#fim-result", TextArea).text == result.text
        usage = shown(app, "#fim-usage")
        assert f"in {result.usage.prompt_tokens} " in usage and f"out {result.usage.completion_tokens}" in usage
        assert "deepseek-flash" in usage and "$" in usage
        assert shown(app, "#fim-error") == ""
        order = [w.id for w in screen.query("TextArea")]
        assert order == ["fim-prefix", "fim-result", "fim-suffix"]
        body = fim_bodies(simulator)[-1]
        assert body["model"] == "deepseek-flash" and body["prompt"] == "def area(r):"
        assert body["suffix"] == "\nprint(area(2))\n" and body["max_tokens"] == 1024

        select.value = "deepseek-v4-pro"
        screen.query_one("#fim-max-tokens", Input).value = "32"
        await complete_now(app, pilot, results)
        body = fim_bodies(simulator)[-1]
        assert body["model"] == "deepseek-v4-pro" and body["max_tokens"] == 32

        await pilot.press("escape")
        await wait_until(lambda: app.closed_with is not NOT_CLOSED)
        assert app.closed_with == FimOutcome(
            results[-1].text, *fim_labels(results[-1].usage, Catalogue().get("deepseek-v4-pro"), "USD", clock.now())
        )


async def test_errors_from_the_callable_are_shown(simulator):
    complete, results = simulator_completer(simulator)
    screen = FimScreen(complete, fim_models(Catalogue()), prefix="x = ")
    app = FimHost(screen)
    async with app.run_test(size=SIZE) as pilot:
        simulator.inject(Fault.status(402))
        await complete_now(app, pilot, results)
        error = shown(app, "#fim-error")
        assert "Insufficient Balance" in error and "top_up" in error
        assert screen.query_one("#fim-result", TextArea).text == ""
        assert not screen.query_one("#fim-complete").disabled

        await complete_now(app, pilot, results)  # the next attempt works and clears the error
        assert shown(app, "#fim-error") == "" and screen.query_one("#fim-result", TextArea).text

        screen.query_one("#fim-max-tokens", Input).value = "5000"
        requests = len(fim_bodies(simulator))
        await pilot.press("ctrl+r")  # refused before any request: the completer is not called
        await wait_until(lambda: "from 1 to 4096" in shown(app, "#fim-error"))
        assert len(fim_bodies(simulator)) == requests and results.ended == 2


async def test_escape_without_completion_dismisses_with_none():
    async def never(model: str, prefix: str, suffix: str, max_tokens: int) -> FimOutcome:
        raise AssertionError("not called")

    app = FimHost(FimScreen(never, ["deepseek-flash"]))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape")
        await wait_until(lambda: app.closed_with is not NOT_CLOSED)
        assert app.closed_with is None


async def test_no_capable_model_disables_completion():
    async def never(model: str, prefix: str, suffix: str, max_tokens: int) -> FimOutcome:
        raise AssertionError("not called")

    app = FimHost(FimScreen(never, []))
    async with app.run_test(size=SIZE) as pilot:
        assert app.screen.query_one("#fim-complete").disabled
        await pilot.press("ctrl+r")
        await wait_until(lambda: "Choose a model" in shown(app, "#fim-error"))
