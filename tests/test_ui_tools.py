"""Tools in the TUI (Pilot): the confirm dialog, tool call blocks, cancelling a loop, the tools
view, a session with tool turns reopened. A real MCP server (tests/mcp_servers) runs over stdio."""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path

from textual.widgets import SelectionList
from ui_support import SIZE, make_app, send, wait_for_screen, wait_reply, wait_until

from deepseek_tui import labels
from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.conversation import SessionStore
from deepseek_tui.conversation.model import Conversation, ToolCall, ToolRun
from deepseek_tui.conversation.tool_loop import CANCELLED, REFUSED, ToolLoop
from deepseek_tui.simulator import Fault
from deepseek_tui.tools.config import ToolSettings, parse_server
from deepseek_tui.ui.screens.tools import ConfirmToolScreen, ToolsScreen
from deepseek_tui.ui.widgets.messages import AnswerBlock
from deepseek_tui.ui.widgets.reasoning import ReasoningPane
from deepseek_tui.ui.widgets.status import StatusLine
from deepseek_tui.ui.widgets.tool_calls import ToolCallBlock

SERVERS = Path(__file__).parent / "mcp_servers"


def toolbox(name: str = "box", **table):
    return parse_server(name, {"command": sys.executable, "args": [str(SERVERS / "stdio_server.py")], **table})


def tools_app(simulator, tmp_path, *servers, thinking: bool = False, **settings):
    return make_app(
        simulator.url,
        tmp_path,
        chat=ChatSettings(model="deepseek-flash", thinking=thinking),
        mcp_servers=servers or (toolbox(),),
        tools=ToolSettings(**settings),
    )


async def tools_ready(app) -> None:
    await wait_until(lambda: app.tools.offered(app.conversation), timeout=30)


def blocks(app) -> list[ToolCallBlock]:
    return list(app.chat.query(ToolCallBlock))


def chat_bodies(simulator) -> list[dict]:
    return [r.body for r in simulator.requests if r.path.endswith("/chat/completions")]


async def test_a_call_is_confirmed_then_shown_as_a_block_collapsed_once_done(simulator, tmp_path):
    app = tools_app(simulator, tmp_path, thinking=True)
    async with app.run_test(size=SIZE) as pilot:
        await tools_ready(app)
        await send(app, pilot, "Use lookup_city for Oslo", wait=False)
        dialog = await wait_for_screen(app, ConfirmToolScreen)
        assert dialog.tool.shown_as == "box · lookup_city"
        assert '"city": "Oslo"' in str(dialog.query_one("#tool-arguments").render())
        block = await _block(app)
        assert "waiting for your answer" in str(block.title) and not block.collapsed
        await pilot.press("y")
        await wait_reply(app, pilot)
        block = blocks(app)[0]
        assert "⚙ box · lookup_city · ✓" in str(block.title)
        await wait_until(lambda: block.collapsed)
        texts = [str(s.render()) for s in block.query("InertStatic")]
        assert "Oslo has 3 rivers and 12 bridges." in texts
        answers = list(app.chat.query(AnswerBlock))
        assert len(answers) == 2
        final_meta = str(answers[-1].query_one(".meta").render())
        assert "1 tool round" in final_meta and "(2 requests)" in final_meta
        tool_message = [m for m in app.conversation.active_path() if m.role == "tool"][0]
        assert tool_message.tool_run.outcome == "ok"
    saved = SessionStore(tmp_path / "data" / "sessions").load(app.conversation.id)
    assert [m.role for m in saved.active_path()] == ["user", "assistant", "tool", "assistant"]


async def _block(app) -> ToolCallBlock:
    await wait_until(lambda: blocks(app))
    return blocks(app)[-1]


async def test_always_runs_the_tool_again_without_asking_and_esc_refuses(simulator, tmp_path):
    app = tools_app(simulator, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await tools_ready(app)
        await send(app, pilot, "Use lookup_city for Oslo then lookup_city for Bergen and add 1 and 2", wait=False)
        await wait_for_screen(app, ConfirmToolScreen)
        await pilot.press("a")  # always lookup_city, in this conversation
        await wait_until(
            lambda: (
                isinstance(app.screen, ConfirmToolScreen) and app.screen.tool.name == "add" and app.screen.is_mounted
            )
        )  # asked about add only
        await pilot.press("escape")  # refuses
        await wait_reply(app, pilot)
        results = [m for m in app.conversation.active_path() if m.role == "tool"]
        assert [(m.tool_run.tool, m.tool_run.outcome) for m in results] == [  # the server lists add first
            ("box · lookup_city", "ok"),
            ("box · add", "refused"),
            ("box · lookup_city", "ok"),
        ]
        assert results[1].content == REFUSED
        assert [str(b.title).split(" · ")[-1] for b in blocks(app)][1] == "refused"
        assert app.turn.message.status == "complete" and not app.turn.message.tool_calls


async def test_esc_while_a_tool_runs_cancels_the_loop_and_keeps_everything(simulator, tmp_path):
    gate = tmp_path / "gate"
    app = tools_app(simulator, tmp_path, toolbox(tools={"wait_for": {"confirm": False}}))
    async with app.run_test(size=SIZE) as pilot:
        await tools_ready(app)
        await send(app, pilot, f"Use wait_for {gate}", wait=False)
        await wait_until(lambda: app.turn is not None and app.turn.phase == "tool")
        block = await _block(app)
        await wait_until(lambda: "running" in str(block.title))
        await pilot.press("escape")
        await wait_reply(app, pilot)
        gate.write_text("")  # let the server's call end
        result = [m for m in app.conversation.active_path() if m.role == "tool"][-1]
        assert (result.content, result.tool_run.outcome) == (CANCELLED, "cancelled")
        await wait_until(lambda: "cancelled" in str(blocks(app)[-1].title))
        saved = SessionStore(tmp_path / "data" / "sessions").load(app.conversation.id)
        assert saved.active_path()[-1].tool_run.outcome == "cancelled"
        await send(app, pilot, "Use lookup_city for Oslo", wait=False)  # the chat goes on, no 400
        await wait_for_screen(app, ConfirmToolScreen)
        await pilot.press("y")
        await wait_reply(app, pilot)
        assert app.turn.error is None and app.turn.message.status == "complete"


async def test_the_tools_view_shows_servers_and_switches_tools_off(simulator, tmp_path):
    broken = parse_server(
        "broken",
        {
            "command": sys.executable,
            "args": ["-c", "import sys; print('missing credentials file', file=sys.stderr); sys.exit(1)"],
        },
    )
    app = tools_app(simulator, tmp_path, toolbox(), broken)
    async with app.run_test(size=SIZE) as pilot:
        await tools_ready(app)
        await wait_until(lambda: all(s.state != "starting" for s in app.tools.host.statuses()))
        await pilot.press("ctrl+backslash")
        screen = await wait_for_screen(app, ToolsScreen)
        text = "\n".join(str(s.render()) for s in screen.query("InertStatic"))
        assert "box  ● ready" in text and "10 tools" in text
        assert "broken  ✗ failed" in text and "missing credentials file" in text
        listing = screen.query_one(SelectionList)
        assert listing.option_count == 10 and len(listing.selected) == 10
        assert "The next request carries: echo, add, lookup_city" in str(screen.query_one("#tools-next").render())
        listing.focus()
        listing.highlighted = 2  # lookup_city
        await pilot.press("space")
        await wait_until(lambda: "lookup_city" in app.tools.choices(app.conversation).off)
        await wait_until(lambda: "lookup_city" not in str(screen.query_one("#tools-next").render()))
        await pilot.press("escape")
        await wait_until(lambda: not isinstance(app.screen, ToolsScreen))
        await send(app, pilot, "Use lookup_city for Oslo")
        offered = [t["function"]["name"] for t in chat_bodies(simulator)[-1]["tools"]]
        assert "lookup_city" not in offered and "add" in offered
        assert not [m for m in app.conversation.active_path() if m.role == "tool"]


async def test_a_session_with_tool_turns_reopens_with_its_blocks(simulator, tmp_path):
    conversation = Conversation(settings=ChatSettings(model="deepseek-flash"))
    conversation.add_user("What is 2 + 3?")
    reply = conversation.start_assistant("deepseek-flash", False)
    reply.tool_calls = [ToolCall("call_00_x", "add", '{"a": 2, "b": 3}')]
    conversation.finish_assistant(reply.id, finish_reason="tool_calls")
    conversation.add_tool_result("call_00_x", "5", ToolRun("ok", "box · add", 0.12))
    answer = conversation.start_assistant("deepseek-flash", False)
    answer.content = "It is **5**."
    conversation.finish_assistant(answer.id, finish_reason="stop")
    SessionStore(tmp_path / "data" / "sessions").save(conversation)
    app = make_app(simulator.url, tmp_path)  # no servers needed to show it
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: blocks(app))
        block = blocks(app)[0]
        assert str(block.title) == "⚙ box · add · ✓ 0.12 s" and block.collapsed
        block.collapsed = False
        await pilot.pause()
        texts = [str(s.render()) for s in block.query("InertStatic")]
        assert texts == ["arguments", '{\n  "a": 2,\n  "b": 3\n}', "result", "5"]
        assert "1 tool round" in str(list(app.chat.query(AnswerBlock))[-1].query_one(".meta").render())


async def test_without_servers_nothing_changes(simulator, tmp_path):
    app = make_app(simulator.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        assert app.tools.host is None
        await send(app, pilot, "Use lookup_city for Oslo")
        assert "tools" not in chat_bodies(simulator)[-1]
        assert not isinstance(app.turn, ToolLoop)
        await pilot.press("ctrl+backslash")
        screen = await wait_for_screen(app, ToolsScreen)
        assert "No MCP servers are configured" in "\n".join(str(s.render()) for s in screen.query("InertStatic"))


async def test_the_round_limit_stops_the_loop_and_says_so(simulator, tmp_path):
    app = tools_app(simulator, tmp_path, toolbox(tools={"lookup_city": {"confirm": False}}), max_rounds=1)
    async with app.run_test(size=SIZE) as pilot:
        await tools_ready(app)
        await send(app, pilot, "Use lookup_city for Oslo and repeat")
        assert any(n.title == "Tool loop stopped" and "Stopped after 1 tool round" in n.message for n in app.notified)
        results = [m for m in app.conversation.active_path() if m.role == "tool"]
        assert [m.tool_run.outcome for m in results] == ["ok", "skipped"]
        await wait_until(lambda: "not run (tool round limit)" in str(blocks(app)[-1].title))


# --- cancelling a loop at each of its points: one final label, matching the saved session ---------


def _metas(app) -> list[str]:
    # the label line wraps at plain spaces: joining its rows with spaces gives the label back
    return [str(block.query_one(".meta").render()).replace("\n", " ") for block in app.chat.query(AnswerBlock)]


async def _assert_cancelled_consistently(app, pilot, tmp_path, *, rounds: int) -> None:
    await wait_reply(app, pilot)
    assert app.turn.phase == "cancelled"
    assert not isinstance(app.screen, ConfirmToolScreen)  # no question left open
    metas = _metas(app)
    assert not any("streaming…" in meta or " · thinking" in meta for meta in metas), metas
    final = metas[-1]
    assert final.endswith(" · cancelled"), final
    if rounds:
        assert f"{rounds} tool round" in final and "requests)" in final, final
    for block in blocks(app):
        assert "not answered" not in str(block.title) and str(block.title).startswith("⚙ box · ")
    saved = SessionStore(tmp_path / "data" / "sessions").load(app.conversation.id)
    last = [m for m in saved.active_path() if m.role == "assistant"][-1]
    assert final == labels.answer_meta(last, app.catalogue, saved.sibling_position(last.id), saved)


async def test_cancelling_while_a_call_waits_for_its_answer(simulator, tmp_path):
    app = tools_app(simulator, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await tools_ready(app)
        await send(app, pilot, "Use lookup_city for Oslo and repeat", wait=False)
        await wait_for_screen(app, ConfirmToolScreen)
        await pilot.press("y")
        await wait_until(
            lambda: app.turn.rounds == 2 and isinstance(app.screen, ConfirmToolScreen) and app.screen.is_mounted
        )
        app.action_cancel_reply()  # Esc answers the dialog ("refuse"); quitting or a bound key cancels
        await _assert_cancelled_consistently(app, pilot, tmp_path, rounds=1)
        assert str(blocks(app)[-1].title) == "⚙ box · lookup_city · cancelled"


async def test_cancelling_while_a_tool_runs_labels_the_loop_cancelled(simulator, tmp_path):
    gate = tmp_path / "gate"
    app = tools_app(simulator, tmp_path, toolbox(tools={"wait_for": {"confirm": False}}))
    async with app.run_test(size=SIZE) as pilot:
        await tools_ready(app)
        await send(app, pilot, f"Use wait_for {gate}", wait=False)
        await wait_until(lambda: blocks(app) and "running" in str(blocks(app)[-1].title))
        await pilot.press("escape")
        await _assert_cancelled_consistently(app, pilot, tmp_path, rounds=0)
        gate.write_text("")


async def test_cancelling_while_the_next_rounds_block_is_put_on_screen(simulator, tmp_path):
    """The race QA saw: Esc lands while the next request's answer block is being mounted; that
    block kept "streaming…" for good."""
    app = tools_app(simulator, tmp_path, toolbox(tools={"lookup_city": {"confirm": False}}))
    async with app.run_test(size=SIZE) as pilot:
        await tools_ready(app)
        mounting, append = asyncio.Event(), app.chat.append

        async def slow_append(message):
            view = await append(message)
            if message.role == "assistant" and isinstance(app.turn, ToolLoop) and message is not app.turn.replies[0]:
                mounting.set()
                await asyncio.Event().wait()  # still busy putting it on screen when Esc comes
            return view

        app.chat.append = slow_append
        await send(app, pilot, "Use lookup_city for Oslo", wait=False)
        await wait_until(mounting.is_set)
        await pilot.press("escape")
        await _assert_cancelled_consistently(app, pilot, tmp_path, rounds=1)


async def test_cancelling_while_the_next_round_thinks(simulator, tmp_path):
    release = threading.Event()
    app = tools_app(simulator, tmp_path, thinking=True)
    async with app.run_test(size=SIZE) as pilot:
        await tools_ready(app)
        await send(app, pilot, "Use lookup_city for Oslo", wait=False)
        await wait_for_screen(app, ConfirmToolScreen)
        simulator.inject(Fault.hold(after_chunks=4, release=release))  # the next request stops while it thinks
        await pilot.press("y")
        await wait_until(
            lambda: app.turn.rounds == 1 and app.turn.phase == "thinking" and app.turn.progress.reasoning_chars > 0
        )
        await pilot.press("escape")
        try:
            await _assert_cancelled_consistently(app, pilot, tmp_path, rounds=1)
        finally:
            release.set()


async def test_the_status_line_says_when_a_call_waits_for_you(simulator, tmp_path):
    app = tools_app(simulator, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await tools_ready(app)
        await send(app, pilot, "Use lookup_city for Oslo and repeat", wait=False)
        for round_ in (1, 2):  # the first call of the turn and a later one
            await wait_until(
                lambda: (
                    app.turn.rounds == round_ and isinstance(app.screen, ConfirmToolScreen) and app.screen.is_mounted
                )
            )
            assert app.turn.phase == "asking"
            await wait_until(lambda: "waiting for you" in app.screen_stack[0].query_one(StatusLine).info.state)
            await pilot.press("y")
        app.action_cancel_reply()
        await wait_reply(app, pilot)


async def test_the_tools_view_starts_on_the_first_row_and_says_off_in_words(simulator, tmp_path):
    app = tools_app(simulator, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await tools_ready(app)
        await pilot.press("ctrl+backslash")
        screen = await wait_for_screen(app, ToolsScreen)
        listing = screen.query_one(SelectionList)
        await wait_until(lambda: listing.highlighted == 0)
        first = str(listing.get_option_at_index(0).value)
        assert str(listing.get_option_at_index(0).prompt).startswith("on ")
        await pilot.press("space")  # no ↓ needed first
        await wait_until(lambda: first in app.tools.choices(app.conversation).off)
        await wait_until(lambda: str(screen.query_one(SelectionList).get_option_at_index(0).prompt).startswith("off"))
        assert str(screen.query_one(SelectionList).get_option_at_index(1).prompt).startswith("on ")


async def test_a_selected_answer_opens_and_closes_its_call_blocks_from_the_keyboard(simulator, tmp_path):
    app = tools_app(simulator, tmp_path, toolbox(tools={"lookup_city": {"confirm": False}}))
    async with app.run_test(size=SIZE) as pilot:
        await tools_ready(app)
        await send(app, pilot, "Use lookup_city for Oslo")
        block = blocks(app)[0]
        await wait_until(lambda: block.collapsed)
        await pilot.press("f8")  # the last answer (no calls): no `t` on it
        await wait_until(lambda: isinstance(app.focused, AnswerBlock))
        assert app.focused.check_action("toggle_tool_calls", ()) is False
        await pilot.press("up")  # the answer that made the call (chat mode: no thinking)
        await wait_until(lambda: isinstance(app.focused, AnswerBlock) and app.focused.query(ToolCallBlock))
        assert app.focused.check_action("toggle_tool_calls", ()) is True
        await pilot.press("t")
        await wait_until(lambda: not block.collapsed)
        await pilot.press("t")
        await wait_until(lambda: block.collapsed)
        await pilot.press("enter")  # no thinking on it: Enter opens its calls
        await wait_until(lambda: not block.collapsed)
        rows = {binding_id: (keys, text) for keys, text, binding_id in app.binding_rows()}
        assert rows["message_toggle_tool_calls"] == (
            "t",
            "Selected message: Open or close the answer's tool call blocks",
        )


async def test_tab_stops_without_a_look_of_their_own_show_focus(simulator, tmp_path):
    app = tools_app(simulator, tmp_path, toolbox(tools={"lookup_city": {"confirm": False}}))
    async with app.run_test(size=SIZE) as pilot:
        await tools_ready(app)
        await send(app, pilot, "Use lookup_city for Oslo")
        pane, chat = app.query_one(ReasoningPane), app.chat
        before = (pane.styles.border_left, chat.styles.background_tint)
        await pilot.press("tab")
        await wait_until(lambda: app.focused is not None and pane in app.focused.ancestors_with_self)
        await wait_until(lambda: pane.styles.border_left != before[0])
        await pilot.press("tab")
        await wait_until(lambda: app.focused is chat)
        await wait_until(lambda: pane.styles.border_left == before[0] and chat.styles.background_tint != before[1])
