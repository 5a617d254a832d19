"""Exact request bodies built from a conversation (reference §2, §6)."""

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

STREAM = {"stream": True, "stream_options": {"include_usage": True}}
TOOLS = [{"type": "function", "function": {"name": "get_date", "parameters": {"type": "object"}}}]


def catalogue() -> Catalogue:
    return Catalogue().with_overrides(
        {
            "legacy-r1": {
                "thinking_switch": "none",
                "thinking_default": True,
                "reasoning_passback": "never",
                "max_output_tokens": 8192,
            }
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


def test_v32_tool_loop_keeps_reasoning_only_after_the_last_user_message() -> None:
    conv = two_turns_with_tool_loops("deepseek-reasoner")
    body = build_chat_request(conv, catalogue(), tools=TOOLS).body
    assert body == {
        "model": "deepseek-reasoner",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Weather tomorrow?"},
            {"role": "assistant", "content": "", "tool_calls": [call("call_1")]},
            {"role": "tool", "content": "2026-01-01", "tool_call_id": "call_1"},
            {"role": "assistant", "content": "Sunny."},
            {"role": "user", "content": "And the day after?"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [call("call_2")],
                "reasoning_content": "Date again.",
            },
            {"role": "tool", "content": "2026-01-01", "tool_call_id": "call_2"},
        ],
        "tools": TOOLS,
        **STREAM,
    }


def test_v4_tool_turns_keep_reasoning_of_every_tool_call_turn_forever() -> None:
    conv = two_turns_with_tool_loops("deepseek-v4-flash", system="")
    conv.add_user("Thanks")  # a later user turn: the tool turns' reasoning must still go back
    body = build_chat_request(conv, catalogue()).body
    assert body == {
        "model": "deepseek-v4-flash",
        "messages": [
            {"role": "user", "content": "Weather tomorrow?"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [call("call_1")],
                "reasoning_content": "Need the date.",
            },
            {"role": "tool", "content": "2026-01-01", "tool_call_id": "call_1"},
            {"role": "assistant", "content": "Sunny."},
            {"role": "user", "content": "And the day after?"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [call("call_2")],
                "reasoning_content": "Date again.",
            },
            {"role": "tool", "content": "2026-01-01", "tool_call_id": "call_2"},
            {"role": "user", "content": "Thanks"},
        ],
        "thinking": {"type": "enabled"},
        "reasoning_effort": "high",
        **STREAM,
    }


def test_never_rule_strips_all_reasoning() -> None:
    conv = two_turns_with_tool_loops("legacy-r1", system="")
    body = build_chat_request(conv, catalogue()).body
    assert all("reasoning_content" not in m for m in body["messages"])
    assert [m["role"] for m in body["messages"]] == [
        "user", "assistant", "tool", "assistant", "user", "assistant", "tool"
    ]
    assert "thinking" not in body


def test_v32_reasoning_between_user_turns_is_not_sent() -> None:
    conv = Conversation(settings=ChatSettings(model="deepseek-reasoner"))
    conv.add_user("a")
    answer(conv, "deepseek-reasoner", content="b", reasoning="thinking about a")
    conv.add_user("c")
    assert build_chat_request(conv, catalogue()).body["messages"] == [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"},
        {"role": "user", "content": "c"},
    ]


def test_sampling_params_sent_without_thinking_and_dropped_with_it() -> None:
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
        "top_p": 0.9,
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
        **STREAM,
    }


def test_reasoner_model_thinks_regardless_of_the_flag() -> None:
    conv = Conversation(settings=ChatSettings(model="deepseek-reasoner", temperature=1.3))
    conv.add_user("x")
    body = build_chat_request(conv, catalogue()).body
    assert "temperature" not in body and "thinking" not in body
    chat = conv.settings.updated(model="deepseek-chat")
    assert build_chat_request(conv, catalogue(), chat).body["temperature"] == 1.3


def test_max_tokens_is_clamped_to_the_model() -> None:
    conv = Conversation(settings=ChatSettings(model="deepseek-chat", max_tokens=100_000))
    conv.add_user("x")
    assert build_chat_request(conv, catalogue()).body["max_tokens"] == 8192
    v4 = conv.settings.updated(model="deepseek-v4-flash", max_tokens=10**9)
    assert build_chat_request(conv, catalogue(), v4).body["max_tokens"] == 393_216
    zero = conv.settings.updated(max_tokens=0)
    assert build_chat_request(conv, catalogue(), zero).body["max_tokens"] == 1


def test_ui_only_fields_are_never_sent() -> None:
    conv = two_turns_with_tool_loops("deepseek-v4-flash")
    allowed = {"role", "content", "tool_calls", "tool_call_id", "reasoning_content"}
    for message in build_chat_request(conv, catalogue()).body["messages"]:
        assert set(message) <= allowed


def test_streaming_and_empty_unfinished_replies_are_skipped() -> None:
    conv = Conversation(settings=ChatSettings(model="deepseek-v4-flash"))
    conv.add_user("a")
    answer(conv, "deepseek-v4-flash", content="", status="failed", thinking=False)
    conv.add_user("b")
    conv.start_assistant("deepseek-v4-flash", thinking=False)  # the reply being requested
    assert build_chat_request(conv, catalogue()).body["messages"] == [
        {"role": "user", "content": "a"},
        {"role": "user", "content": "b"},
    ]


def test_cancelled_reply_is_sent_with_its_partial_text_but_without_tool_calls() -> None:
    conv = Conversation(settings=ChatSettings(model="deepseek-v4-flash", thinking=True))
    conv.add_user("a")
    answer(conv, "deepseek-v4-flash", content="Half an ans", reasoning="r", calls=["call_9"],
           status="cancelled")
    conv.add_user("go on")
    assert build_chat_request(conv, catalogue()).body["messages"] == [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "Half an ans"},
        {"role": "user", "content": "go on"},
    ]


def test_unanswered_tool_calls_are_dropped() -> None:
    conv = Conversation(settings=ChatSettings(model="deepseek-v4-flash", thinking=True))
    conv.add_user("a")
    answer(conv, "deepseek-v4-flash", content="", reasoning="r", calls=["call_1", "call_2"])
    conv.add_tool_result("call_1", "one")
    conv.add_user("never mind")
    assert build_chat_request(conv, catalogue()).body["messages"] == [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "", "tool_calls": [call("call_1")],
         "reasoning_content": "r"},
        {"role": "tool", "content": "one", "tool_call_id": "call_1"},
        {"role": "user", "content": "never mind"},
    ]


def test_continue_request_sends_the_reply_as_prefix() -> None:
    conv = Conversation(settings=ChatSettings(model="deepseek-chat", system_prompt="S"))
    conv.add_user("Write a poem")
    cut = answer(conv, "deepseek-v4-pro", content="Roses are", reasoning="A poem.",
                 status="partial")
    cut.effort = "max"
    request = build_continue_request(conv, cut.id, catalogue())
    assert request.beta is True
    assert request.body == {
        "model": "deepseek-v4-pro",
        "messages": [
            {"role": "system", "content": "S"},
            {"role": "user", "content": "Write a poem"},
            {"role": "assistant", "content": "Roses are", "prefix": True,
             "reasoning_content": "A poem."},
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
    plain = answer(conv, "deepseek-v4-flash", content="p", reasoning="", thinking=False,
                   status="cancelled")
    body = build_continue_request(conv, plain.id, catalogue()).body
    assert body["messages"][-1] == {"role": "assistant", "content": "p", "prefix": True}
    assert body["thinking"] == {"type": "disabled"}
    assert body["messages"][-2] == {"role": "user", "content": "q2"}


def test_continue_refuses_non_assistant_and_tool_call_replies() -> None:
    conv = Conversation()
    user = conv.add_user("q")
    with pytest.raises(ConversationError):
        build_continue_request(conv, user.id, catalogue())
    tool_turn = answer(conv, "deepseek-v4-flash", calls=["c"])
    with pytest.raises(ConversationError):
        build_continue_request(conv, tool_turn.id, catalogue())


def test_inert_settings_explain_what_has_no_effect() -> None:
    thinking = ChatSettings(model="deepseek-v4-flash", thinking=True, max_tokens=10**6)
    inert = inert_settings(thinking, catalogue())
    assert set(inert) == {
        "temperature", "top_p", "presence_penalty", "frequency_penalty", "max_tokens"
    }
    assert "393216" in inert["max_tokens"]
    plain = inert_settings(ChatSettings(model="deepseek-chat"), catalogue())
    assert set(plain) == {"reasoning_effort"}
    reasoner = inert_settings(ChatSettings(model="deepseek-reasoner"), catalogue())
    assert reasoner["logprobs"].startswith("rejected")


def test_tool_turns_without_reasoning_get_an_empty_one_once_thinking_is_on() -> None:
    conv = Conversation(settings=ChatSettings(model="deepseek-v4-flash", thinking=False))
    conv.add_user("a")
    answer(conv, "deepseek-v4-flash", calls=["call_1"], thinking=False)
    conv.add_tool_result("call_1", "r")
    answer(conv, "deepseek-v4-flash", content="done", thinking=False)
    conv.add_user("b")
    plain = build_chat_request(conv, catalogue()).body["messages"]
    assert "reasoning_content" not in plain[1]
    thinking = conv.settings.updated(thinking=True)
    messages = build_chat_request(conv, catalogue(), thinking).body["messages"]
    assert messages[1] == {
        "role": "assistant", "content": "", "tool_calls": [call("call_1")], "reasoning_content": ""
    }
    assert messages[3] == {"role": "assistant", "content": "done"}
