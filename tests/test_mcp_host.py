"""The MCP host against real MCP servers written with the SDK (tests/mcp_servers): over stdio as
child processes, and over streamable HTTP on 127.0.0.1; and full tool loops through it against
the simulator. Every server process is stopped by the end of its test."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import aclosing
from pathlib import Path

import pytest

from deepseek_tui.catalogue import Catalogue
from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.client import DeepSeekClient
from deepseek_tui.conversation.model import Conversation
from deepseek_tui.conversation.tool_loop import ToolCallFinished, ToolLoop
from deepseek_tui.tools.config import ToolSettings, parse_server
from deepseek_tui.tools.host import McpHost

SERVERS = Path(__file__).parent / "mcp_servers"
CATALOGUE = Catalogue()


def stdio(name: str = "box", *args: str, **table) -> object:
    return parse_server(name, {"command": sys.executable, "args": [str(SERVERS / "stdio_server.py"), *args], **table})


@pytest.fixture
async def hosts():
    """Makes hosts; each is closed (its servers stopped) at the end of the test."""
    made: list[McpHost] = []

    def make(*servers, **settings) -> McpHost:
        host = McpHost(list(servers), ToolSettings(**{"start_timeout": 30, "call_timeout": 20, **settings}))
        made.append(host)
        return host

    yield make
    for host in made:
        await host.aclose()


@pytest.fixture
def http_server():
    """The toolbox over streamable HTTP on 127.0.0.1 (a child process, killed at the end)."""
    process = subprocess.Popen([sys.executable, str(SERVERS / "http_server.py")], stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("PORT "), line
        yield f"http://127.0.0.1:{int(line.split()[1])}/mcp"
    finally:
        process.kill()
        process.wait(timeout=10)
        process.stdout.close()


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is gone for our purposes: reap it if it is our child
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


async def test_a_stdio_server_starts_lists_its_tools_and_runs_calls(hosts):
    host = hosts(stdio("box", "--hello", "box is up"))
    host.start()
    assert host.statuses()[0].state == "starting"  # start() returns at once
    await host.wait_started()
    status = host.statuses()[0]
    assert (status.state, status.detail, status.stderr_tail) == ("ready", "", ("box is up",))
    names = [tool.name for tool in host.available()]
    assert names == ["echo", "add", "lookup_city", "env_value", "fail", "big", "crash", "wait_for", "pid", "header"]
    add = next(tool for tool in host.available() if tool.name == "add")
    assert add.label == "box · add" and add.description == "Add two whole numbers." and add.confirm
    assert add.parameters["properties"].keys() == {"a", "b"} and "title" not in add.parameters
    assert (await host.call("add", {"a": 20, "b": 22})).text == "42"
    failed = await host.call("fail", {"reason": "testing"})
    assert failed.is_error and "failed on purpose: testing" in failed.text
    unknown = await host.call("nope", {})
    assert unknown.is_error and "No tool named 'nope'" in unknown.text


async def test_the_api_key_never_reaches_a_server_unless_the_config_names_it(hosts, monkeypatch):
    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-do-not-leak")
    monkeypatch.setenv("SOME_OTHER_SECRET", "shh")
    plain = stdio("plain")
    named = stdio("named", env={"DEEPSEEK_API_KEY": "sk-given-on-purpose", "GREETING": "hi"})
    host = hosts(plain, named)
    await host.wait_started()
    assert (await host.call("plain__env_value", {"name": "DEEPSEEK_API_KEY"})).text == "<unset>"
    assert (await host.call("plain__env_value", {"name": "SOME_OTHER_SECRET"})).text == "<unset>"
    assert (await host.call("plain__env_value", {"name": "PATH"})).text != "<unset>"
    assert (await host.call("named__env_value", {"name": "DEEPSEEK_API_KEY"})).text == "sk-given-on-purpose"
    assert (await host.call("named__env_value", {"name": "GREETING"})).text == "hi"


async def test_names_that_clash_are_prefixed_and_allow_lists_and_confirm_apply(hosts):
    first = stdio("one", allow=["echo", "add"], tools={"add": {"confirm": False}})
    second = stdio("two", "--second", "--name", "two")
    host = hosts(first, second)
    await host.wait_started()
    assert sorted(tool.name for tool in host.available()) == ["add", "one__echo", "two__echo"]
    assert [t.confirm for t in host.available() if t.name == "add"] == [False]
    one = next(s for s in host.statuses() if s.name == "one")
    assert "crash" in one.not_allowed and "echo" not in one.not_allowed
    assert (await host.call("two__echo", {"text": "hi"})).text == "two says: hi"
    assert (await host.call("one__echo", {"text": "hi"})).text == "toolbox says: hi"


async def test_servers_that_fail_to_start_say_why_and_the_others_work(hosts, tmp_path):
    missing = parse_server("missing", {"command": str(tmp_path / "no-such-program")})
    exits = parse_server(
        "exits",
        {
            "command": sys.executable,
            "args": ["-c", "import sys; print('cannot open the database', file=sys.stderr); sys.exit(2)"],
        },
    )
    broken = parse_server("broken", {"comand": "typo"})
    off = stdio("off", enabled=False)
    host = hosts(missing, exits, broken, off, stdio("good"))
    await host.wait_started()
    states = {s.name: s for s in host.statuses()}
    assert states["missing"].state == "failed" and "no-such-program" in states["missing"].detail
    assert states["exits"].state == "failed" and states["exits"].stderr_tail == ("cannot open the database",)
    assert states["broken"].state == "failed" and "unknown key 'comand'" in states["broken"].detail
    assert states["off"].state == "off"
    assert states["good"].state == "ready"
    assert {tool.label.split(" · ")[0] for tool in host.available()} == {"good"}


async def test_a_server_that_crashes_mid_call_is_an_error_and_leaves_the_others(hosts):
    host = hosts(stdio("box"), stdio("two", "--second", "--name", "two"))
    await host.wait_started()
    result = await host.call("crash", {})
    assert result.is_error and "stopped during the call" in result.text
    box = next(s for s in host.statuses() if s.name == "box")
    assert box.state == "stopped" and "toolbox: about to crash" in box.stderr_tail
    assert box.detail == "it stopped during a call to crash"
    assert result.text == "The server 'box' stopped during the call."
    assert [tool.name for tool in host.available()] == ["two__echo"]  # its tools are no longer offered
    again = await host.call("box__echo", {"text": "x"})
    assert again.is_error


async def test_a_call_that_takes_too_long_is_an_error(hosts, tmp_path):
    host = hosts(stdio("box"), call_timeout=0.5)
    await host.wait_started()
    result = await host.call("wait_for", {"path": str(tmp_path / "never")})
    assert result.is_error and "did not answer within 0.5 s" in result.text
    (tmp_path / "never").write_text("")  # the server is still usable
    assert (await host.call("add", {"a": 1, "b": 1})).text == "2"


async def test_closing_the_host_stops_the_server_processes(hosts):
    host = hosts(stdio("box"))
    await host.wait_started()
    pid = int((await host.call("pid", {})).text)
    assert process_alive(pid)
    await host.aclose()
    assert not process_alive(pid)
    assert host.statuses()[0].state == "stopped"


async def test_a_streamable_http_server(hosts, http_server):
    host = hosts(parse_server("web", {"url": http_server, "headers": {"X-Token": "t0k"}}))
    await host.wait_started()
    status = host.statuses()[0]
    assert (status.state, status.transport, status.where) == ("ready", "http", http_server)
    assert (await host.call("add", {"a": 2, "b": 2})).text == "4"
    assert (await host.call("header", {"name": "x-token"})).text == "t0k"


async def test_an_http_server_that_is_not_there_fails(hosts):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    host = hosts(parse_server("web", {"url": f"http://127.0.0.1:{port}/mcp"}), start_timeout=10)
    await host.wait_started()
    assert host.statuses()[0].state == "failed" and host.statuses()[0].detail


# --- full loops through real servers -------------------------------------------------------------


async def _loop(host: McpHost, client, conv: Conversation, text: str) -> ToolLoop:
    async def yes(call, tool):
        return "once"

    conv.add_user(text)
    loop = ToolLoop(conv, CATALOGUE, host, yes)
    async with aclosing(loop.stream(client, currency="USD")) as events:
        async for _ in events:
            pass
    return loop


@pytest.mark.parametrize("thinking", [True, False])
async def test_a_full_loop_through_a_stdio_server(simulator, hosts, thinking):
    host = hosts(stdio("box"))
    await host.wait_started()
    conv = Conversation(settings=ChatSettings(model="deepseek-flash", thinking=thinking))
    async with DeepSeekClient("sk-test", simulator.url) as client:
        loop = await _loop(host, client, conv, "Use lookup_city for Oslo, then add 2 and 40")
        assert loop.error is None and loop.rounds == 2
        results = [m.content for m in conv.active_path() if m.role == "tool"]
        assert results == ["Oslo has 3 rivers and 12 bridges.", "42"]
        assert "42" in loop.message.content
        # a server dies; the next loop goes on without its tools, no 400
        crash = await _loop(host, client, conv, "Use crash now")
        assert crash.error is None
        assert "stopped during the call" in [m for m in conv.active_path() if m.role == "tool"][-1].content
        after = await _loop(host, client, conv, "Use lookup_city for Bergen")
        assert after.error is None and after.rounds == 0  # no tools left to call


async def test_a_full_loop_through_an_http_server(simulator, hosts, http_server):
    host = hosts(parse_server("web", {"url": http_server}))
    await host.wait_started()
    conv = Conversation(settings=ChatSettings(model="deepseek-v4-pro", thinking=True))
    async with DeepSeekClient("sk-test", simulator.url) as client:
        loop = await _loop(host, client, conv, "Use echo and add 5 and 6 in parallel")
    assert loop.error is None and loop.rounds == 1
    assert [m.content for m in conv.active_path() if m.role == "tool"][1] == "11"


async def test_calls_wait_while_a_server_still_starts(hosts):
    """A server that is still starting offers no tools yet: the chat does not wait for it."""
    slow = parse_server(
        "slow", {"command": sys.executable, "args": ["-c", "import time, sys; sys.stdin.read()"]}
    )  # never answers the handshake
    host = hosts(slow, start_timeout=0.5)
    host.start()
    assert host.available() == [] and host.statuses()[0].state == "starting"
    await host.wait_started()
    assert host.statuses()[0].state == "failed" and "did not start within 0.5 s" in host.statuses()[0].detail


async def test_events_of_a_loop_name_the_server_and_tool(simulator, hosts):
    host = hosts(stdio("box"))
    await host.wait_started()
    conv = Conversation(settings=ChatSettings(model="deepseek-flash", thinking=False))
    conv.add_user("Use add 1 and 2")

    async def yes(call, tool):
        return "once"

    loop = ToolLoop(conv, CATALOGUE, host, yes)
    async with (
        DeepSeekClient("sk-test", simulator.url) as client,
        aclosing(loop.stream(client, currency="USD")) as events,
    ):
        finished = [e async for e in events if isinstance(e, ToolCallFinished)]
    assert [e.result.tool_run.tool for e in finished] == ["box · add"]
