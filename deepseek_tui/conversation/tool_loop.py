"""The tool loop: Turn after Turn until the model answers without calling a tool (no Textual).

One `ToolLoop` answers one prompt. Each round is an ordinary `Turn` (one request streamed into one
assistant message, offering the tools); when that reply ends with tool calls, each call is asked
about (`confirm`), run through a `ToolRunner` (the MCP host; tests give a fake), and its result is
added to the conversation as a tool message; then the next Turn starts. The loop ends when the
model answers without tool calls, an API error ends a turn, the user cancels (everything so far is
kept, and calls that did not run are answered "cancelled" so the history stays well-formed), or
`max_rounds` rounds of calls ran in a row (the calls of the next reply are answered "not run" and
the loop says so).

DeepSeek's rules live where they always do: the request builder replays every earlier turn's
reasoning when `tools` are offered and keeps `tool_choice` to auto/none in thinking mode
(reference §12); call ids, names and argument strings go back exactly as they came.

A `ToolLoop` has the parts of a `Turn` a caller watches (phase, progress, message, error, ...),
those of the turn running now, so the TUI and pipe mode can run either the same way.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from deepseek_tui.catalogue import Catalogue
from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.client.errors import DeepSeekError
from deepseek_tui.conversation.model import Conversation, ConversationError, Message, ToolCall, ToolOutcome, ToolRun
from deepseek_tui.conversation.request import ChatRequest
from deepseek_tui.conversation.throttle import SaveThrottle
from deepseek_tui.conversation.turn import (
    CANCELLED_BY_USER,
    ChatStreamer,
    Phase,
    Turn,
    TurnEvent,
    TurnProgress,
    prepare_reply,
)

DEFAULT_MAX_ROUNDS = 20
DEFAULT_MAX_RESULT_CHARS = 20_000

REFUSED = "The user refused to run this tool call. Do not call it again unless the user asks for it."
CANCELLED = "Not run: the user stopped the reply before this call finished."
SKIPPED = "Not run: the limit of {rounds} tool rounds in a row was reached."
UNAVAILABLE = "No tool named {name!r} is available now (it is switched off, or its server is not running)."
BAD_ARGUMENTS = "The arguments are not a JSON object ({problem}); the tool was not run."
CUT_NOTE = "\n\n[Output cut to {kept:,} of {full:,} characters by deepseek-tui's size limit.]"

Decision = Literal["once", "always", "refuse"]
"""The user's answer before a call: run it once, run this tool without asking for the rest of
the conversation, or refuse (the model is told)."""


# --- what the loop works with ------------------------------------------------------------------


@dataclass(frozen=True)
class ToolSpec:
    """A function the model may call, as the request offers it and as people see it."""

    name: str
    """The function name the API sees (unique, ≤ 128 characters, a-z A-Z 0-9 _ -)."""
    description: str = ""
    parameters: Mapping[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    label: str = ""
    """How people see it, e.g. "demo · calculate" (default: the name)."""
    confirm: bool = True
    """Ask the user before each call (False: the config says this tool needs no question)."""

    def definition(self) -> dict[str, Any]:
        """The `tools` entry of a request."""
        function: dict[str, Any] = {"name": self.name, "parameters": dict(self.parameters)}
        if self.description:
            function["description"] = self.description
        return {"type": "function", "function": function}

    @property
    def shown_as(self) -> str:
        return self.label or self.name


@dataclass(frozen=True)
class ToolOutput:
    """What a tool call gave back: its text, and whether it is an error."""

    text: str
    is_error: bool = False


class ToolRunner(Protocol):
    """Runs tools (the MCP host implements it)."""

    def available(self) -> Sequence[ToolSpec]:
        """The tools that can be called now (servers that run, tools their config allows)."""
        ...

    async def call(self, name: str, arguments: dict[str, Any]) -> ToolOutput:
        """Run one tool; failures of the tool or its server come back as an error output."""
        ...


ConfirmCall = Callable[[ToolCall, ToolSpec], Awaitable[Decision]]


@dataclass
class ConversationTools:
    """One conversation's choices (kept in memory only): tools switched off, tools allowed
    without asking ("always for this tool in this conversation")."""

    off: set[str] = field(default_factory=set)
    always: set[str] = field(default_factory=set)

    def offered(self, tools: Sequence[ToolSpec]) -> list[ToolSpec]:
        return [tool for tool in tools if tool.name not in self.off]

    def switch(self, name: str, on: bool) -> None:
        if on:
            self.off.discard(name)
        else:
            self.off.add(name)


# --- events ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TurnStarted:
    """A request of the loop goes out (round 0 answers the prompt; round n follows n rounds of calls)."""

    turn: Turn
    round: int


@dataclass(frozen=True, slots=True)
class ToolCallRequested:
    """The reply asked for this call (the `index`-th of `message`); next it is confirmed or refused."""

    message: Message
    call: ToolCall
    index: int
    tool: ToolSpec | None


@dataclass(frozen=True, slots=True)
class ToolCallStarted:
    """The call runs now."""

    message: Message
    call: ToolCall
    index: int
    tool: ToolSpec


@dataclass(frozen=True, slots=True)
class ToolCallFinished:
    """The call's result is in the conversation (`result.tool_run` says how it went)."""

    message: Message
    call: ToolCall
    index: int
    result: Message


@dataclass(frozen=True, slots=True)
class RoundLimitReached:
    """`rounds` rounds of calls ran in a row: the loop stops without running the next ones."""

    rounds: int


@dataclass(frozen=True, slots=True)
class LoopStopped:
    """The next request could not be sent (`reason`, e.g. over the API's size limit): the loop ends
    with the results it has."""

    reason: str


LoopEvent = (
    TurnEvent | TurnStarted | ToolCallRequested | ToolCallStarted | ToolCallFinished | RoundLimitReached | LoopStopped
)


# --- the loop ----------------------------------------------------------------------------------


def cap_output(text: str, limit: int) -> tuple[str, int | None]:
    """The text to send back (cut to `limit` characters, saying so) and the full length when cut."""
    if limit <= 0 or len(text) <= limit:
        return text, None
    return text[:limit] + CUT_NOTE.format(kept=limit, full=len(text)), len(text)


class ToolLoop:
    """Answers the active branch of `conversation`, running the tools the model calls."""

    def __init__(
        self,
        conversation: Conversation,
        catalogue: Catalogue,
        runner: ToolRunner,
        confirm: ConfirmCall,
        choices: ConversationTools | None = None,
        *,
        settings: ChatSettings | None = None,
        max_rounds: int = DEFAULT_MAX_ROUNDS,
        max_result_chars: int = DEFAULT_MAX_RESULT_CHARS,
    ) -> None:
        self.conversation, self.catalogue = conversation, catalogue
        self.runner, self.confirm = runner, confirm
        self.choices = choices if choices is not None else ConversationTools()
        self.settings = settings
        self.max_rounds, self.max_result_chars = max_rounds, max_result_chars
        self.rounds = 0
        """Rounds of tool calls run so far."""
        self.stopped_by_limit = False
        self._calling = False
        self._asking = False
        self._cancelled = False
        self._labels: dict[str, str] = {}
        """How people see each tool offered so far (API name → label), for calls answered late."""
        self.replies: list[Message] = []
        """The assistant messages of the loop so far, one per request."""
        self.turn: Turn = self._next_turn()
        self.notes: tuple[str, ...] = self.turn.notes

    # --- what a caller watches (the turn running now) ----------------------------------------

    @property
    def message(self) -> Message:
        return self.turn.message

    @property
    def request(self) -> ChatRequest:
        return self.turn.request

    @property
    def phase(self) -> Phase:
        if self._cancelled:
            return "cancelled"
        if self._asking:
            return "asking"
        return "tool" if self._calling else self.turn.phase

    @property
    def progress(self) -> TurnProgress:
        return self.turn.progress

    @property
    def error(self) -> DeepSeekError | None:
        return self.turn.error

    @property
    def thinking(self) -> bool:
        return self.turn.thinking

    @property
    def is_over(self) -> bool:
        return self._cancelled or (not self._calling and self.turn.is_over)

    @property
    def continued(self) -> bool:
        return False

    @property
    def json_output(self) -> bool:
        return self.turn.json_output

    @property
    def estimated_prompt_tokens(self) -> int:
        return self.turn.estimated_prompt_tokens

    def offered(self) -> list[ToolSpec]:
        """The tools the next request carries."""
        return self.choices.offered(self.runner.available())

    # --- running -----------------------------------------------------------------------------

    async def stream(
        self,
        client: ChatStreamer,
        *,
        currency: str,
        save: Callable[[], None] | None = None,
        throttle: SaveThrottle | None = None,
    ) -> AsyncGenerator[LoopEvent, None]:
        """Run the loop, yielding the events of each turn and of each call, in order."""
        try:  # each inner stream is closed when this one is (the HTTP stream, the turn's message)
            async with aclosing(self._rounds(client, currency=currency, save=save, throttle=throttle)) as rounds:
                async for event in rounds:
                    yield event
        except (asyncio.CancelledError, GeneratorExit):
            self._cancelled = True
            raise

    async def _rounds(
        self,
        client: ChatStreamer,
        *,
        currency: str,
        save: Callable[[], None] | None,
        throttle: SaveThrottle | None,
    ) -> AsyncGenerator[LoopEvent, None]:
        while True:
            yield TurnStarted(self.turn, self.rounds)
            async with aclosing(self.turn.stream(client, currency=currency, save=save, throttle=throttle)) as events:
                async for event in events:
                    yield event
            message = self.turn.message
            if self.turn.error is not None or message.status != "complete" or not message.tool_calls:
                return
            if self.rounds >= self.max_rounds:
                self.stopped_by_limit = True
                for index, call in enumerate(message.tool_calls):
                    result = self._answer(call, SKIPPED.format(rounds=self.max_rounds), ToolRun("skipped"))
                    yield ToolCallFinished(message, call, index, result)
                if save is not None:
                    save()
                yield RoundLimitReached(self.rounds)
                return
            self.rounds += 1
            self._calling = True
            try:
                for index, call in enumerate(message.tool_calls):
                    tool = next((t for t in self.offered() if t.name == call.name), None)  # as things are now
                    async with aclosing(self._run_call(message, call, index, tool)) as steps:
                        async for step in steps:
                            yield step
                    if save is not None:
                        save()
            finally:
                self._calling = False
            try:
                self.turn = self._next_turn()
            except ConversationError as exc:  # RequestTooLarge: nothing was added for it
                yield LoopStopped(str(exc))
                return

    async def _run_call(
        self, message: Message, call: ToolCall, index: int, tool: ToolSpec | None
    ) -> AsyncGenerator[LoopEvent, None]:
        yield ToolCallRequested(message, call, index, tool)
        if tool is None:
            result = self._answer(call, UNAVAILABLE.format(name=call.name), ToolRun("error", call.name))
            yield ToolCallFinished(message, call, index, result)
            return
        arguments, problem = _arguments(call.arguments)
        if arguments is None:
            result = self._answer(call, BAD_ARGUMENTS.format(problem=problem), ToolRun("error", tool.shown_as))
            yield ToolCallFinished(message, call, index, result)
            return
        decision: Decision = "once"
        if tool.confirm and tool.name not in self.choices.always:
            self._asking = True
            try:
                decision = await self.confirm(call, tool)
            finally:
                self._asking = False
        if decision == "refuse":
            result = self._answer(call, REFUSED, ToolRun("refused", tool.shown_as))
            yield ToolCallFinished(message, call, index, result)
            return
        if decision == "always":
            self.choices.always.add(tool.name)
        yield ToolCallStarted(message, call, index, tool)
        started = time.monotonic()
        try:
            output = await self.runner.call(tool.name, arguments)
        except asyncio.CancelledError:
            self._answer(call, CANCELLED, ToolRun("cancelled", tool.shown_as, round(time.monotonic() - started, 3)))
            raise
        except Exception as exc:  # a runner that let an error through: still the call's result
            output = ToolOutput(f"The tool failed: {exc or type(exc).__name__}", is_error=True)
        seconds = round(time.monotonic() - started, 3)
        text, full = cap_output(output.text, self.max_result_chars)
        outcome: ToolOutcome = "error" if output.is_error else "ok"
        result = self._answer(call, text, ToolRun(outcome, tool.shown_as, seconds, full))
        yield ToolCallFinished(message, call, index, result)

    def _answer(self, call: ToolCall, text: str, run: ToolRun) -> Message:
        return self.conversation.add_tool_result(call.id, text, run)

    def _next_turn(self) -> Turn:
        offered = self.offered()
        self._labels.update((tool.name, tool.shown_as) for tool in offered)
        definitions = [tool.definition() for tool in offered]
        turn = prepare_reply(self.conversation, self.catalogue, self.settings, tools=definitions or None)
        self.replies.append(turn.message)
        return turn

    # --- ending --------------------------------------------------------------------------------

    def end_by_error(self, reason: str) -> None:
        """The caller failed while it showed the loop: the turn says what stopped it; calls that
        did not run are answered "cancelled"."""
        self.turn.end_by_error(reason)
        self._settle_unanswered()

    def end_unfinished(self, reason: str = CANCELLED_BY_USER) -> None:
        """Mark what the loop left unfinished: the streaming reply cancelled, calls that did not
        run answered "cancelled" (so the next request is well-formed). Callers run this at the end."""
        self.turn.end_unfinished(reason)
        if self._settle_unanswered():
            self._cancelled = True

    def _settle_unanswered(self) -> bool:
        """Answer the calls of the last reply that got no result; True if there were any."""
        message = self.turn.message
        if message.status != "complete" or not message.tool_calls or self.conversation.active_leaf_id is None:
            return False
        answered = set(self.conversation.tool_results(message.id))
        leaf = self.conversation.get(self.conversation.active_leaf_id)
        if leaf.id != message.id and leaf.role != "tool":
            return False  # the branch moved on meanwhile: leave it alone
        missing = [call for call in message.tool_calls if call.id not in answered]
        for call in missing:
            self._answer(call, CANCELLED, ToolRun("cancelled", self._labels.get(call.name, call.name)))
        return bool(missing)


def _arguments(text: str) -> tuple[dict[str, Any] | None, str]:
    """The call's arguments as a dict (an empty string means none), or None and why not."""
    if not text.strip():
        return {}, ""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return None, f"not valid JSON: {exc}"
    if not isinstance(value, dict):
        return None, f"a JSON {type(value).__name__}, not an object"
    return value, ""


Reply = Turn | ToolLoop
"""What answers a prompt: one turn, or a tool loop of turns."""
