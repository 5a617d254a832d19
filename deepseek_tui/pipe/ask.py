"""`deepseek-tui ask`: one chat turn streamed to stdout, optionally stored as a TUI session.

With `--tools` the configured MCP servers start first and the answer is a tool loop: each call
and its result are noted on stderr. There is nobody to ask before a call unless stdin is a
terminal, so calls are refused (the model is told) unless `--yes` allows them all, or the config
says a tool needs no question (`confirm = false`).
"""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path

from deepseek_tui.attach_paths import read_attachment
from deepseek_tui.catalogue import Catalogue
from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.client import DeepSeekClient
from deepseek_tui.config import AppConfig
from deepseek_tui.conversation import (
    Conversation,
    Message,
    SessionStore,
    SessionUnreadableError,
    StoreError,
    inert_settings,
)
from deepseek_tui.conversation.attachments import Attachment, AttachmentError, AttachmentLimits
from deepseek_tui.conversation.json_mode import check_json_reply
from deepseek_tui.conversation.model import ToolCall
from deepseek_tui.conversation.request import RequestTooLarge, adjusted_settings
from deepseek_tui.conversation.send_check import check_send
from deepseek_tui.conversation.tool_loop import (
    Decision,
    LoopEvent,
    LoopStopped,
    Reply,
    RoundLimitReached,
    ToolCallFinished,
    ToolCallStarted,
    ToolLoop,
    ToolSpec,
)
from deepseek_tui.conversation.turn import AnswerText, ReasoningText, RetryNotice, prepare_reply
from deepseek_tui.labels import exchange_usage, message_cost, tool_call_title, usage_label
from deepseek_tui.model_choice import current_settings
from deepseek_tui.pipe.console import PROGRAM, Console
from deepseek_tui.pipe.exits import ExitCode, exit_code_for
from deepseek_tui.pipe.runner import ClientFactory, PipeError, run_with_client, usage_error


@dataclass(frozen=True)
class AskOptions:
    prompt: str | None = None
    """The PROMPT argument: None or "-" reads stdin."""
    model: str | None = None
    think: bool | None = None
    effort: str | None = None
    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    json_output: bool = False
    show_reasoning: bool = False
    continue_session: str | None = None
    """None: a new conversation; "": the most recent one; else a session id."""
    save: bool | None = None
    """None: save when continuing a session."""
    usage: bool = False
    attach: tuple[str, ...] = ()
    """Files sent with the prompt (`-a FILE`, repeatable)."""
    tools: bool = False
    """Offer the configured MCP servers' tools (a tool loop)."""
    yes: bool = False
    """Run every tool call without asking."""


@dataclass
class PreparedTurn:
    """Everything decided before the request goes out."""

    turn: Reply | None
    """The turn; with --tools, None until the servers have started (the loop is made then)."""
    store: SessionStore | None
    """Where the exchange is saved; None when it is not."""
    is_new_session: bool
    settings: ChatSettings | None = None
    catalogue: Catalogue | None = None
    conversation: Conversation | None = None


def run_ask(
    options: AskOptions, config: AppConfig, console: Console, client_factory: ClientFactory | None = None
) -> int:
    try:
        turn = prepare_turn(options, config, console)
    except PipeError as error:
        return error.report(console)

    async def command(client: DeepSeekClient) -> int:
        if not options.tools:
            return await stream_turn(client, turn, options, config, console)
        from deepseek_tui.tools.host import McpHost

        host = McpHost(config.mcp_servers, config.tools)
        try:
            turn.turn = await _tool_loop(host, turn, options, config, console)
            return await stream_turn(client, turn, options, config, console)
        finally:
            await host.aclose()

    return run_with_client(config, console, command, client_factory)


# --- before the request ------------------------------------------------------------------------


def prepare_turn(options: AskOptions, config: AppConfig, console: Console) -> PreparedTurn:
    catalogue = config.catalogue()
    store = SessionStore(config.sessions_dir(), config.session_format)
    conversation, prompt_argument = open_conversation(options, store)
    prompt = read_prompt(prompt_argument, console, allow_empty=bool(options.attach))
    attachments = read_attachments(options.attach, config.attachments)
    continuing = conversation is not None
    if conversation is None:
        conversation = Conversation(settings=config.chat)
        for notice in config.notices:
            console.note(notice)
    else:
        choice = current_settings(conversation.settings, catalogue)  # a session that names a retired model
        if choice.notice:
            console.note(choice.notice)
        conversation.settings = choice.settings
    # Flags shape this run's request; of them, only the model, thinking mode, effort and system
    # prompt are kept with the conversation (a one-off --max-tokens must not cut later replies).
    settings = settings_for(options, conversation.settings, catalogue, console)
    conversation.settings = conversation.settings.with_identity_of(settings)
    if options.tools and not config.mcp_servers:
        raise usage_error(
            "--tools: no MCP servers are configured",
            "Add [mcp.servers.NAME] tables to the config file (README, “Tools”).",
        )
    if attachments:
        check_attachments(conversation, prompt, attachments, catalogue, settings)
    conversation.add_user(prompt, attachments)
    turn = None
    if not options.tools:  # with tools the turn is made once the servers have started
        try:
            turn = prepare_reply(conversation, catalogue, settings)
        except RequestTooLarge as error:  # history too large (the new files were checked above)
            raise usage_error(str(error)) from None
        for note in turn.notes:
            console.note(note)
    save = options.save if options.save is not None else continuing
    return PreparedTurn(
        turn,
        store if save else None,
        is_new_session=not continuing,
        settings=settings,
        catalogue=catalogue,
        conversation=conversation,
    )


async def _tool_loop(host, prepared: PreparedTurn, options: AskOptions, config: AppConfig, console: Console) -> Reply:
    """Start the servers, say which failed, and make the loop (a plain turn when no tool is left)."""
    assert prepared.conversation is not None and prepared.catalogue is not None
    try:
        await host.wait_started()
    except TimeoutError:
        pass  # servers still starting are reported below and left out
    for status in host.statuses():
        if status.state in ("failed", "stopped", "starting"):
            state = {"failed": "did not start", "stopped": "stopped", "starting": "is still starting (left out)"}
            console.note(
                f"MCP server {status.name} {state[status.state]}" + (f": {status.detail}" if status.detail else "")
            )
            for line in status.stderr_tail[-5:]:
                console.note(f"  {status.name} stderr: {line}")
    try:
        if host.available():
            reply: Reply = ToolLoop(
                prepared.conversation,
                prepared.catalogue,
                host,
                _confirm_for(options, console),
                settings=prepared.settings,
                max_rounds=config.tools.max_rounds,
                max_result_chars=config.tools.max_result_chars,
            )
        else:
            console.note("no tools are available: answering without them")
            reply = prepare_reply(prepared.conversation, prepared.catalogue, prepared.settings)
    except RequestTooLarge as error:  # history too large (the new files were checked before)
        raise usage_error(str(error)) from None
    for note in reply.notes:
        console.note(note)
    return reply


def _confirm_for(options: AskOptions, console: Console):
    """Ask on the terminal when there is one; else refuse, unless --yes."""

    async def confirm(call: ToolCall, tool: ToolSpec) -> Decision:
        if options.yes:
            return "once"
        if not console.stdin.isatty():
            console.note(
                f"refused {tool.shown_as}: no terminal to confirm the call (--yes runs tool calls without asking)"
            )
            return "refuse"
        console.aside(f"{PROGRAM}: run {tool.shown_as} {call.arguments or '{}'}? [y]es / [a]lways / [N]o: ")
        answer = (await asyncio.to_thread(console.stdin.readline)).strip().lower()
        return {"y": "once", "yes": "once", "a": "always", "always": "always"}.get(answer, "refuse")  # type: ignore[return-value]

    return confirm


def open_conversation(options: AskOptions, store: SessionStore) -> tuple[Conversation | None, str | None]:
    """The stored conversation to continue (or None) and the prompt argument.

    `ask --continue "question"` parses the question as a session id; when no such session exists
    and no PROMPT was given, the value is taken as the prompt for the most recent conversation.
    """
    wanted, prompt = options.continue_session, options.prompt
    if wanted is None:
        return None, prompt
    if wanted:
        try:
            return store.load(store.resolve_id(wanted)), prompt
        except SessionUnreadableError as error:
            raise PipeError(ExitCode.LOCAL, f"cannot read session {wanted}: {error}") from None
        except StoreError as error:
            if prompt is not None:
                raise usage_error(
                    error.args[0] if error.args else f"no stored session {wanted!r}",
                    "Give a session id, or its first characters, as the TUI's session list (ctrl+o) shows.",
                ) from None
            prompt = wanted
    try:
        recent = store.most_recent()
    except StoreError as error:
        raise PipeError(ExitCode.LOCAL, f"cannot read the most recent session: {error}") from None
    if recent is None:
        raise usage_error("there is no stored conversation to continue", "Start one with --save.")
    return recent, prompt


def read_attachments(paths: tuple[str, ...], limits: AttachmentLimits) -> list[Attachment]:
    """The `-a` files, read now (relative to the working directory); the first that cannot be
    attached stops the run before anything is sent."""
    attachments: list[Attachment] = []
    for path in paths:
        try:
            attachments.append(read_attachment(path, Path.cwd(), limits, attachments))
        except AttachmentError as error:
            raise usage_error(f"cannot attach {path}: {error}") from None
    return attachments


def check_attachments(
    conversation: Conversation, prompt: str, attachments: list[Attachment], catalogue: Catalogue, settings: ChatSettings
) -> None:
    """Refuse before sending: images to a model that does not see them, a request over the limit."""
    path = [*conversation.active_path(), Message(role="user", content=prompt, attachments=tuple(attachments))]
    check = check_send(path, catalogue, settings)
    if check.unseen_images:
        remedy = (
            f"Use --model {check.vision_model}, which does." if check.vision_model else "No model offered sees images."
        )
        raise usage_error(check.vision_question(), remedy)
    if check.too_large:
        raise usage_error(check.too_large)


def read_prompt(argument: str | None, console: Console, *, allow_empty: bool = False) -> str:
    if argument is not None and argument != "-":
        text = argument
    elif argument is None and console.stdin.isatty():
        raise usage_error("no prompt", "Give it as an argument, or pipe it in: echo 'question' | deepseek-tui ask")
    else:
        try:
            text = console.stdin.read()
        except UnicodeDecodeError:
            raise usage_error("stdin is not UTF-8 text") from None
    if not text.strip() and not allow_empty:
        raise usage_error("the prompt is empty")
    return text


def settings_for(options: AskOptions, base: ChatSettings, catalogue: Catalogue, console: Console) -> ChatSettings:
    """`base` (config defaults or the continued session's) with the command-line options applied."""
    settings = base.updated(json_output=options.json_output)
    if options.model:
        choice = current_settings(settings.updated(model=options.model), catalogue, where="--model")
        if choice.notice:
            console.note(choice.notice)
        settings = choice.settings
    spec = catalogue.get(settings.model)
    if options.effort is not None:
        if not spec.efforts:
            raise usage_error(f"{spec.id} takes no reasoning effort", "Leave out --effort or choose another --model.")
        if not spec.accepts_effort(options.effort):
            aliases = f" (or {', '.join(spec.effort_aliases)})" if spec.effort_aliases else ""
            raise usage_error(f"--effort must be one of {', '.join(spec.efforts)}{aliases} for {spec.id}")
        if options.think and spec.turns_thinking_off(options.effort):
            raise usage_error(
                f"--effort {options.effort} means no thinking", "Leave out --think or choose another effort."
            )
    wants_thinking = options.think
    if wants_thinking is None and options.effort is not None:
        wants_thinking = not spec.turns_thinking_off(options.effort)
    if wants_thinking is not None:
        model, thinking = catalogue.set_thinking(settings.model, wants_thinking)
        if catalogue.get(model).thinks(thinking) != wants_thinking:
            console.note(
                f"{model} cannot switch thinking {'on' if wants_thinking else 'off'}; it answers as it always does"
            )
        settings = settings.updated(model=model, thinking=thinking)
    if options.effort is not None:
        settings = current_settings(settings.updated(reasoning_effort=options.effort), catalogue).settings
    if options.system is not None:
        settings = settings.updated(system_prompt=options.system)
    if options.temperature is not None:
        settings = settings.updated(temperature=options.temperature)
    if options.max_tokens is not None:
        settings = settings.updated(max_tokens=options.max_tokens)
    if options.json_output and not spec.json_output:
        raise usage_error(f"{spec.id} has no JSON output mode", "Leave out --json or choose another --model.")
    given = {"temperature": options.temperature, "reasoning_effort": options.effort, "max_tokens": options.max_tokens}
    explained = {**inert_settings(settings, catalogue), **adjusted_settings(settings, catalogue)}
    for name, reason in explained.items():
        if given.get(name) is not None:
            console.note(f"{name.replace('_', ' ')}: {reason}")
    return settings


# --- the request -------------------------------------------------------------------------------


class _AnswerPrinter:
    """Answer deltas to stdout, reasoning to stderr (when asked), retries and tool calls as notes."""

    def __init__(self, console: Console, show_reasoning: bool) -> None:
        self.console = console
        self.show_reasoning = show_reasoning
        self._last_output = ""
        self._reasoning_open = False

    def show(self, event: LoopEvent) -> None:
        if isinstance(event, AnswerText) and event.text:
            self._close_reasoning()
            self.console.output(event.text)
            self._last_output = event.text
        elif isinstance(event, ReasoningText) and self.show_reasoning and event.text:
            self.console.aside(event.text)
            self._reasoning_open = not event.text.endswith("\n")
        elif isinstance(event, RetryNotice):
            self._close_reasoning()
            self.console.note(f"{event.reason}; retry {event.attempt} in {event.delay:.1f} s")
        elif isinstance(event, ToolCallStarted):
            self.close()
            self.console.note(f"→ {event.tool.shown_as} {event.call.arguments or '{}'}")
        elif isinstance(event, ToolCallFinished):
            self.close()
            run = event.result.tool_run
            label = run.tool if run is not None and run.tool else event.call.name
            result = " ".join(event.result.content.split())
            shown = result if len(result) <= 200 else result[:199] + "…"
            self.console.note(f"← {tool_call_title(label, run).removeprefix('⚙ ')}: {shown}")
        elif isinstance(event, RoundLimitReached):
            self.close()
            self.console.note(
                f"stopped after {event.rounds} tool rounds in a row ([tools] max_rounds); the last calls were not run"
            )
        elif isinstance(event, LoopStopped):
            self.close()
            self.console.note(f"the tool results could not be sent: {event.reason}")

    def close(self) -> None:
        """End the answer's last line so the shell prompt or an error starts on its own."""
        self._close_reasoning()
        if self._last_output and not self._last_output.endswith("\n"):
            self.console.output("\n")
            self._last_output = "\n"

    def _close_reasoning(self) -> None:
        if self._reasoning_open:
            self.console.aside("\n")
            self._reasoning_open = False


class _SessionSaver:
    """Saves the conversation; a failure is said once and remembered (the exit code tells)."""

    def __init__(self, store: SessionStore, conversation: Conversation, console: Console) -> None:
        self.store, self.conversation, self.console = store, conversation, console
        self.failed = False

    def save(self) -> None:
        try:
            self.store.save(self.conversation)
        except (StoreError, OSError) as error:
            if not self.failed:
                self.console.note(f"could not save the session: {error}")
            self.failed = True


async def stream_turn(
    client: DeepSeekClient, prepared: PreparedTurn, options: AskOptions, config: AppConfig, console: Console
) -> int:
    turn = prepared.turn
    assert turn is not None
    saver = _SessionSaver(prepared.store, turn.conversation, console) if prepared.store is not None else None
    if saver is not None:
        saver.save()
    printer = _AnswerPrinter(console, options.show_reasoning)
    try:
        async with aclosing(
            turn.stream(client, currency=config.currency, save=saver.save if saver is not None else None)
        ) as events:
            async for event in events:
                printer.show(event)
        printer.close()
        if turn.error is not None:
            console.api_failure(turn.error)
            code = exit_code_for(turn.error)
        else:
            _report_answer(turn.message, options, console, turn)
            code = ExitCode.OK
    finally:
        printer.close()
        turn.end_unfinished("Output stopped")  # e.g. stdout closed before the stream began
        if saver is not None:
            _save_at_end(saver, prepared, turn.message, console)
    if saver is not None and saver.failed:
        return ExitCode.LOCAL
    return code


def _save_at_end(saver: _SessionSaver, turn: PreparedTurn, message: Message, console: Console) -> None:
    saver.save()
    if saver.failed:
        return
    assert turn.conversation is not None
    session = turn.conversation.id
    if message.status != "complete" and (message.content or message.reasoning):
        console.note(f"the partial answer is kept in session {session}")
    elif turn.is_new_session:
        console.note(f"saved as session {session} (continue it with --continue {session})")


def _report_answer(message: Message, options: AskOptions, console: Console, reply: Reply | None = None) -> None:
    if message.finish_reason == "length":
        console.note(
            "the answer was cut off at max_tokens" + (", so the JSON is incomplete" if options.json_output else "")
        )
    elif options.json_output:
        problem = check_json_reply(message.content, message.finish_reason).problem
        if problem:
            console.note(f"warning: {problem}")
    if options.usage and isinstance(reply, ToolLoop) and len(reply.replies) > 1:
        console.note(f"usage: {reply.rounds} tool rounds · " + " · ".join(exchange_usage(reply.replies)))
    elif options.usage and message.usage is not None:
        cost = message_cost(message)
        label = usage_label(message.usage, estimated=message.usage_estimated)
        console.note(f"usage: {label}" + (f" · {cost}" if cost else ""))
