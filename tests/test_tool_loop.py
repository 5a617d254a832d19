"""The tool loop against the simulator, with tools run in-process (a fake ToolRunner).

The simulator enforces DeepSeek's rules independently of our request builder (reasoning passed
back whenever a thinking request carries tools, tool_choice auto/none in thinking mode, every
call answered, names valid and unique), so a wrong decision anywhere shows up as a 400 here.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import aclosing

import pytest

from deepseek_tui import labels
from deepseek_tui.catalogue import Catalogue
from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.client import DeepSeekClient
from deepseek_tui.conversation import SessionStore
from deepseek_tui.conversation.model import Conversation, ToolCall, ToolRun
from deepseek_tui.conversation.pricing import add_request_usage
from deepseek_tui.conversation.tool_loop import (
    BAD_ARGUMENTS,
    CANCELLED,
    REFUSED,
    ConversationTools,
    RoundLimitReached,
    ToolCallFinished,
    ToolCallRequested,
    ToolCallStarted,
    ToolLoop,
    ToolOutput,
    ToolSpec,
    TurnStarted,
    cap_output,
)
from deepseek_tui.conversation.turn import AnswerText, TurnEnded, prepare_reply
from deepseek_tui.usage import Usage

CATALOGUE = Catalogue()
OBJECT = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
NUMBERS = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}


class FakeRunner:
    """Tools run in-process; `gate` holds calls of `slow_city` until it is set."""

    def __init__(self, tools: list[ToolSpec] | None = None) -> None:
        self.tools = (
            tools
            if tools is not None
            else [
                ToolSpec("lookup_city", "A fact about a city.", OBJECT, label="box · lookup_city"),
                ToolSpec("add", "Add two numbers.", NUMBERS, label="box · add"),
                ToolSpec("slow_city", "Waits.", OBJECT, label="box · slow_city"),
                ToolSpec("big_city", "Says a lot.", OBJECT, label="box · big_city"),
            ]
        )
        self.calls: list[tuple[str, dict]] = []
        self.gate = asyncio.Event()
        self.running = asyncio.Event()

    def available(self) -> list[ToolSpec]:
        return list(self.tools)

    async def call(self, name: str, arguments: dict) -> ToolOutput:
        self.calls.append((name, arguments))
        if name == "add":
            return ToolOutput(str(arguments["a"] + arguments["b"]))
        if name == "slow_city":
            self.running.set()
            await self.gate.wait()
        if name == "big_city":
            return ToolOutput("x" * 500)
        return ToolOutput(f"{arguments.get('city')} has 3 rivers.")


class Asker:
    """The confirm callback: answers from a list (default "once"), records what it was asked."""

    def __init__(self, *answers: str) -> None:
        self.answers, self.asked = list(answers), []

    async def __call__(self, call, tool):
        self.asked.append(tool.name)
        return self.answers.pop(0) if self.answers else "once"


def conversation(thinking: bool, model: str = "deepseek-flash") -> Conversation:
    return Conversation(settings=ChatSettings(model=model, thinking=thinking))


async def run(loop: ToolLoop, client) -> list:
    async with aclosing(loop.stream(client, currency="USD")) as events:
        return [event async for event in events]


def chat_bodies(simulator) -> list[dict]:
    return [r.body for r in simulator.requests if r.path.endswith("/chat/completions")]


@pytest.fixture
async def client(simulator):
    async with DeepSeekClient("sk-test", simulator.url) as client:
        yield client


@pytest.mark.parametrize(
    ("model", "thinking"), [("deepseek-flash", True), ("deepseek-flash", False), ("deepseek-v4-pro", True)]
)
async def test_a_full_loop_runs_the_calls_and_answers(simulator, client, model, thinking):
    conv, runner, asker = conversation(thinking, model), FakeRunner(), Asker()
    conv.add_user("Use lookup_city for Oslo, then add 2 and 40")
    loop = ToolLoop(conv, CATALOGUE, runner, asker)
    events = await run(loop, client)

    assert runner.calls == [("lookup_city", {"city": "Oslo"}), ("add", {"a": 2, "b": 40})]
    assert asker.asked == ["lookup_city", "add"]
    kinds = [
        type(e).__name__
        for e in events
        if not isinstance(e, AnswerText) and type(e).__name__ != "PhaseChanged" and type(e).__name__ != "ReasoningText"
    ]
    assert kinds == [
        "TurnStarted",
        "TurnEnded",
        "ToolCallRequested",
        "ToolCallStarted",
        "ToolCallFinished",
        "TurnStarted",
        "TurnEnded",
        "ToolCallRequested",
        "ToolCallStarted",
        "ToolCallFinished",
        "TurnStarted",
        "TurnEnded",
    ]
    assert [e.round for e in events if isinstance(e, TurnStarted)] == [0, 1, 2]
    path = conv.active_path()
    assert [m.role for m in path] == ["user", "assistant", "tool", "assistant", "tool", "assistant"]
    first, second, answer = loop.replies
    assert [m.status for m in loop.replies] == ["complete"] * 3
    assert first.tool_calls[0].name == "lookup_city" and second.tool_calls[0].name == "add"
    assert not answer.tool_calls and "42" in answer.content and loop.message is answer
    assert bool(answer.reasoning) == thinking
    assert path[2].tool_run.outcome == "ok" and path[2].tool_run.tool == "box · lookup_city"
    assert path[4].content == "42"
    assert all(m.usage is not None and m.cost is not None for m in loop.replies)  # each request its own

    bodies = chat_bodies(simulator)
    assert len(bodies) == 3 and all(len(b["tools"]) == 4 for b in bodies)
    sent_call = bodies[1]["messages"][-2]["tool_calls"][0]
    assert sent_call == {
        "id": first.tool_calls[0].id,
        "type": "function",
        "function": {"name": "lookup_city", "arguments": first.tool_calls[0].arguments},
    }
    if thinking:  # every earlier reply's full reasoning goes back with tools (reference §12)
        replayed = [m["reasoning_content"] for m in bodies[2]["messages"] if m["role"] == "assistant"]
        assert replayed == [first.reasoning, second.reasoning] and all(replayed)

    meta = labels.answer_meta(answer, CATALOGUE, None, conv)
    assert "2 tool rounds" in meta and "(3 requests)" in meta
    total = sum(m.cost for m in loop.replies)
    assert labels.money(total, "USD") in meta


async def test_parallel_calls_in_one_reply_are_all_answered_in_order(simulator, client):
    conv, runner = conversation(True), FakeRunner()
    conv.add_user("Call lookup_city for Lima and add 1 and 2 at the same time")
    loop = ToolLoop(conv, CATALOGUE, runner, Asker())
    events = await run(loop, client)
    first = loop.replies[0]
    assert [c.name for c in first.tool_calls] == ["lookup_city", "add"]
    assert [c.id[:8] for c in first.tool_calls] == ["call_00_", "call_01_"]
    finished = [e for e in events if isinstance(e, ToolCallFinished)]
    assert [(e.index, e.result.tool_call_id) for e in finished] == [
        (0, first.tool_calls[0].id),
        (1, first.tool_calls[1].id),
    ]
    assert len(loop.replies) == 2 and loop.rounds == 1
    second_request = chat_bodies(simulator)[1]["messages"]
    assert [m["role"] for m in second_request[-3:]] == ["assistant", "tool", "tool"]


async def test_a_refused_call_is_not_run_and_the_model_is_told(simulator, client):
    conv, runner = conversation(False), FakeRunner()
    conv.add_user("Use lookup_city for Riga")
    loop = ToolLoop(conv, CATALOGUE, runner, Asker("refuse"))
    events = await run(loop, client)
    assert runner.calls == []
    result = next(e.result for e in events if isinstance(e, ToolCallFinished))
    assert (result.content, result.tool_run.outcome) == (REFUSED, "refused")
    assert not any(isinstance(e, ToolCallStarted) for e in events)
    assert chat_bodies(simulator)[1]["messages"][-1] == {
        "role": "tool",
        "content": REFUSED,
        "tool_call_id": loop.replies[0].tool_calls[0].id,
    }
    assert loop.message.status == "complete" and not loop.message.tool_calls


async def test_always_asks_once_per_tool_and_conversation_and_confirm_false_never(simulator, client):
    runner = FakeRunner()
    runner.tools[1] = ToolSpec("add", "Add.", NUMBERS, confirm=False)
    conv, asker, choices = conversation(False), Asker("always"), ConversationTools()
    conv.add_user("Use lookup_city for Kyiv then add 1 and 1")
    await run(ToolLoop(conv, CATALOGUE, runner, asker, choices), client)
    conv.add_user("Use lookup_city for Lviv")
    await run(ToolLoop(conv, CATALOGUE, runner, asker, choices), client)
    assert asker.asked == ["lookup_city"]  # asked once; add never (confirm = false)
    assert [name for name, _ in runner.calls] == ["lookup_city", "add", "lookup_city"]
    assert choices.always == {"lookup_city"}


async def test_a_tool_switched_off_is_not_offered(simulator, client):
    runner, choices = FakeRunner(), ConversationTools()
    choices.switch("lookup_city", False)
    conv = conversation(False)
    conv.add_user("Use lookup_city for Bergen")
    loop = ToolLoop(conv, CATALOGUE, runner, Asker(), choices)
    await run(loop, client)
    assert [t["function"]["name"] for t in chat_bodies(simulator)[0]["tools"]] == ["add", "slow_city", "big_city"]
    assert runner.calls == [] and len(loop.replies) == 1


async def test_a_call_of_a_tool_gone_meanwhile_is_answered_with_an_error(simulator, client):
    runner = FakeRunner()
    asker = Asker()

    async def server_stops_then_asked(call, tool):
        runner.tools = [t for t in runner.tools if t.name != "add"]  # e.g. its server died
        return await asker(call, tool)

    conv = conversation(False)
    conv.add_user("Use lookup_city for Turku and add 1 and 2")
    loop = ToolLoop(conv, CATALOGUE, runner, server_stops_then_asked)
    events = await run(loop, client)
    second = [e.result for e in events if isinstance(e, ToolCallFinished)][1]
    assert second.tool_run.outcome == "error" and "No tool named 'add'" in second.content
    assert [name for name, _ in runner.calls] == ["lookup_city"]
    assert loop.error is None and loop.message.status == "complete"


async def test_the_round_limit_stops_the_loop_and_says_so(simulator, client):
    conv, runner = conversation(True), FakeRunner()
    conv.add_user("Use lookup_city for Pisa and repeat")
    loop = ToolLoop(conv, CATALOGUE, runner, Asker(), max_rounds=2)
    events = await run(loop, client)
    assert isinstance(events[-1], RoundLimitReached) and events[-1].rounds == 2
    assert len(runner.calls) == 2 and len(loop.replies) == 3 and loop.stopped_by_limit
    last = [e.result for e in events if isinstance(e, ToolCallFinished)][-1]
    assert last.tool_run.outcome == "skipped" and "limit of 2 tool rounds" in last.content
    conv.add_user("Thanks, that is enough. Summarise.")  # the conversation goes on, no 400
    after = ToolLoop(conv, CATALOGUE, runner, Asker())
    await run(after, client)
    assert after.message.status == "complete" and after.error is None


async def test_long_output_is_cut_to_the_limit_and_the_cut_is_recorded(simulator, client):
    conv = conversation(False)
    conv.add_user("Use big_city for Rome")
    loop = ToolLoop(conv, CATALOGUE, FakeRunner(), Asker(), max_result_chars=100)
    events = await run(loop, client)
    result = next(e.result for e in events if isinstance(e, ToolCallFinished))
    assert result.content.startswith("x" * 100) and "cut to 100 of 500 characters" in result.content
    assert result.tool_run.full_chars == 500
    assert chat_bodies(simulator)[1]["messages"][-1]["content"] == result.content
    assert "output cut to the size limit (500 characters)" in labels.tool_call_title("box", result.tool_run)


async def test_cancelling_mid_call_keeps_everything_and_answers_the_calls(simulator, client):
    conv, runner = conversation(True), FakeRunner()
    conv.add_user("Use lookup_city and slow_city for Bern")
    loop = ToolLoop(conv, CATALOGUE, runner, Asker())
    seen: list = []

    async def consume():
        async with aclosing(loop.stream(client, currency="USD")) as events:
            async for event in events:
                seen.append(event)

    task = asyncio.create_task(consume())
    await asyncio.wait_for(runner.running.wait(), 10)
    assert loop.phase == "tool" and not loop.is_over
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    loop.end_unfinished()
    first = loop.replies[0]
    results = conv.tool_results(first.id)
    assert [c.name for c in first.tool_calls] == ["lookup_city", "slow_city"]
    assert [results[c.id].tool_run.outcome for c in first.tool_calls] == ["ok", "cancelled"]
    assert results[first.tool_calls[1].id].content == CANCELLED
    assert first.status == "complete" and first.reasoning  # what arrived is kept
    conv.add_user("Never mind. Use lookup_city for Linz")  # the history is well-formed: no 400
    after = ToolLoop(conv, CATALOGUE, runner, Asker())
    await run(after, client)
    assert after.error is None and after.message.status == "complete"


async def test_cancelling_while_a_reply_streams_keeps_its_text(simulator, client):
    import threading

    from deepseek_tui.simulator import Fault

    release = threading.Event()
    conv = conversation(False)
    conv.add_user("Use lookup_city for Oslo")
    loop = ToolLoop(conv, CATALOGUE, FakeRunner(), Asker())
    await run(loop, client)  # round 0 and the answer
    simulator.inject(Fault.hold(after_chunks=4, release=release))
    conv.add_user("Tell me more about it")
    second = ToolLoop(conv, CATALOGUE, FakeRunner(), Asker())
    task = asyncio.create_task(run(second, client))
    await asyncio.wait_for(_until(lambda: second.progress.content_chars > 0), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    release.set()
    assert second.message.status == "cancelled" and second.message.content  # closed with the loop, not later
    assert second.phase == "cancelled"
    second.end_unfinished()
    assert second.message.status == "cancelled"


async def test_a_loop_closed_between_events_closes_its_turn_at_once(simulator, client):
    """The app cancels while it draws an event (the loop waits at a yield): the turn inside must
    end then, not when the garbage collector gets to it."""
    conv = conversation(True)
    conv.add_user("Tell me about rivers")
    loop = ToolLoop(conv, CATALOGUE, FakeRunner(), Asker())
    drawing = asyncio.Event()

    async def consume():
        async with aclosing(loop.stream(client, currency="USD")) as events:
            async for event in events:
                if isinstance(event, AnswerText):
                    drawing.set()
                    await asyncio.Event().wait()  # "drawing" until cancelled

    task = asyncio.create_task(consume())
    await asyncio.wait_for(drawing.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert loop.message.status == "cancelled" and loop.message.content and loop.phase == "cancelled"


async def _until(predicate):
    while not predicate():
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("order", [(False, True), (True, False), (True, True)])
async def test_tools_switched_on_mid_conversation_replay_earlier_reasoning(simulator, client, order):
    """Plain turns first (no tools), then a tool loop: the first request with tools must carry every
    earlier turn's reasoning (the simulator answers 400 otherwise). Thinking on/off in any order."""
    conv = Conversation(settings=ChatSettings(model="deepseek-flash", thinking=order[0]))
    for text in ("Hello there", "Tell me about rivers"):
        conv.add_user(text)
        turn = prepare_reply(conv, CATALOGUE)
        events = [e async for e in turn.stream(client, currency="USD")]
        assert isinstance(events[-1], TurnEnded) and turn.error is None
    conv.settings = conv.settings.updated(thinking=order[1])
    conv.add_user("Use lookup_city for Bonn")
    loop = ToolLoop(conv, CATALOGUE, FakeRunner(), Asker())
    await run(loop, client)
    assert loop.error is None and loop.message.status == "complete" and len(loop.replies) == 2
    body = chat_bodies(simulator)[2]
    assert body["tools"]
    assistants = [m for m in body["messages"] if m["role"] == "assistant"]
    earlier = [m for m in conv.active_path() if m.role == "assistant"][:2]
    if order[1]:
        assert [m["reasoning_content"] for m in assistants] == [m.reasoning for m in earlier]
    # and without tools the reasoning is not sent at all
    conv.add_user("No tools now")
    turn = prepare_reply(conv, CATALOGUE)
    assert all("reasoning_content" not in m for m in turn.request.body["messages"])
    turn.end_unfinished()


@pytest.mark.parametrize("fmt", ["json", "toml"])
async def test_a_session_with_tool_turns_reloads_and_continues(simulator, client, tmp_path, fmt):
    store = SessionStore(tmp_path / "sessions", fmt)
    conv, runner = conversation(True), FakeRunner()
    conv.add_user("Use lookup_city for Tartu then add 3 and 4")
    await run(ToolLoop(conv, CATALOGUE, runner, Asker()), client)
    store.save(conv)
    loaded = store.load(conv.id)
    assert [
        (m.role, m.content, m.reasoning, m.tool_calls, m.tool_call_id, m.tool_run) for m in loaded.active_path()
    ] == [(m.role, m.content, m.reasoning, m.tool_calls, m.tool_call_id, m.tool_run) for m in conv.active_path()]
    tools = [t.definition() for t in runner.tools]
    from deepseek_tui.conversation import build_chat_request

    assert (
        build_chat_request(loaded, CATALOGUE, tools=tools).body == build_chat_request(conv, CATALOGUE, tools=tools).body
    )
    loaded.add_user("And use lookup_city for Narva")
    loop = ToolLoop(loaded, CATALOGUE, runner, Asker())
    await run(loop, client)
    assert loop.error is None and len(loop.replies) == 2 and loop.message.status == "complete"


async def test_an_old_session_without_stored_reasoning_continues_with_tools(simulator, client, tmp_path):
    """A session written before reasoning was kept for every turn (thinking replies with none):
    the request sends "" for them and the simulator takes it (whether DeepSeek does is unverified,
    reference §6)."""
    document = {
        "kind": "deepseek-tui-session",
        "schema_version": 1,
        "id": "old1",
        "created_at": "2026-01-05T10:00:00+00:00",
        "updated_at": "2026-01-05T10:01:00+00:00",
        "active_leaf_id": "a1",
        "settings": {"model": "deepseek-reasoner", "thinking": True},
        "messages": [
            {
                "id": "u1",
                "role": "user",
                "status": "complete",
                "content": "Hi",
                "created_at": "2026-01-05T10:00:00+00:00",
            },
            {
                "id": "a1",
                "parent_id": "u1",
                "role": "assistant",
                "status": "complete",
                "content": "Hello!",
                "model": "deepseek-reasoner",
                "thinking": True,
                "created_at": "2026-01-05T10:00:01+00:00",
            },
        ],
    }
    (tmp_path / "sessions").mkdir()
    (tmp_path / "sessions" / "old1.json").write_text(json.dumps(document))
    loaded = SessionStore(tmp_path / "sessions").load("old1")
    from deepseek_tui.model_choice import current_settings

    loaded.settings = current_settings(loaded.settings, CATALOGUE).settings
    loaded.add_user("Use lookup_city for Paris")
    loop = ToolLoop(loaded, CATALOGUE, FakeRunner(), Asker())
    await run(loop, client)
    assert loop.error is None and len(loop.replies) == 2
    assert chat_bodies(simulator)[0]["messages"][1]["reasoning_content"] == ""


def test_cap_output():
    assert cap_output("abc", 3) == ("abc", None)
    text, full = cap_output("abcdef", 3)
    assert text.startswith("abc\n\n[Output cut to 3 of 6 characters") and full == 6


async def test_arguments_that_are_not_a_json_object_are_answered_not_run():
    from deepseek_tui.conversation.tool_loop import _arguments

    assert _arguments("") == ({}, "")
    assert _arguments('{"a": 1}') == ({"a": 1}, "")
    assert _arguments("[1]")[0] is None and "not an object" in _arguments("[1]")[1]
    assert _arguments("{oops")[0] is None and "not valid JSON" in _arguments("{oops")[1]
    assert "the tool was not run" in BAD_ARGUMENTS.format(problem="x")


async def test_calls_that_are_asked_about_show_before_they_run(simulator, client):
    conv = conversation(False)
    conv.add_user("Use lookup_city for Tallinn")
    order: list[str] = []
    loop = ToolLoop(conv, CATALOGUE, FakeRunner(), Asker())

    async with aclosing(loop.stream(client, currency="USD")) as events:
        async for event in events:
            if isinstance(event, ToolCallRequested):
                order.append("requested")
                assert event.tool is not None and event.tool.label == "box · lookup_city"
            elif isinstance(event, ToolCallStarted):
                order.append("started")
            elif isinstance(event, ToolCallFinished):
                order.append("finished")
                assert event.result.tool_run == ToolRun("ok", "box · lookup_city", event.result.tool_run.seconds)
    assert order == ["requested", "started", "finished"]


DE_BRUIJN = [0, 0, 1, 0, 2, 0, 3, 1, 1, 2, 1, 3, 2, 2, 3, 3, 0]
"""Every ordered pair of the four states (thinking off/on × tools off/on) follows another once."""


@pytest.mark.parametrize("model", ["deepseek-flash", "deepseek-v4-pro"])
async def test_no_400_in_any_order_of_thinking_and_tools(simulator, client, model):
    conv, runner = conversation(False, model), FakeRunner()
    for number, state in enumerate(DE_BRUIJN):
        thinking, tools = bool(state & 1), bool(state & 2)
        conv.settings = conv.settings.updated(thinking=thinking)
        conv.add_user(f"Turn {number}: use lookup_city for Oslo")
        if tools:
            reply = ToolLoop(conv, CATALOGUE, runner, Asker())
            await run(reply, client)
            assert reply.rounds == 1
        else:
            reply = prepare_reply(conv, CATALOGUE)
            [event async for event in reply.stream(client, currency="USD")]
        assert reply.error is None, (number, state, reply.error)
        assert reply.message.status == "complete" and bool(reply.message.reasoning) == thinking
    bodies = chat_bodies(simulator)
    assert len(bodies) == len(DE_BRUIJN) + sum(1 for s in DE_BRUIJN if s & 2)


async def test_results_too_large_to_send_stop_the_loop_and_say_so(simulator, client):
    """The API takes requests up to a size (catalogue max_request_bytes): tool results that would
    take the next request over it end the loop with what it has, and nothing half-made is added."""
    from deepseek_tui.conversation.tool_loop import LoopStopped

    small = Catalogue().with_overrides({"deepseek-flash": {"max_request_bytes": 6_000}})
    conv = conversation(False)
    conv.add_user("Use big_city for Rome")
    loop = ToolLoop(conv, small, FakeRunner(), Asker(), max_result_chars=20_000)

    async def huge(name, arguments):
        return ToolOutput("y" * 8_000)

    loop.runner.call = huge
    events = await run(loop, client)
    assert isinstance(events[-1], LoopStopped) and "takes 5.9 KB at most" in events[-1].reason
    assert [m.role for m in conv.active_path()] == ["user", "assistant", "tool"]
    assert len(chat_bodies(simulator)) == 1 and loop.error is None


def test_a_loop_cut_off_while_the_next_reply_streams_its_calls_labels_the_whole_loop():
    """Esc while the next reply was streaming a tool call: that reply (cancelled, its calls never
    run) ends the loop, so its label has the rounds and the totals, not its own estimate only."""
    conv = conversation(False)
    conv.add_user("calculate 2 + 2 and repeat")
    first = conv.start_assistant("deepseek-flash", False)
    first.tool_calls = [ToolCall("call_0", "add", '{"a": 2, "b": 2}')]
    conv.finish_assistant(first.id, finish_reason="tool_calls")
    add_request_usage(first, Usage(400, 10, 0, 400), CATALOGUE, "USD")
    conv.add_tool_result("call_0", "4", ToolRun("ok", "box · add", 0.01))
    cut = conv.start_assistant("deepseek-flash", False)
    cut.tool_calls = [ToolCall("call_1", "add", '{"a": 2')]
    conv.finish_assistant(cut.id, status="cancelled", error="Cancelled")
    add_request_usage(cut, Usage(430, 3, 0, 430), CATALOGUE, "USD", estimated=True)
    meta = labels.answer_meta(cut, CATALOGUE, None, conv)
    assert "1 tool round" in meta and "(2 requests)" in meta and meta.endswith(" · cancelled"), meta
