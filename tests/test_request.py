"""Exact request bodies built from a conversation (reference §2, §6, and §12 which wins)."""

from __future__ import annotations

import pytest

from deepseek_tui.catalogue import Catalogue
from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.conversation import (
    Conversation,
    ConversationError,
    ToolCall,
    build_chat_request,
    build_continue_request,
    inert_settings,
)
from deepseek_tui.conversation.request import adjusted_settings

STREAM = {"stream": True, "stream_options": {"include_usage": True}}
TOOLS = [{"type": "function", "function": {"name": "get_date", "parameters": {"type": "object"}}}]


def catalogue() -> Catalogue:
    """Today's catalogue plus config-defined models that keep the older pass-back rules."""
    return Catalogue().with_overrides(
        {
            "legacy-r1": {
                "thinking_switch": "none",
                "thinking_default": True,
                "reasoning_passback": "never",
                "max_output_tokens": 8192,
            },
            "legacy-v32": {"thinking_switch": "parameter", "reasoning_passback": "tool_loop"},
            "legacy-v4": {
                "thinking_switch": "parameter",
                "thinking_default": True,
                "reasoning_passback": "tool_turns",
                "efforts": ["low", "high", "max"],
                "default_effort": "high",
            },
        }
    )


def answer(conv, model, *, content="", reasoning="", calls=(), thinking=True, status="complete"):
    message = conv.start_assistant(model, thinking=thinking)
    message.content = content
    message.reasoning = reasoning
    message.tool_calls = [ToolCall(cid, "get_date", "{}") for cid in calls]
    conv.finish_assistant(message.id, status=status, finish_reason="stop")
    return message


def two_turns_with_tool_loops(model: str, system: str = "Be brief.") -> Conversation:
    """user1 -> a1 (tool call) -> tool -> a2 -> user2 -> a3 (tool call) -> tool."""
    conv = Conversation(settings=ChatSettings(model=model, thinking=True, system_prompt=system))
    conv.add_user("Weather tomorrow?")
    answer(conv, model, reasoning="Need the date.", calls=["call_1"])
    conv.add_tool_result("call_1", "2026-01-01")
    answer(conv, model, content="Sunny.", reasoning="Got the date.")
    conv.add_user("And the day after?")
    answer(conv, model, reasoning="Date again.", calls=["call_2"])
    conv.add_tool_result("call_2", "2026-01-01")
    return conv


def call(cid: str) -> dict:
    return {"id": cid, "type": "function", "function": {"name": "get_date", "arguments": "{}"}}


def test_with_tools_every_earlier_turn_sends_its_full_reasoning() -> None:
    """V4.1: a request carrying tools replays the reasoning of every earlier assistant turn,
    tool-calling or not, untruncated (reference §12)."""
    conv = two_turns_with_tool_loops("deepseek-flash", system="")
    long_reasoning = "Got the date. " * 500
    conv.active_path()[3].reasoning = long_reasoning  # "Sunny." — a turn without tool calls
    conv.add_user("Thanks")
    body = build_chat_request(conv, catalogue(), tools=TOOLS).body
    assert body == {
        "model": "deepseek-flash",
        "messages": [
            {"role": "user", "content": "Weather tomorrow?"},
            {"role": "assistant", "content": "", "tool_calls": [call("call_1")], "reasoning_content": "Need the date."},
            {"role": "tool", "content": "2026-01-01", "tool_call_id": "call_1"},
            {"role": "assistant", "content": "Sunny.", "reasoning_content": long_reasoning},
            {"role": "user", "content": "And the day after?"},
            {"role": "assistant", "content": "", "tool_calls": [call("call_2")], "reasoning_content": "Date again."},
            {"role": "tool", "content": "2026-01-01", "tool_call_id": "call_2"},
            {"role": "user", "content": "Thanks"},
        ],
        "thinking": {"type": "enabled"},
        "reasoning_effort": "high",
        "tools": TOOLS,
        **STREAM,
    }


def test_without_tools_no_reasoning_is_sent() -> None:
    conv = two_turns_with_tool_loops("deepseek-flash", system="")
    conv.add_user("Thanks")
    messages = build_chat_request(conv, catalogue()).body["messages"]
    assert all("reasoning_content" not in m for m in messages)
    assert [m["role"] for m in messages] == [
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
        "assistant",
        "tool",
        "user",
    ]


def test_tool_loop_rule_keeps_reasoning_only_after_the_last_user_message() -> None:
    conv = two_turns_with_tool_loops("legacy-v32")
    body = build_chat_request(conv, catalogue(), tools=TOOLS).body
    assert body["messages"][1:] == [
        {"role": "user", "content": "Weather tomorrow?"},
        {"role": "assistant", "content": "", "tool_calls": [call("call_1")]},
        {"role": "tool", "content": "2026-01-01", "tool_call_id": "call_1"},
        {"role": "assistant", "content": "Sunny."},
        {"role": "user", "content": "And the day after?"},
        {"role": "assistant", "content": "", "tool_calls": [call("call_2")], "reasoning_content": "Date again."},
        {"role": "tool", "content": "2026-01-01", "tool_call_id": "call_2"},
    ]


def test_tool_turns_rule_keeps_reasoning_of_every_tool_call_turn_forever() -> None:
    conv = two_turns_with_tool_loops("legacy-v4", system="")
    conv.add_user("Thanks")  # a later user turn: the tool turns' reasoning must still go back
    messages = build_chat_request(conv, catalogue()).body["messages"]
    assert [m.get("reasoning_content") for m in messages] == [
        None,
        "Need the date.",
        None,
        None,
        None,
        "Date again.",
        None,
        None,
    ]


def test_never_rule_strips_all_reasoning() -> None:
    conv = two_turns_with_tool_loops("legacy-r1", system="")
    body = build_chat_request(conv, catalogue()).body
    assert all("reasoning_content" not in m for m in body["messages"])
    assert [m["role"] for m in body["messages"]] == [
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
        "assistant",
        "tool",
    ]
    assert "thinking" not in body


def test_sampling_params_follow_the_thinking_mode() -> None:
    """Without thinking top_p is fixed at 1.0 (not sent); in thinking mode temperature and the
    penalties are ignored (not sent) and top_p is floored at 0.95 (reference §12)."""
    settings = ChatSettings(
        model="deepseek-v4-pro",
        thinking=False,
        temperature=0.0,
        top_p=0.9,
        presence_penalty=0.5,
        frequency_penalty=None,
        max_tokens=1000,
        json_output=True,
    )
    conv = Conversation(settings=settings)
    conv.add_user("json please")
    assert build_chat_request(conv, catalogue()).body == {
        "model": "deepseek-v4-pro",
        "messages": [{"role": "user", "content": "json please"}],
        "thinking": {"type": "disabled"},
        "max_tokens": 1000,
        "temperature": 0.0,
        "presence_penalty": 0.5,
        "response_format": {"type": "json_object"},
        **STREAM,
    }
    thinking = settings.updated(thinking=True, reasoning_effort="max", json_output=False)
    assert build_chat_request(conv, catalogue(), thinking).body == {
        "model": "deepseek-v4-pro",
        "messages": [{"role": "user", "content": "json please"}],
        "thinking": {"type": "enabled"},
        "reasoning_effort": "max",
        "max_tokens": 1000,
        "top_p": 0.95,
        **STREAM,
    }
    assert build_chat_request(conv, catalogue(), thinking.updated(top_p=0.97)).body["top_p"] == 0.97


@pytest.mark.parametrize(
    ("effort", "thinking_field", "sent_effort"),
    [
        ("none", {"type": "disabled"}, None),
        ("minimal", {"type": "enabled"}, "low"),
        ("medium", {"type": "enabled"}, "high"),
        ("xhigh", {"type": "enabled"}, "high"),
        ("ultra", {"type": "enabled"}, "max"),
        (None, {"type": "enabled"}, "high"),
    ],
)
def test_effort_none_is_thinking_off_and_aliases_resolve(effort, thinking_field, sent_effort) -> None:
    conv = Conversation(settings=ChatSettings(model="deepseek-flash", thinking=True, reasoning_effort=effort))
    conv.add_user("x")
    body = build_chat_request(conv, catalogue()).body
    assert body["thinking"] == thinking_field and body.get("reasoning_effort") == sent_effort


@pytest.mark.parametrize("choice", ["required", {"type": "function", "function": {"name": "get_date"}}])
def test_a_forced_tool_choice_becomes_auto_in_thinking_mode(choice) -> None:
    conv = Conversation(settings=ChatSettings(model="deepseek-flash", thinking=True))
    conv.add_user("date?")
    request = build_chat_request(conv, catalogue(), tools=TOOLS, tool_choice=choice)
    assert request.body["tool_choice"] == "auto"
    assert len(request.notes) == 1 and "not allowed in thinking mode; sent as auto" in request.notes[0]
    plain = build_chat_request(
        conv, catalogue(), conv.settings.updated(thinking=False), tools=TOOLS, tool_choice=choice
    )
    assert plain.body["tool_choice"] == choice and plain.notes == ()
    auto = build_chat_request(conv, catalogue(), tools=TOOLS, tool_choice="none")
    assert auto.body["tool_choice"] == "none" and auto.notes == ()


@pytest.mark.parametrize(
    ("retired", "thinking"), [("deepseek-reasoner", True), ("deepseek-chat", False), ("deepseek-flash", None)]
)
def test_a_retired_model_is_never_sent(retired, thinking) -> None:
    for wish in (False, True):
        conv = Conversation(settings=ChatSettings(model=retired, thinking=wish))
        conv.add_user("x")
        body = build_chat_request(conv, catalogue()).body
        expected = wish if thinking is None else thinking
        assert body["model"] == "deepseek-flash"
        assert body["thinking"] == {"type": "enabled" if expected else "disabled"}


def test_max_tokens_is_clamped_to_the_model() -> None:
    conv = Conversation(settings=ChatSettings(model="legacy-r1", max_tokens=100_000))
    conv.add_user("x")
    assert build_chat_request(conv, catalogue()).body["max_tokens"] == 8192
    flash = conv.settings.updated(model="deepseek-flash", max_tokens=10**9)
    assert build_chat_request(conv, catalogue(), flash).body["max_tokens"] == 393_216
    zero = conv.settings.updated(max_tokens=0)
    assert build_chat_request(conv, catalogue(), zero).body["max_tokens"] == 1


def test_ui_only_fields_are_never_sent() -> None:
    conv = two_turns_with_tool_loops("deepseek-flash")
    allowed = {"role", "content", "tool_calls", "tool_call_id", "reasoning_content"}
    for message in build_chat_request(conv, catalogue()).body["messages"]:
        assert set(message) <= allowed


def test_streaming_and_empty_unfinished_replies_are_skipped() -> None:
    conv = Conversation(settings=ChatSettings(model="deepseek-flash"))
    conv.add_user("a")
    answer(conv, "deepseek-flash", content="", status="failed", thinking=False)
    conv.add_user("b")
    conv.start_assistant("deepseek-flash", thinking=False)  # the reply being requested
    assert build_chat_request(conv, catalogue()).body["messages"] == [
        {"role": "user", "content": "a"},
        {"role": "user", "content": "b"},
    ]


def test_cancelled_reply_is_sent_with_its_partial_text_but_without_tool_calls() -> None:
    conv = Conversation(settings=ChatSettings(model="deepseek-flash", thinking=True))
    conv.add_user("a")
    answer(conv, "deepseek-flash", content="Half an ans", reasoning="r", calls=["call_9"], status="cancelled")
    conv.add_user("go on")
    assert build_chat_request(conv, catalogue()).body["messages"] == [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "Half an ans"},
        {"role": "user", "content": "go on"},
    ]


def test_unanswered_tool_calls_are_dropped() -> None:
    conv = Conversation(settings=ChatSettings(model="deepseek-flash", thinking=True))
    conv.add_user("a")
    answer(conv, "deepseek-flash", content="", reasoning="r", calls=["call_1", "call_2"])
    conv.add_tool_result("call_1", "one")
    conv.add_user("never mind")
    assert build_chat_request(conv, catalogue(), tools=TOOLS).body["messages"] == [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "", "tool_calls": [call("call_1")], "reasoning_content": "r"},
        {"role": "tool", "content": "one", "tool_call_id": "call_1"},
        {"role": "user", "content": "never mind"},
    ]


def test_continue_request_sends_the_reply_as_prefix() -> None:
    conv = Conversation(settings=ChatSettings(model="deepseek-flash", system_prompt="S"))
    conv.add_user("Write a poem")
    cut = answer(conv, "deepseek-v4-pro", content="Roses are", reasoning="A poem.", status="partial")
    cut.effort = "max"
    request = build_continue_request(conv, cut.id, catalogue())
    assert request.beta is True
    assert request.body == {
        "model": "deepseek-v4-pro",
        "messages": [
            {"role": "system", "content": "S"},
            {"role": "user", "content": "Write a poem"},
            {"role": "assistant", "content": "Roses are", "prefix": True, "reasoning_content": "A poem."},
        ],
        "thinking": {"type": "enabled"},
        "reasoning_effort": "max",
        **STREAM,
    }


def test_continue_without_thinking_or_on_never_models_sends_no_reasoning() -> None:
    conv = Conversation(settings=ChatSettings(model="legacy-r1"))
    conv.add_user("q")
    cut = answer(conv, "legacy-r1", content="part", reasoning="r", status="partial")
    last = build_continue_request(conv, cut.id, catalogue()).body["messages"][-1]
    assert last == {"role": "assistant", "content": "part", "prefix": True}
    conv.add_user("q2")
    plain = answer(conv, "deepseek-flash", content="p", reasoning="", thinking=False, status="cancelled")
    body = build_continue_request(conv, plain.id, catalogue()).body
    assert body["messages"][-1] == {"role": "assistant", "content": "p", "prefix": True}
    assert body["thinking"] == {"type": "disabled"}
    assert body["messages"][-2] == {"role": "user", "content": "q2"}


def test_continue_refuses_non_assistant_and_tool_call_replies() -> None:
    conv = Conversation()
    user = conv.add_user("q")
    with pytest.raises(ConversationError):
        build_continue_request(conv, user.id, catalogue())
    tool_turn = answer(conv, "deepseek-flash", calls=["c"])
    with pytest.raises(ConversationError):
        build_continue_request(conv, tool_turn.id, catalogue())


def test_continuing_an_old_reasoner_reply_goes_to_the_successor() -> None:
    conv = Conversation(settings=ChatSettings(model="deepseek-reasoner"))
    conv.add_user("q")
    cut = answer(conv, "deepseek-reasoner", content="half", reasoning="r", status="partial")
    body = build_continue_request(conv, cut.id, catalogue()).body
    assert body["model"] == "deepseek-flash" and body["thinking"] == {"type": "enabled"}
    assert body["messages"][-1] == {"role": "assistant", "content": "half", "prefix": True, "reasoning_content": "r"}


def test_inert_and_adjusted_settings_explain_themselves() -> None:
    thinking = ChatSettings(model="deepseek-flash", thinking=True, max_tokens=10**6, top_p=0.5)
    assert set(inert_settings(thinking, catalogue())) == {"temperature", "presence_penalty", "frequency_penalty"}
    adjusted = adjusted_settings(thinking, catalogue())
    assert set(adjusted) == {"max_tokens", "top_p"}
    assert "393216" in adjusted["max_tokens"] and adjusted["top_p"].startswith("0.95 is sent")
    plain = inert_settings(ChatSettings(model="deepseek-flash"), catalogue())
    assert plain == {"top_p": "fixed at 1 by the API without thinking"}  # effort none is a choice
    assert adjusted_settings(ChatSettings(model="deepseek-flash", top_p=0.5), catalogue()) == {}
    legacy = inert_settings(ChatSettings(model="legacy-r1"), catalogue())
    assert legacy["reasoning_effort"] == "this model takes no reasoning effort"


def test_tool_turns_without_reasoning_get_an_empty_one_once_thinking_is_on() -> None:
    conv = Conversation(settings=ChatSettings(model="deepseek-flash", thinking=False))
    conv.add_user("a")
    answer(conv, "deepseek-flash", calls=["call_1"], thinking=False)
    conv.add_tool_result("call_1", "r")
    answer(conv, "deepseek-flash", content="done", thinking=False)
    conv.add_user("b")
    plain = build_chat_request(conv, catalogue(), tools=TOOLS).body["messages"]
    assert all("reasoning_content" not in m for m in plain)
    thinking = conv.settings.updated(thinking=True)
    messages = build_chat_request(conv, catalogue(), thinking, tools=TOOLS).body["messages"]
    assert messages[1] == {"role": "assistant", "content": "", "tool_calls": [call("call_1")], "reasoning_content": ""}
    assert messages[3] == {"role": "assistant", "content": "done", "reasoning_content": ""}
