"""Session documents: exact round trips in JSON and TOML, hostile input reported, not crashed on."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.client.events import Usage
from deepseek_tui.conversation import Conversation, ToolCall, codec
from deepseek_tui.conversation.codec import CodecError
from deepseek_tui.conversation.model import TOOL_OUTCOMES, ToolRun


def snapshot(conv: Conversation) -> tuple:
    return (
        conv.id,
        conv.custom_title,
        conv.created_at,
        conv.updated_at,
        conv.active_leaf_id,
        conv.settings,
        conv.schema_version,
        [dataclasses.asdict(m) for m in conv.messages],
    )


awkward_text = st.lists(
    st.one_of(
        st.characters(),  # everything but surrogates
        st.characters(categories=["Cs"]),  # lone surrogates
        st.characters(categories=["Cc", "Zl", "Zp"]),  # controls, line/paragraph separators
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),  # CJK
        st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF),  # emoji
        st.sampled_from(['"', "\\", "'", "\r\n", "$utf32", "]]", "[[", "#", "=", "{", "}"]),
    ),
    max_size=40,
).map("".join)
optional_text = st.none() | awkward_text
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


@st.composite
def conversations(draw) -> Conversation:
    conv = Conversation(
        id=draw(st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True)),
        title=draw(st.none() | awkward_text.filter(bool)),
        created_at=draw(moments),
        updated_at=draw(moments),
        settings=ChatSettings(
            model=draw(awkward_text),
            thinking=draw(st.booleans()),
            temperature=draw(st.none() | st.floats(0, 2)),
            max_tokens=draw(st.none() | st.integers(1, 10**6)),
            system_prompt=draw(awkward_text),
        ),
    )
    for _ in range(draw(st.integers(0, 6))):
        role = draw(st.sampled_from(["user", "assistant", "tool", "system"]))
        path = conv.active_path()
        parent = draw(st.sampled_from([None] + [m.id for m in path])) if path else None
        conv.active_leaf_id = parent
        message = conv.add_user("") if role != "tool" else conv.add_user("")
        message.role = role
        message.content = draw(awkward_text)
        message.reasoning = draw(awkward_text)
        message.tool_calls = draw(st.lists(st.builds(ToolCall, awkward_text, awkward_text, awkward_text), max_size=2))
        message.tool_call_id = draw(optional_text)
        message.model = draw(optional_text)
        message.thinking = draw(st.booleans())
        message.effort = draw(optional_text)
        message.usage = draw(st.none() | st.builds(Usage, *[st.integers(0, 2**40) for _ in range(5)]))
        message.cost = draw(st.none() | st.floats(0, 1e6))
        message.currency = draw(optional_text)
        message.usage_estimated = draw(st.booleans())
        message.last_request_usage = draw(st.none() | st.builds(Usage, *[st.integers(0, 2**40) for _ in range(5)]))
        message.finish_reason = draw(optional_text)
        message.status = draw(st.sampled_from(["complete", "partial", "cancelled", "failed", "streaming"]))
        message.error = draw(optional_text)
        message.created_at = draw(moments)
        message.completed_at = draw(st.none() | moments)
        message.reasoning_seconds = draw(st.none() | st.floats(0, 1e5))
        message.request_id = draw(optional_text)
        message.tool_run = draw(
            st.none()
            | st.builds(
                ToolRun,
                st.sampled_from(TOOL_OUTCOMES),
                awkward_text,
                st.none() | st.floats(0, 1e5),
                st.none() | st.integers(0, 2**40),
            )
        )
    conv.active_leaf_id = draw(st.sampled_from([None, *[m.id for m in conv.messages]]))
    return conv


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conversations())
def test_both_formats_round_trip_exactly(conv: Conversation) -> None:
    from_json = codec.decode(codec.encode(conv, "json"), "json")
    from_toml = codec.decode(codec.encode(conv, "toml"), "toml")
    assert snapshot(from_json) == snapshot(conv)
    assert snapshot(from_toml) == snapshot(conv)


def test_written_files_are_valid_utf8_even_with_lone_surrogates() -> None:
    conv = Conversation()
    conv.add_user("half a pair: \ud83d and 你好 and \x00")
    for fmt in ("json", "toml"):
        data = codec.encode(conv, fmt)
        data.decode("utf-8")  # strict
        assert codec.decode(data, fmt).messages[0].content == "half a pair: \ud83d and 你好 and \x00"


def test_very_long_text_round_trips() -> None:
    conv = Conversation()
    text = ("长文本 long text \t\r\n" * 50_000) + "😀"
    conv.add_user(text)
    for fmt in ("json", "toml"):
        assert codec.decode(codec.encode(conv, fmt), fmt).messages[0].content == text


def test_none_values_are_left_out_not_written_as_null() -> None:
    conv = Conversation()
    conv.add_user("x")
    document = json.loads(codec.encode(conv, "json"))
    assert "null" not in codec.encode(conv, "json").decode()
    assert "parent_id" not in document["messages"][0]
    assert codec.decode(codec.encode(conv, "json"), "json").messages[0].parent_id is None


def valid_document() -> dict:
    conv = Conversation()
    conv.add_user("hello")
    return json.loads(codec.encode(conv, "json"))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d.update(schema_version=99), "newer"),
        (lambda d: d.pop("schema_version"), "schema_version"),
        (lambda d: d.update(kind="something-else"), "not a deepseek-tui session"),
        (lambda d: d.update(messages="nope"), "messages: expected a list"),
        (lambda d: d["messages"][0].update(role="wizard"), "role"),
        (lambda d: d["messages"][0].update(content=42), r"messages\[0\]\.content: expected a string"),
        (lambda d: d["messages"][0].update(created_at="yesterday"), "not a date-time"),
        (lambda d: d["messages"][0].update(created_at="2026-01-01T00:00:00"), "time zone"),
        (lambda d: d["messages"][0].update(usage={"prompt_tokens": -1}), "negative"),
        (lambda d: d["messages"][0].update(parent_id="ghost"), "unknown parent"),
        (lambda d: d.update(active_leaf_id="ghost"), "active leaf"),
        (lambda d: d.update(settings={"temperature": "hot"}), "settings"),
        (lambda d: d["messages"][0].update(content={"$utf32": "zz"}), "bad \\$utf32"),
        (lambda d: d["messages"].append(dict(d["messages"][0])), "duplicate message id"),
    ],
)
def test_wrong_documents_are_refused_with_a_reason(change, reason) -> None:
    document = valid_document()
    change(document)
    with pytest.raises(CodecError, match=reason):
        codec.decode(json.dumps(document).encode(), "json")


@pytest.mark.parametrize(
    ("data", "fmt", "reason"),
    [
        (b"", "json", "not valid JSON"),
        (b'{"kind": "deepseek-tui-session", "mess', "json", "not valid JSON"),
        (b"[1, 2]", "json", "expected a table"),
        (b"\xff\xfe", "json", "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "json", "nested too deeply|not valid JSON"),
        (b"a = [" * 100_000, "toml", "nested too deeply|not valid TOML"),
        (b"kind = 'deepseek-tui-session'\nschema_version = 1\n[[messages", "toml", "TOML"),
    ],
    ids=["empty", "truncated", "array", "not-utf8", "deep-json", "deep-toml", "truncated-toml"],
)
def test_broken_bytes_are_refused_with_a_reason(data: bytes, fmt, reason: str) -> None:
    with pytest.raises(CodecError, match=reason):
        codec.decode(data, fmt)


def test_times_come_back_in_utc() -> None:
    local = datetime(2026, 5, 1, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    conv = Conversation(created_at=local)
    back = codec.decode(codec.encode(conv, "toml"), "toml")
    assert back.created_at == local
    assert back.created_at.tzinfo == UTC


def test_a_tool_result_keeps_how_its_call_went() -> None:
    conv = Conversation()
    conv.add_user("Add 2 and 3 with the tool")
    reply = conv.start_assistant("deepseek-flash", False)
    reply.tool_calls = [ToolCall("call_00_a", "add", '{"a": 2, "b": 3}'), ToolCall("call_01_b", "big", "{}")]
    conv.finish_assistant(reply.id, finish_reason="tool_calls")
    conv.add_tool_result("call_00_a", "5", ToolRun("ok", "box · add", 0.25))
    conv.add_tool_result("call_01_b", "0123…", ToolRun("error", "box · big", 1.5, full_chars=90_000))
    for fmt in ("json", "toml"):
        back = codec.decode(codec.encode(conv, fmt), fmt)
        assert [m.tool_run for m in back.messages] == [
            None,
            None,
            ToolRun("ok", "box · add", 0.25),
            ToolRun("error", "box · big", 1.5, 90_000),
        ]
        assert back.tool_results(reply.id).keys() == {"call_00_a", "call_01_b"}
    document = json.loads(codec.encode(conv, "json"))
    assert document["messages"][2]["tool_run"] == {"outcome": "ok", "tool": "box · add", "seconds": 0.25}


@pytest.mark.parametrize("bad", [{"outcome": "exploded"}, "ok", {"outcome": "ok", "seconds": "soon"}])
def test_a_bad_tool_run_is_reported(bad) -> None:
    conv = Conversation()
    conv.add_user("x")
    document = json.loads(codec.encode(conv, "json"))
    document["messages"][0]["tool_run"] = bad
    with pytest.raises(CodecError, match="tool_run"):
        codec.decode(json.dumps(document).encode(), "json")
