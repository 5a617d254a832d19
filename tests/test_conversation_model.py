"""The message tree: branches, siblings, titles, totals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from deepseek_tui.client.events import Usage
from deepseek_tui.conversation import Conversation, ConversationError, ToolCall


def chat_with_two_turns() -> tuple[Conversation, list[str]]:
    conv = Conversation()
    u1 = conv.add_user("first question")
    a1 = conv.start_assistant("deepseek-flash", thinking=False)
    a1.content = "first answer"
    conv.finish_assistant(a1.id, finish_reason="stop")
    u2 = conv.add_user("second question")
    a2 = conv.start_assistant("deepseek-flash", thinking=False)
    a2.content = "second answer"
    conv.finish_assistant(a2.id, finish_reason="stop")
    return conv, [u1.id, a1.id, u2.id, a2.id]


def test_messages_chain_under_the_active_leaf() -> None:
    conv, ids = chat_with_two_turns()
    assert [m.id for m in conv.active_path()] == ids
    assert [m.parent_id for m in conv.active_path()] == [None, *ids[:-1]]
    assert conv.get(ids[1]).status == "complete"
    assert conv.get(ids[1]).completed_at is not None


def test_start_assistant_is_streaming() -> None:
    conv = Conversation()
    conv.add_user("q")
    answer = conv.start_assistant("deepseek-v4-pro", thinking=True, effort="max")
    assert (answer.status, answer.model, answer.thinking, answer.effort) == (
        "streaming",
        "deepseek-v4-pro",
        True,
        "max",
    )
    assert answer.created_at.tzinfo is not None


def test_edit_user_adds_a_sibling_and_keeps_the_old_branch() -> None:
    conv, (u1, a1, u2, a2) = chat_with_two_turns()
    edited = conv.edit_user(u2, "second question, rephrased")
    assert edited.parent_id == a1
    assert [m.id for m in conv.active_path()] == [u1, a1, edited.id]
    assert conv.get(u2).content == "second question"
    assert [m.id for m in conv.siblings(edited.id)] == [u2, edited.id]
    assert conv.sibling_position(edited.id) == (2, 2)
    assert conv.sibling_position(u2) == (1, 2)
    assert conv.sibling_position(u1) == (1, 1)


def test_editing_the_first_message_makes_a_second_root() -> None:
    conv, (u1, *_rest) = chat_with_two_turns()
    edited = conv.edit_user(u1, "another start")
    assert edited.parent_id is None
    assert conv.sibling_position(edited.id) == (2, 2)
    assert conv.active_path() == [edited]


def test_regenerate_makes_a_sibling_answer() -> None:
    conv, (u1, a1, u2, a2) = chat_with_two_turns()
    parent = conv.prepare_regenerate(a2)
    assert parent.id == u2
    assert conv.active_leaf_id == u2
    again = conv.start_assistant("deepseek-flash", thinking=False)
    assert again.parent_id == u2
    assert conv.sibling_position(again.id) == (2, 2)
    assert [m.id for m in conv.active_path()] == [u1, a1, u2, again.id]


def test_switch_to_descends_to_the_most_recent_leaf() -> None:
    conv, (u1, a1, u2, a2) = chat_with_two_turns()
    edited = conv.edit_user(u2, "other")
    answer = conv.start_assistant("m", thinking=False)
    conv.switch_to(u2)
    assert conv.active_leaf_id == a2
    conv.switch_to(a1)  # a1 has two children; the newer branch wins
    assert conv.active_leaf_id == answer.id
    assert conv.active_path()[-2].id == edited.id


def test_switch_to_prefers_the_newest_by_time() -> None:
    conv, (u1, a1, u2, a2) = chat_with_two_turns()
    edited = conv.edit_user(u2, "other")
    edited.created_at = conv.get(u2).created_at - timedelta(hours=1)
    conv.switch_to(a1)
    assert conv.active_leaf_id == a2


def test_tool_results_need_a_call_on_the_active_branch() -> None:
    conv = Conversation()
    conv.add_user("q")
    a = conv.start_assistant("m", thinking=False)
    a.tool_calls = [ToolCall("call_1", "get_date", "{}")]
    conv.finish_assistant(a.id, finish_reason="tool_calls")
    result = conv.add_tool_result("call_1", "2026-01-01")
    assert (result.role, result.tool_call_id, result.parent_id) == ("tool", "call_1", a.id)
    with pytest.raises(ConversationError):
        conv.add_tool_result("call_unknown", "x")


def test_wrong_roles_are_refused() -> None:
    conv, (u1, a1, u2, a2) = chat_with_two_turns()
    with pytest.raises(ConversationError):
        conv.edit_user(a1, "x")
    with pytest.raises(ConversationError):
        conv.prepare_regenerate(u1)
    with pytest.raises(ConversationError):
        conv.switch_to("nope")


def test_title_follows_first_user_message_until_renamed() -> None:
    conv = Conversation()
    assert conv.title == "New chat"
    conv.add_user("  How do I\n  reverse a list in Python?  ")
    assert conv.title == "How do I reverse a list in Python?"
    conv.rename("Lists")
    assert conv.title == "Lists"
    conv.rename("   ")
    assert conv.title == "How do I reverse a list in Python?"


def test_long_titles_are_cut() -> None:
    conv = Conversation()
    conv.add_user("word " * 40)
    assert len(conv.title) == 60
    assert conv.title.endswith("…")


def test_totals_cover_all_branches() -> None:
    conv, (u1, a1, u2, a2) = chat_with_two_turns()
    conv.get(a1).usage = Usage(100, 10, 64, 36, 0)
    conv.get(a2).usage = Usage(200, 20, 128, 72, 5)
    conv.get(a1).cost, conv.get(a1).currency = 0.5, "USD"
    conv.get(a2).cost, conv.get(a2).currency = 0.25, "USD"
    conv.prepare_regenerate(a2)
    a3 = conv.start_assistant("m", thinking=False)
    a3.usage = Usage(1, 1, 0, 1, 0)
    a3.cost, a3.currency = 2.0, "CNY"
    assert conv.total_usage() == Usage(301, 31, 192, 109, 5)
    assert conv.total_cost() == pytest.approx(0.75)
    assert conv.total_cost("CNY") == pytest.approx(2.0)
    assert Conversation().total_cost() is None


def test_touch_and_changes_move_updated_at() -> None:
    conv = Conversation()
    before = conv.updated_at
    conv.updated_at = before - timedelta(days=1)
    conv.add_user("x")
    assert conv.updated_at >= before


def test_finish_assistant_accumulates_usage_for_continuations() -> None:
    conv = Conversation()
    conv.add_user("q")
    a = conv.start_assistant("m", thinking=False)
    conv.finish_assistant(a.id, status="partial", finish_reason="length", usage=Usage(10, 5, 0, 10))
    conv.finish_assistant(a.id, finish_reason="stop", usage=Usage(20, 7, 10, 10))
    assert a.usage == Usage(30, 12, 10, 20)
    assert a.context_usage == a.last_request_usage == Usage(20, 7, 10, 10)  # the last request's context
    assert a.status == "complete"


def test_copy_is_independent() -> None:
    conv, (u1, *_rest) = chat_with_two_turns()
    twin = conv.copy()
    assert twin.id != conv.id
    twin.get(u1).content = "changed"
    assert conv.get(u1).content == "first question"


def test_resume_assistant_reopens_a_cut_reply() -> None:
    conv = Conversation()
    conv.add_user("q")
    a = conv.start_assistant("m", thinking=False)
    conv.finish_assistant(a.id, status="cancelled", error="Cancelled by you")
    conv.add_user("other")
    conv.switch_to(a.id)
    assert conv.resume_assistant(a.id) is a
    assert (a.status, a.error) == ("streaming", None)
    with pytest.raises(ConversationError):
        conv.resume_assistant(conv.active_path()[0].id)
