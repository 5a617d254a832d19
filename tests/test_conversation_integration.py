"""The conversation layer against the local simulator: multi-round chats with tool loops, no 400.

The simulator checks the reasoning pass-back rules (§12) independently of our catalogue, so a
wrong `reasoning_content` decision shows up here as a `BadRequest`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deepseek_tui.catalogue import Catalogue
from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.client import DeepSeekClient
from deepseek_tui.client.events import (
    ContentDelta,
    ReasoningDelta,
    StreamEnd,
    ToolCallDelta,
    UsageReport,
)
from deepseek_tui.conversation import (
    ChatRequest,
    Conversation,
    Message,
    SessionStore,
    ToolCall,
    build_chat_request,
    build_continue_request,
    price_message,
)

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather of a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]
CATALOGUE = Catalogue()


async def stream_into(client: DeepSeekClient, request: ChatRequest, answer: Message, conv: Conversation) -> None:
    calls: dict[int, list[str]] = {}
    usage = None
    async for event in client.stream_chat(request.body, beta=request.beta):
        if isinstance(event, ReasoningDelta):
            answer.reasoning += event.text
        elif isinstance(event, ContentDelta):
            answer.content += event.text
        elif isinstance(event, ToolCallDelta):
            call = calls.setdefault(event.index, ["", "", ""])
            call[0] = event.id or call[0]
            call[1] = event.name or call[1]
            call[2] += event.arguments
        elif isinstance(event, UsageReport):
            usage = event.usage
        elif isinstance(event, StreamEnd):
            answer.tool_calls = [ToolCall(*calls[i]) for i in sorted(calls)]
            status = "partial" if event.finish_reason == "length" else "complete"
            conv.finish_assistant(
                answer.id,
                status=status,
                finish_reason=event.finish_reason,
                usage=usage or event.usage,
                request_id=event.request_id,
            )
            price_message(answer, CATALOGUE, "USD")


async def turn(client: DeepSeekClient, conv: Conversation, text: str | None) -> list[Message]:
    """Send `text` (None: reply to the active leaf as it is) and run the tool loop to its end."""
    if text is not None:
        conv.add_user(text)
    answers = []
    for _ in range(5):
        request = build_chat_request(conv, CATALOGUE, tools=TOOLS)
        settings = conv.settings
        spec = CATALOGUE.get(settings.model)
        answer = conv.start_assistant(
            settings.model, spec.thinks(settings.thinking, settings.reasoning_effort), settings.reasoning_effort
        )
        await stream_into(client, request, answer, conv)
        answers.append(answer)
        if not answer.tool_calls:
            return answers
        for call in answer.tool_calls:
            city = json.loads(call.arguments or "{}").get("city", "somewhere")
            conv.add_tool_result(call.id, f"Sunny, 24 °C in {city}")
    raise AssertionError("the tool loop did not end")


def chat_bodies(simulator) -> list[dict]:
    return [r.body for r in simulator.requests if r.path.endswith("/chat/completions")]


@pytest.mark.parametrize(
    ("model", "thinking"),
    [
        ("deepseek-flash", True),
        ("deepseek-flash", False),
        ("deepseek-v4-pro", True),
        ("deepseek-v4-pro", False),
    ],
)
async def test_multi_round_chat_with_tool_loops(simulator, model: str, thinking: bool) -> None:
    conv = Conversation(settings=ChatSettings(model=model, thinking=thinking, system_prompt="Be brief."))
    async with DeepSeekClient("sk-test", simulator.url) as client:
        first = await turn(client, conv, "What is the weather in Hangzhou? Use the tool.")
        second = await turn(client, conv, "And the weather in Beijing? Use the tool.")
        third = await turn(client, conv, "Thanks, summarise both.")
    assert [len(first), len(second), len(third)] == [2, 2, 1]
    assert first[0].tool_calls and not first[1].tool_calls
    assert all(a.status == "complete" and a.usage for a in first + second + third)
    assert bool(first[0].reasoning) == CATALOGUE.get(model).thinks(thinking)
    last_body = chat_bodies(simulator)[-1]
    assistant_turns = [m for m in last_body["messages"] if m["role"] == "assistant"]
    assert len([m for m in assistant_turns if m.get("tool_calls")]) == 2 and len(assistant_turns) == 4
    if thinking:  # with tools, every earlier turn's full reasoning goes back (reference §12)
        assert [m["reasoning_content"] for m in assistant_turns] == [a.reasoning for a in first + second]
        assert all(a.reasoning for a in first + second)
    else:
        assert all("reasoning_content" not in m for m in assistant_turns)
    assert conv.total_cost() is not None and conv.total_cost() > 0


async def test_a_session_from_the_v32_days_continues_on_the_successor(simulator) -> None:
    """Settings and replies that name deepseek-reasoner: the next turn goes to deepseek-flash in
    thinking mode (the old default stored thinking=False for the reasoner, which always thought)."""
    conv = Conversation(settings=ChatSettings(model="deepseek-reasoner", thinking=False))
    conv.add_user("Weather in Paris?")
    old = conv.start_assistant("deepseek-reasoner", thinking=True)
    old.content, old.reasoning = "Sunny.", "Old V3.2 reasoning."
    conv.finish_assistant(old.id, finish_reason="stop")
    async with DeepSeekClient("sk-test", simulator.url) as client:
        [answer] = await turn(client, conv, "Thanks, that is all.")
    body = chat_bodies(simulator)[-1]
    assert body["model"] == "deepseek-flash" and body["thinking"] == {"type": "enabled"}
    assert body["messages"][1] == {"role": "assistant", "content": "Sunny.", "reasoning_content": "Old V3.2 reasoning."}
    assert answer.status == "complete" and answer.reasoning


async def test_switching_generations_mid_conversation(simulator) -> None:
    conv = Conversation(settings=ChatSettings(model="deepseek-flash", thinking=True))
    async with DeepSeekClient("sk-test", simulator.url) as client:
        await turn(client, conv, "Weather in Oslo? Use the tool.")
        conv.settings = conv.settings.updated(model="deepseek-reasoner")  # retired: its successor answers
        await turn(client, conv, "Weather in Bergen? Use the tool.")
        conv.settings = conv.settings.updated(model="deepseek-v4-pro", thinking=False)
        await turn(client, conv, "Thanks.")
        conv.settings = conv.settings.updated(thinking=True)
        await turn(client, conv, "Weather in Tromsø? Use the tool.")


async def test_thinking_switched_on_after_plain_tool_turns(simulator) -> None:
    for model in ("deepseek-flash", "deepseek-chat"):
        conv = Conversation(settings=ChatSettings(model=model, thinking=False))
        async with DeepSeekClient("sk-test", simulator.url) as client:
            await turn(client, conv, "Weather in Quito? Use the tool.")
            model_on, thinking_on = CATALOGUE.set_thinking(model, True)
            conv.settings = conv.settings.updated(model=model_on, thinking=thinking_on)
            await turn(client, conv, "Weather in Lima? Use the tool.")
        first_tool_turn = chat_bodies(simulator)[-1]["messages"][1]
        assert first_tool_turn["tool_calls"]
        assert first_tool_turn["reasoning_content"] == ""  # written without thinking: nothing to replay


async def test_regenerate_and_edit_branches_keep_working(simulator) -> None:
    conv = Conversation(settings=ChatSettings(model="deepseek-flash", thinking=True))
    async with DeepSeekClient("sk-test", simulator.url) as client:
        await turn(client, conv, "Weather in Lima? Use the tool.")
        final = await turn(client, conv, "Thanks.")
        conv.prepare_regenerate(final[-1].id)
        again = await turn(client, conv, None)
        assert conv.sibling_position(again[-1].id) == (2, 2)
        first_user = conv.active_path()[0]
        conv.edit_user(first_user.id, "Weather in Cusco? Use the tool.")
        edited = await turn(client, conv, None)
        assert edited[0].tool_calls
        conv.switch_to(first_user.id)
        await turn(client, conv, "And in Arequipa? Use the tool.")
    assert len(conv.siblings(first_user.id)) == 2


async def test_continue_a_reply_cut_at_max_tokens(simulator) -> None:
    conv = Conversation(settings=ChatSettings(model="deepseek-flash", thinking=True, max_tokens=60))
    async with DeepSeekClient("sk-test", simulator.url) as client:
        [cut] = await turn(client, conv, "Explain sorting in Python.")
        assert cut.finish_reason == "length" and cut.status == "partial"
        before_content, before_reasoning = cut.content, cut.reasoning
        conv.settings = conv.settings.updated(max_tokens=4000)
        request = build_continue_request(conv, cut.id, CATALOGUE)
        assert request.beta
        conv.resume_assistant(cut.id)
        await stream_into(client, request, cut, conv)
    sent = chat_bodies(simulator)[-1]["messages"][-1]
    assert sent["prefix"] is True and sent["content"] == before_content
    if before_reasoning:
        assert sent["reasoning_content"] == before_reasoning
    assert cut.content.startswith(before_content) and len(cut.content) > len(before_content)
    assert cut.status == "complete"
    assert simulator.requests[-1].path.startswith("/beta")


async def test_a_saved_and_reloaded_conversation_continues(simulator, tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions", fmt="toml")
    conv = Conversation(settings=ChatSettings(model="deepseek-flash", thinking=True))
    async with DeepSeekClient("sk-test", simulator.url) as client:
        await turn(client, conv, "Weather in Kyoto? Use the tool.")
        store.save(conv)
        reloaded = store.load(conv.id)
        assert build_chat_request(reloaded, CATALOGUE, tools=TOOLS) == build_chat_request(conv, CATALOGUE, tools=TOOLS)
        await turn(client, reloaded, "And in Nara? Use the tool.")
        store.save(reloaded)
    assert len(store.load(conv.id)) == len(reloaded)
