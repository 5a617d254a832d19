"""The DeepSeek simulator over real sockets: wire layouts, validation, answers, usage."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deepseek_tui.simulator import Simulator
from deepseek_tui.simulator.tokens import split_tokens

AUTH = {"Authorization": "Bearer sk-test"}
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get weather of a location for a date.",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}, "date": {"type": "string"}},
            "required": ["location", "date"],
        },
    },
}


OFF = {"type": "disabled"}


def chat_body(text="Tell me about Python generators", model="deepseek-flash", thinking=False, **extra):
    """A plain (non-thinking) request unless `thinking`; the API's own default is thinking on."""
    mode = {"type": "enabled" if thinking else "disabled"}
    return {"model": model, "messages": [{"role": "user", "content": text}], "thinking": mode, **extra}


def post(sim, body, path="/chat/completions", headers=AUTH):
    return httpx.post(sim.url + path, json=body, headers=headers, timeout=10)


def stream(sim, body, path="/chat/completions"):
    """(response, raw body text, list of data payloads as str) for a streaming request."""
    response = httpx.post(sim.url + path, json={**body, "stream": True}, headers=AUTH, timeout=10)
    text = response.text
    events = [block for block in re.split(r"\r?\n\r?\n", text) if block.strip()]
    data = [event[len("data: ") :] for event in events if event.startswith("data: ")]
    return response, text, data


def chunks_of(data):
    assert data[-1] == "[DONE]"
    return [json.loads(item) for item in data[:-1]]


def streamed_text(chunks, key="content"):
    return "".join((c["choices"][0]["delta"].get(key) or "") for c in chunks if c["choices"])


# -- streaming layouts ---------------------------------------------------------------------------


def test_non_thinking_stream_layout(simulator):
    response, text, data = stream(simulator, chat_body())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-ds-trace-id"]
    assert not re.search(r"^(id|event):", text, re.M)
    chunks = chunks_of(data)
    first, middle, last = chunks[0], chunks[1:-1], chunks[-1]
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert all(set(c["choices"][0]["delta"]) == {"content"} for c in middle)
    assert last["choices"][0]["delta"] == {"content": ""}
    assert last["choices"][0]["finish_reason"] == "stop"
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])
    assert all("usage" not in c for c in chunks[:-1])
    assert last["usage"]["completion_tokens"] == len(middle)
    assert "completion_tokens_details" not in last["usage"]
    assert len({c["id"] for c in chunks}) == 1 and uuid.UUID(first["id"])
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert list(first) == ["id", "object", "created", "model", "system_fingerprint", "choices"]
    assert first["model"] == "deepseek-flash"


def test_thinking_stream_layout(simulator):
    _, _, data = stream(simulator, chat_body(thinking=True))
    chunks = chunks_of(data)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": None, "reasoning_content": ""}
    deltas = [c["choices"][0]["delta"] for c in chunks[1:-1]]
    kinds = ["r" if d["content"] is None else "c" for d in deltas]
    assert "".join(kinds) == "r" * kinds.count("r") + "c" * kinds.count("c")  # one block each, not interleaved
    assert kinds.count("r") > 5 and kinds.count("c") > 5
    assert all(d["reasoning_content"] is None for d in deltas if d["content"] is not None)
    last = chunks[-1]
    assert last["choices"][0]["delta"] == {"content": "", "reasoning_content": None}
    assert last["usage"]["completion_tokens_details"] == {"reasoning_tokens": kinds.count("r")}
    assert last["usage"]["completion_tokens"] == len(deltas)
    assert last["model"] == "deepseek-flash"


def test_include_usage_puts_null_usage_on_every_other_chunk(simulator):
    _, _, data = stream(simulator, chat_body(stream_options={"include_usage": True}))
    chunks = chunks_of(data)
    assert all(c["usage"] is None for c in chunks[:-1])
    usage = chunks[-1]["usage"]
    assert list(usage) == [
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "prompt_tokens_details",
        "prompt_cache_hit_tokens",
        "prompt_cache_miss_tokens",
    ]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_openai_style_usage_chunk(simulator):
    simulator.openai_usage_chunk = True
    _, _, data = stream(simulator, chat_body())
    chunks = chunks_of(data)
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop" and "usage" not in chunks[-2]


def test_keepalives_crlf_and_split_writes(simulator):
    simulator.keepalives = 2
    simulator.keepalive_interval = 0.01
    simulator.crlf = True
    simulator.split_writes = True
    simulator.split_write_delay = 0.001
    pieces = []
    with httpx.stream("POST", simulator.url + "/chat/completions", json=chat_body(stream=True), headers=AUTH) as r:
        for piece in r.iter_raw():
            pieces.append(piece)
    raw = b"".join(pieces)
    assert raw.startswith(b": keep-alive\r\n\r\n: keep-alive\r\n\r\ndata: ")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert raw.endswith(b"data: [DONE]\r\n\r\n")
    events = raw.count(b"\r\n\r\ndata: ") + 1
    assert len(pieces) > events  # events arrived in several reads
    broken = 0
    for piece in pieces:
        try:
            piece.decode()
        except UnicodeDecodeError:
            broken += 1
    assert broken > 0  # some reads end inside a multibyte character
    assert "深度求索" in raw.decode()


# -- non-streaming ------------------------------------------------------------------------------


def test_non_streaming_layout(simulator):
    reply = post(simulator, chat_body()).json()
    assert list(reply) == ["id", "object", "created", "model", "choices", "usage", "system_fingerprint"]
    assert reply["object"] == "chat.completion" and uuid.UUID(reply["id"])
    assert reply["model"] == "deepseek-flash"
    choice = reply["choices"][0]
    assert choice["index"] == 0 and choice["logprobs"] is None and choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant" and "reasoning_content" not in choice["message"]

    thinking = post(simulator, chat_body(thinking=True)).json()
    assert thinking["choices"][0]["message"]["reasoning_content"]
    assert thinking["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0


def test_thinking_is_on_by_default_and_effort_none_turns_it_off(simulator):
    default = {"model": "deepseek-v4-pro", "messages": [{"role": "user", "content": "hi"}]}
    reply = post(simulator, default).json()
    assert reply["model"] == "deepseek-v4-pro" and reply["choices"][0]["message"]["reasoning_content"]
    off = post(simulator, {**default, "reasoning_effort": "none"}).json()
    assert "reasoning_content" not in off["choices"][0]["message"]
    for alias in ("minimal", "medium", "xhigh", "ultra", "low", "high", "max"):
        assert post(simulator, {**default, "reasoning_effort": alias}).status_code == 200
    wrong = post(simulator, {**default, "reasoning_effort": "extreme"})
    assert (
        wrong.status_code == 422 and "reasoning_effort: unknown variant `extreme`" in wrong.json()["error"]["message"]
    )


def test_retired_names(simulator):
    """deepseek-chat / deepseek-reasoner answer 400 naming the supported models (reference §12);
    the retired Flash aliases are still routed to deepseek-flash."""
    for retired in ("deepseek-chat", "deepseek-reasoner", "nope"):
        response = post(simulator, chat_body(model=retired))
        assert response.status_code == 400
        assert response.json()["error"] == {
            "message": f"The supported API model names are deepseek-flash or deepseek-v4-pro, but you passed {retired}",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_request_error",
        }
    for alias in ("deepseek-v4-flash", "deepseek-v4-flash-vision-exp"):
        reply = post(simulator, chat_body(model=alias)).json()
        assert reply["model"] == "deepseek-flash"


def test_default_max_tokens_follow_the_mode(simulator):
    """8K without thinking, 64K with, 128K at effort max: a long answer is cut there."""
    simulator.answer_tokens = 9_000
    simulator.answer_style = "fence"
    plain = post(simulator, chat_body()).json()
    assert plain["choices"][0]["finish_reason"] == "length" and plain["usage"]["completion_tokens"] == 8_192
    thinking = post(simulator, chat_body(thinking=True)).json()
    assert thinking["choices"][0]["finish_reason"] == "stop"


def test_blank_lines_before_json(simulator):
    simulator.blank_lines_before_json = 3
    simulator.keepalive_interval = 0.01
    response = post(simulator, chat_body())
    assert response.text.startswith("\n\n\n{")
    assert json.loads(response.text)["object"] == "chat.completion"


# -- answers ------------------------------------------------------------------------------------


def test_answers_are_deterministic_markdown_and_quote_the_question(simulator):
    body = chat_body("How do I reverse a list?", thinking=True)
    first = post(simulator, body).json()["choices"][0]["message"]
    second = post(simulator, body).json()["choices"][0]["message"]
    _, _, data = stream(simulator, body)
    chunks = chunks_of(data)
    assert first == second
    assert streamed_text(chunks) == first["content"]
    assert streamed_text(chunks, "reasoning_content") == first["reasoning_content"]
    content = first["content"]
    assert "How do I reverse a list?" in content and "How do I reverse a list?" in first["reasoning_content"]
    for marker in ("## ", "\n- ", "|------|", "```python\n"):
        assert marker in content
    other = post(simulator, chat_body("Something else entirely", thinking=True)).json()
    assert other["choices"][0]["message"]["content"] != content


def test_answer_tokens_forces_length_and_fence_style(simulator):
    simulator.answer_tokens = 300
    reply = post(simulator, chat_body()).json()
    assert reply["usage"]["completion_tokens"] == 300
    assert reply["choices"][0]["finish_reason"] == "stop"
    simulator.answer_style = "fence"
    _, _, data = stream(simulator, chat_body())
    chunks = chunks_of(data)
    assert len(chunks) == 300 + 2
    content = streamed_text(chunks)
    assert content.startswith("```python\n") and content.endswith("\n```\n")
    assert content.count("```") == 2


def test_max_tokens_cuts_with_length(simulator):
    reply = post(simulator, chat_body(max_tokens=7)).json()
    assert reply["choices"][0]["finish_reason"] == "length"
    assert reply["usage"]["completion_tokens"] == 7
    thinking = post(simulator, chat_body(thinking=True, max_tokens=5)).json()
    message = thinking["choices"][0]["message"]
    assert message["content"] == "" and message["reasoning_content"]
    assert thinking["usage"]["completion_tokens_details"]["reasoning_tokens"] == 5


def test_stop_sequence_cuts_the_answer(simulator):
    reply = post(simulator, chat_body(stop=["### Key points"])).json()
    content = reply["choices"][0]["message"]["content"]
    assert content and "Key points" not in content and reply["choices"][0]["finish_reason"] == "stop"


def test_json_mode_answers_a_json_object(simulator):
    reply = post(simulator, chat_body("Reply in json please", response_format={"type": "json_object"})).json()
    parsed = json.loads(reply["choices"][0]["message"]["content"])
    assert isinstance(parsed, dict) and parsed["question"] == "Reply in json please"


def test_prefix_completion_continues_without_repeating(simulator):
    body = {
        "model": "deepseek-flash",
        "thinking": OFF,
        "messages": [
            {"role": "user", "content": "Write quick sort"},
            {"role": "assistant", "content": "```python\n", "prefix": True},
        ],
    }
    content = post(simulator, body, "/beta/chat/completions").json()["choices"][0]["message"]["content"]
    assert not content.startswith("```") and content.rstrip().endswith("```")
    stopped = post(simulator, {**body, "stop": ["```"]}, "/beta/chat/completions").json()
    assert "```" not in stopped["choices"][0]["message"]["content"]


# -- tool calls ---------------------------------------------------------------------------------


def test_streamed_tool_call_arrives_in_awkward_fragments(simulator):
    body = chat_body("What's the weather in Hangzhou tomorrow?", tools=[WEATHER_TOOL])
    _, _, data = stream(simulator, body)
    chunks = chunks_of(data)
    fragments = [c["choices"][0]["delta"]["tool_calls"][0] for c in chunks if "tool_calls" in c["choices"][0]["delta"]]
    head = fragments[0]
    assert re.fullmatch(r"call_00_[A-Za-z0-9]{24}", head["id"])
    assert head["type"] == "function" and head["function"] == {"name": "get_weather", "arguments": ""}
    assert all(set(f) == {"index", "function"} for f in fragments[1:])
    arguments = "".join(f["function"]["arguments"] for f in fragments)
    assert json.loads(arguments) == {"location": "Hangzhou", "date": "2025-12-01"}
    assert any(not _is_json(f["function"]["arguments"]) for f in fragments[1:])
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["choices"][0]["delta"] == {"content": ""}


def _is_json(text):
    try:
        json.loads(text)
        return True
    except ValueError:
        return False


def test_thinking_tool_loop_round_trip(simulator):
    messages = [{"role": "user", "content": "Use the get_weather tool for Paris"}]
    first = post(simulator, {"model": "deepseek-flash", "messages": messages, "tools": [WEATHER_TOOL]}).json()
    message = first["choices"][0]["message"]
    assert first["choices"][0]["finish_reason"] == "tool_calls"
    assert message["content"] is None and message["reasoning_content"]
    call = message["tool_calls"][0]
    assert call["index"] == 0 and json.loads(call["function"]["arguments"])["location"] == "Paris"
    messages += [message, {"role": "tool", "tool_call_id": call["id"], "content": "Sunny, 21 degrees"}]
    second = post(simulator, {"model": "deepseek-flash", "messages": messages, "tools": [WEATHER_TOOL]}).json()
    answer = second["choices"][0]["message"]
    assert second["choices"][0]["finish_reason"] == "stop"
    assert "Sunny, 21 degrees" in answer["content"] and answer["reasoning_content"]


def test_tool_choice_none_answers_normally(simulator):
    reply = post(simulator, chat_body("weather please", tools=[WEATHER_TOOL], tool_choice="none")).json()
    assert reply["choices"][0]["finish_reason"] == "stop" and "tool_calls" not in reply["choices"][0]["message"]


# -- usage and caching ----------------------------------------------------------------------------


def test_cache_hits_are_the_shared_prefix_in_64_token_units(simulator):
    system = {"role": "system", "content": "You are terse. " * 60}  # ~900 chars, ~225 tokens
    first = post(
        simulator,
        {"model": "deepseek-flash", "thinking": OFF, "messages": [system, {"role": "user", "content": "one"}]},
    ).json()
    assert first["usage"]["prompt_cache_hit_tokens"] == 0
    second = post(
        simulator,
        {"model": "deepseek-flash", "thinking": OFF, "messages": [system, {"role": "user", "content": "two"}]},
    ).json()
    usage = second["usage"]
    assert usage["prompt_cache_hit_tokens"] == 192
    assert usage["prompt_tokens_details"]["cached_tokens"] == 192
    assert usage["prompt_cache_hit_tokens"] + usage["prompt_cache_miss_tokens"] == usage["prompt_tokens"]
    short = post(simulator, chat_body("hi")).json()
    assert short["usage"]["prompt_cache_hit_tokens"] == 0


# -- auth, routes -----------------------------------------------------------------------------------


def test_auth_errors_and_redacted_recording(simulator):
    missing = httpx.post(simulator.url + "/chat/completions", json=chat_body())
    assert missing.status_code == 401 and missing.text == "Authentication Fails (governor)"
    wrong = post(simulator, chat_body(), headers={"Authorization": "Bearer sk-wrong-abcd"})
    assert wrong.status_code == 401
    assert wrong.json() == {
        "error": {
            "message": "Authentication Fails, Your api key: ****abcd is invalid",
            "type": "authentication_error",
            "param": None,
            "code": "invalid_request_error",
        }
    }
    recorded = simulator.requests[-1]
    assert recorded.method == "POST" and recorded.path == "/chat/completions"
    assert recorded.body == chat_body()
    assert "sk-wrong" not in json.dumps(recorded.headers)


def test_models_balance_and_unknown_routes(simulator):
    models = httpx.get(simulator.url + "/models", headers=AUTH).json()
    assert [m["id"] for m in models["data"]] == ["deepseek-flash", "deepseek-v4-pro"]
    assert httpx.get(simulator.url + "/v1/models", headers=AUTH).json() == models
    balance = httpx.get(simulator.url + "/user/balance", headers=AUTH).json()
    assert balance["balance_infos"][0] == {
        "currency": "CNY",
        "total_balance": "110.00",
        "granted_balance": "10.00",
        "topped_up_balance": "100.00",
    }
    simulator.balance = {"is_available": False, "balance_infos": []}
    assert httpx.get(simulator.url + "/user/balance", headers=AUTH).json()["is_available"] is False
    missing = httpx.get(simulator.url + "/nope", headers=AUTH)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "invalid_request_error"
    for path in ("/v1/chat/completions", "/beta/chat/completions"):
        assert post(simulator, chat_body(), path).status_code == 200


def test_fim_on_beta_only(simulator):
    off = post(simulator, {"model": "deepseek-flash", "prompt": "def f():"}, "/completions")
    assert off.status_code == 400 and off.json()["error"]["message"] == (
        'completions api is only available when using beta api (set base_url="https://api.deepseek.com/beta")'
    )
    body = {"model": "deepseek-flash", "prompt": "def fib(a):", "suffix": "print(fib(3))", "max_tokens": 64}
    reply = post(simulator, body, "/beta/completions").json()
    assert reply["object"] == "text_completion" and reply["choices"][0]["finish_reason"] == "stop"
    text = reply["choices"][0]["text"]
    assert text.startswith("\n    ") and text == post(simulator, body, "/beta/completions").json()["choices"][0]["text"]
    _, _, data = stream(simulator, body, "/beta/completions")
    chunks = chunks_of(data)
    assert "".join(c["choices"][0]["text"] for c in chunks) == text
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["usage"]["completion_tokens"] > 0
    assert post(simulator, {**body, "model": "deepseek-reasoner"}, "/beta/completions").status_code == 400
    assert post(simulator, {**body, "stream_options": {"include_usage": True}}, "/beta/completions").status_code == 400
    too_long = post(simulator, {**body, "max_tokens": 4097}, "/beta/completions")
    assert too_long.json()["error"]["message"] == "Invalid max_tokens value, the valid range of max_tokens is [1, 4096]"


# -- validation ------------------------------------------------------------------------------------

ROLE_TOOL_MESSAGE = (
    "Failed to deserialize the JSON body into the target type: messages[0].role: unknown variant `Tool`, "
    "expected one of `system`, `user`, `assistant`, `tool` at line 1 column "
)


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (chat_body(max_tokens=393217), 400, "Invalid max_tokens value, the valid range of max_tokens is [1, 393216]"),
        (chat_body(max_tokens=0), 400, "Invalid max_tokens value, the valid range of max_tokens is [1, 393216]"),
        (
            chat_body(model="deepseek-v4-pro", max_tokens=393217),
            400,
            "Invalid max_tokens value, the valid range of max_tokens is [1, 393216]",
        ),
        (chat_body(n=2), 400, "Invalid n value (currently only n = 1 is supported)"),
        (
            chat_body(stream_options={"include_usage": True}),
            400,
            "stream_options should be set along with stream = true",
        ),
        (
            chat_body(thinking=True, tools=[WEATHER_TOOL], tool_choice="required"),
            400,
            "Thinking mode does not support this tool_choice",
        ),
        (
            chat_body(
                thinking=True,
                tools=[WEATHER_TOOL],
                tool_choice={"type": "function", "function": {"name": "get_weather"}},
            ),
            400,
            "Thinking mode does not support this tool_choice",
        ),
    ],
)
def test_rule_violations(simulator, body, status, message):
    response = post(simulator, body)
    assert response.status_code == status
    assert response.json()["error"] == {
        "message": message,
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_request_error",
    }


def test_type_errors_use_serde_wording(simulator):
    thinking = post(simulator, {**chat_body(), "thinking": False})
    assert thinking.status_code == 422
    assert (
        "thinking: invalid type: boolean `false`, expected struct ThinkingOptions"
        in thinking.json()["error"]["message"]
    )
    raw = '{"messages":[{"role":"Tool","content":"x"}],"model":"deepseek-flash"}'
    role = httpx.post(
        simulator.url + "/chat/completions", content=raw, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert role.json()["error"]["message"] == ROLE_TOOL_MESSAGE + str(raw.index('"Tool"') + len('"Tool"'))
    tool = post(simulator, chat_body(tools=[{"type": "retrieval", "function": {"name": "x"}}]))
    assert "tools[0].type: unknown variant `retrieval`, expected `function`" in tool.json()["error"]["message"]


def test_forced_tool_choice_works_without_thinking(simulator):
    forced = {"type": "function", "function": {"name": "get_weather"}}
    for choice in ("required", forced):
        assert post(simulator, chat_body("weather", tools=[WEATHER_TOOL], tool_choice=choice)).status_code == 200
    for choice in ("auto", "none"):
        body = chat_body("weather", thinking=True, tools=[WEATHER_TOOL], tool_choice=choice)
        assert post(simulator, body).status_code == 200


def test_logprobs_are_accepted_in_both_modes(simulator):
    assert post(simulator, chat_body(thinking=True, logprobs=True)).status_code == 200
    assert post(simulator, chat_body(logprobs=True)).status_code == 200


def test_image_parts_only_for_deepseek_flash(simulator):
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    parts = [{"type": "text", "text": "What is this?"}, image]
    body = {"model": "deepseek-flash", "thinking": OFF, "messages": [{"role": "user", "content": parts}]}
    reply = post(simulator, body)
    assert reply.status_code == 200
    text_only = post(simulator, {**body, "messages": [{"role": "user", "content": "What is this?"}]}).json()
    assert reply.json()["usage"]["prompt_tokens"] == text_only["usage"]["prompt_tokens"] + 384
    pro = post(simulator, {**body, "model": "deepseek-v4-pro"})
    assert pro.status_code == 400 and pro.json()["error"]["message"] == "deepseek-v4-pro does not support image input"
    in_system = post(
        simulator, {**body, "messages": [{"role": "system", "content": [image]}, {"role": "user", "content": "x"}]}
    )
    assert in_system.status_code == 422


def test_prefix_rules(simulator):
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Sure", "prefix": True}]
    plain = {"model": "deepseek-flash", "thinking": OFF}
    assert post(simulator, {**plain, "messages": messages}).status_code == 400
    not_last = [messages[1], messages[0]]
    assert post(simulator, {**plain, "messages": not_last}, "/beta/chat/completions").status_code == 400
    assert post(simulator, {**plain, "messages": messages}, "/beta/chat/completions").status_code == 200
    # thinking with tools: the prefixed (continued) message needs no reasoning_content
    thinking = {"model": "deepseek-flash", "messages": messages, "tools": [WEATHER_TOOL]}
    assert post(simulator, thinking, "/beta/chat/completions").status_code == 200


def _tool_turn(reasoning=True, call_id="call_00_AAAAAAAAAAAAAAAAAAAAAAAA"):
    assistant = {
        "role": "assistant",
        "content": "",
        "tool_calls": [{"id": call_id, "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}],
    }
    if reasoning:
        assistant["reasoning_content"] = "I need the weather."
    return [assistant, {"role": "tool", "tool_call_id": call_id, "content": "Rain"}]


def test_reasoning_passback_with_tools(simulator):
    """V4.1: a thinking request with tools must replay every earlier turn's reasoning_content;
    without tools, or without thinking, nothing is checked (reference §12)."""
    user = {"role": "user", "content": "weather?"}
    plain_turn = {"role": "assistant", "content": "Rain."}
    history = [user, *_tool_turn(True), plain_turn, user]
    base = {"model": "deepseek-flash", "tools": [WEATHER_TOOL], "messages": history}
    missing = post(simulator, base)
    assert missing.status_code == 400
    message = missing.json()["error"]["message"]
    assert message.startswith("The `reasoning_content` in the thinking mode must be passed back to the API. [trace_id=")
    assert re.fullmatch(r".*\[trace_id=[0-9a-f]+\]", message)
    kept = [user, *_tool_turn(True), {**plain_turn, "reasoning_content": "It rains."}, user]
    assert post(simulator, {**base, "messages": kept}).status_code == 200
    assert post(simulator, {**base, "messages": [user, *_tool_turn(False), user]}).status_code == 400
    assert post(simulator, {**base, "thinking": OFF}).status_code == 200
    without_tools = {"model": "deepseek-flash", "messages": [user, plain_turn, user]}
    assert post(simulator, without_tools).status_code == 200


# -- packaging -----------------------------------------------------------------------------------


def test_simulator_imports_neither_textual_nor_the_catalogue():
    code = (
        "import sys, deepseek_tui.simulator as s; s.Simulator().start().stop(); "
        "bad = [m for m in ('textual', 'deepseek_tui.catalogue') if m in sys.modules]; "
        "sys.exit(', '.join(bad) or None)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def test_context_manager_and_url():
    with Simulator() as sim:
        url = sim.url
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        assert post(sim, chat_body()).status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/models", timeout=2)


def test_openai_sdk_reads_the_simulator(simulator):
    """An independent real-world consumer of the wire format."""
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(api_key="sk-test", base_url=simulator.url, max_retries=0)
    pieces, reasoning, usage = [], [], None
    for chunk in client.chat.completions.create(
        model="deepseek-flash", messages=[{"role": "user", "content": "Hello SDK"}], stream=True
    ):
        if chunk.choices:
            delta = chunk.choices[0].delta
            pieces.append(delta.content or "")
            reasoning.append(getattr(delta, "reasoning_content", None) or "")
        usage = chunk.usage or usage
    assert "Hello SDK" in "".join(pieces) and "".join(reasoning)
    assert usage.completion_tokens == usage.completion_tokens_details.reasoning_tokens + len([p for p in pieces if p])
    with pytest.raises(openai.AuthenticationError, match=r"\*\*\*\*ong!"):
        openai.OpenAI(api_key="wrong!", base_url=simulator.url, max_retries=0).models.list()


def test_tool_messages_must_pair_with_tool_calls(simulator):
    user = {"role": "user", "content": "weather?"}
    turn = _tool_turn(True)
    plain = {"model": "deepseek-flash", "thinking": OFF}
    orphan = post(simulator, {**plain, "messages": [user, turn[1]]})
    assert orphan.status_code == 400
    assert orphan.json()["error"]["message"] == (
        "Messages with role 'tool' must be a response to a preceding message with 'tool_calls'"
    )
    unanswered = post(simulator, {**plain, "messages": [user, turn[0], user]})
    assert unanswered.status_code == 400
    assert unanswered.json()["error"]["message"].endswith("(insufficient tool messages following tool_calls message)")
    wrong_id = [user, turn[0], {**turn[1], "tool_call_id": "call_00_other"}]
    assert post(simulator, {**plain, "messages": wrong_id}).status_code == 400
    assert post(simulator, {**plain, "messages": [user, *turn]}).status_code == 200


@given(st.text(max_size=200))
def test_tokens_rejoin_to_the_text_and_hold_at_most_four_visible_characters(text):
    pieces = split_tokens(text)
    assert "".join(pieces) == text
    assert all(piece and len("".join(piece.split())) <= 4 for piece in pieces)


def test_any_key_is_accepted_when_the_simulator_has_none():
    with Simulator(api_key=None) as sim:
        assert post(sim, chat_body(), headers={"Authorization": "Bearer whatever"}).status_code == 200
        assert httpx.post(sim.url + "/chat/completions", json=chat_body()).status_code == 401


def test_fim_echo_and_stop(simulator):
    body = {"model": "deepseek-flash", "prompt": "def f(x):\n", "echo": True}
    text = post(simulator, body, "/beta/completions").json()["choices"][0]["text"]
    assert text.startswith("def f(x):\n    # filled in")
    stopped = post(simulator, {**body, "echo": False, "stop": ["return"]}, "/beta/completions").json()
    assert "return" not in stopped["choices"][0]["text"] and stopped["choices"][0]["text"].strip()
