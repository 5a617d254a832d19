"""The MCP host: starts the configured servers in the background, keeps their state, lists their
tools under names DeepSeek accepts, and runs calls with a timeout (no Textual).

It is the `ToolRunner` of the tool loop. The official `mcp` SDK does the protocol (stdio and
streamable-HTTP transports, sessions, schema types); it is imported in a worker thread when the
first server starts, so neither the app's first frame nor the event loop waits for it.

A server's environment is the SDK's minimal one (PATH, HOME, USER, SHELL, TERM, LOGNAME) plus the
config's `env`: the DeepSeek API key never reaches a server unless the config names it there.
What a server writes to stderr is kept (its last lines) for the tools view; it never reaches the
terminal. A server that fails to start or dies is shown as such and its tools are no longer
offered; the chat goes on.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TextIO

from deepseek_tui.conversation.tool_loop import ToolOutput, ToolSpec
from deepseek_tui.tools.config import McpServerConfig, ToolSettings
from deepseek_tui.tools.naming import api_names

ServerState = Literal["off", "starting", "ready", "failed", "stopped"]
"""off: disabled in the config; starting; ready (its tools are offered); failed (did not start,
or its table cannot be used); stopped (it ran, then exited or lost its connection)."""

STDERR_LINES = 12
"""Lines of a server's stderr kept for the tools view."""
STDERR_LINE_CHARS = 400
CLIENT_NAME = "deepseek-tui"

SDK_MODULE = "mcp.client.streamable_http"
SWITCH_INTERVAL_WHILE_IMPORTING = 0.0005
"""Seconds a thread may hold the GIL while the SDK imports (Python's default is 0.005): the app's
thread gets it back ten times sooner, so typing stays quick meanwhile."""

_imports: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}


async def load_sdk() -> None:
    """Import the `mcp` SDK in a worker thread, once (servers starting together share it); the
    event loop keeps running meanwhile."""
    if SDK_MODULE in sys.modules:
        return
    loop = asyncio.get_running_loop()
    task = _imports.get(loop)
    if task is None or task.cancelled() or (task.done() and task.exception() is not None):
        task = _imports[loop] = loop.create_task(_import_in_thread())
    await asyncio.shield(task)


async def _import_in_thread() -> None:
    previous = sys.getswitchinterval()
    sys.setswitchinterval(min(previous, SWITCH_INTERVAL_WHILE_IMPORTING))
    try:
        await asyncio.to_thread(importlib.import_module, SDK_MODULE)
    finally:
        sys.setswitchinterval(previous)


@dataclass(frozen=True)
class ListedTool:
    """A tool as its server lists it."""

    name: str
    description: str
    input_schema: Mapping[str, Any]


@dataclass(frozen=True)
class ServerStatus:
    """A snapshot of one server for the tools view."""

    name: str
    where: str
    transport: str
    state: ServerState
    detail: str
    stderr_tail: tuple[str, ...]
    tools: tuple[ToolSpec, ...]
    """Its tools that are offered (allowed by the config), under their API names."""
    not_allowed: tuple[str, ...]
    """Tools it lists that the config's allow list leaves out."""
    started_in: float | None = None
    """Seconds it took to start and list its tools."""


class _Server:
    """One configured server: its connection task, state, tools and stderr."""

    def __init__(self, config: McpServerConfig, host: "McpHost") -> None:
        self.config, self.host = config, host
        self.state: ServerState = "off" if not config.enabled else ("failed" if config.problem else "starting")
        self.detail = config.problem
        self.stderr: deque[str] = deque(maxlen=STDERR_LINES)
        self._partial = ""
        self.listed: list[ListedTool] = []
        self.client: Any = None
        self.task: asyncio.Task[None] | None = None
        self.stop = asyncio.Event()
        self.started_in: float | None = None
        self._stderr_fd: int | None = None
        self._write_end: TextIO | None = None

    # --- running ------------------------------------------------------------------------------

    async def run(self) -> None:
        began = time.monotonic()
        try:
            await load_sdk()
            async with AsyncExitStack() as stack:
                stack.callback(self._stop_reading_stderr)
                async with asyncio.timeout(self.host.settings.start_timeout):
                    self.client = await self._connect(stack)
                    self.listed = await self._list_tools()
                self.started_in = round(time.monotonic() - began, 3)
                self._set("ready", "")
                await self.stop.wait()
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            self._set("failed", f"did not start within {self.host.settings.start_timeout:g} s")
        except Exception as exc:  # the SDK raises OSError, MCPError, ExceptionGroups, ...
            self._set("failed" if self.state == "starting" else "stopped", _describe(exc))
        finally:
            self.client = None
            if self.state in ("ready", "starting"):
                self._set("stopped", self.detail or "the connection ended")

    async def _connect(self, stack: AsyncExitStack) -> Any:
        from mcp import Client  # loaded by load_sdk()
        from mcp.types import Implementation

        config = self.config
        if config.url:
            from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client

            http = await stack.enter_async_context(create_mcp_http_client(headers=dict(config.headers)))
            transport = streamable_http_client(config.url, http_client=http)
        else:
            from mcp.client.stdio import StdioServerParameters, stdio_client

            params = StdioServerParameters(
                command=config.command or "",
                args=list(config.args),
                env=dict(config.env),  # over the SDK's minimal environment: never DEEPSEEK_API_KEY unless named
                cwd=str(Path(config.cwd).expanduser()) if config.cwd else None,
            )
            transport = stdio_client(params, errlog=self._stderr_pipe())
        client = Client(
            transport,
            client_info=Implementation(name=CLIENT_NAME, version=_version()),
            read_timeout_seconds=self.host.settings.call_timeout,
        )
        try:
            return await stack.enter_async_context(client)
        finally:
            self._close_write_end()

    async def _list_tools(self) -> list[ListedTool]:
        tools: list[ListedTool] = []
        cursor: str | None = None
        for _ in range(100):  # a paginator that never ends must not hang the start
            page = await self.client.list_tools(cursor=cursor)
            tools += [ListedTool(t.name, t.description or "", t.input_schema or {}) for t in page.tools]
            cursor = page.next_cursor
            if not cursor:
                break
        return tools

    async def call(self, tool: str, arguments: dict[str, Any]) -> ToolOutput:
        client = self.client
        if client is None or self.state != "ready":
            return ToolOutput(f"The server {self.config.name!r} is not running ({self.state}).", is_error=True)
        timeout = self.host.settings.call_timeout
        try:
            async with asyncio.timeout(timeout):
                result = await client.call_tool(tool, arguments, read_timeout_seconds=timeout)
        except TimeoutError:
            return ToolOutput(f"The tool did not answer within {timeout:g} s.", is_error=True)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self._connection_lost(exc):
                self._set("stopped", f"it stopped during a call to {tool}")  # its stderr may say why
                self.stop.set()
                return ToolOutput(f"The server {self.config.name!r} stopped during the call.", is_error=True)
            return ToolOutput(f"The call failed: {_describe(exc)}", is_error=True)
        return ToolOutput(result_text(result), is_error=bool(result.is_error))

    def _connection_lost(self, exc: BaseException) -> bool:
        text = str(exc).lower()
        return "connection closed" in text or (
            self._stderr_fd is None and self.config.transport == "stdio" and self.state == "stopped"
        )

    # --- stderr --------------------------------------------------------------------------------

    def _stderr_pipe(self) -> Any:
        read_end, write_end = os.pipe()
        os.set_blocking(read_end, False)
        self._stderr_fd = read_end
        self._write_end = os.fdopen(write_end, "w")
        asyncio.get_running_loop().add_reader(read_end, self._read_stderr)
        return self._write_end

    def _close_write_end(self) -> None:
        write_end = self._write_end
        if write_end is not None:
            write_end.close()  # the server holds its own copy; ours would keep EOF from coming
            self._write_end = None

    def _read_stderr(self) -> None:
        if self._stderr_fd is None:
            return
        try:
            data = os.read(self._stderr_fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:  # EOF: the server (and whatever it started) closed stderr, i.e. exited
            self._stop_reading_stderr()
            if self.state == "ready":
                self._set("stopped", "the server exited")
                self.stop.set()
            return
        self._take_stderr(data)
        self.host.changed()

    def _take_stderr(self, data: bytes) -> None:
        text = self._partial + data.decode("utf-8", "replace")
        *lines, self._partial = text.split("\n")
        self._partial = self._partial[-STDERR_LINE_CHARS:]
        for line in lines:
            if line.strip():
                self.stderr.append(line.rstrip()[:STDERR_LINE_CHARS])

    def _stop_reading_stderr(self) -> None:
        self._close_write_end()
        fd = self._stderr_fd
        if fd is None:
            return
        try:
            asyncio.get_running_loop().remove_reader(fd)
        except RuntimeError:  # the loop is gone
            pass
        try:  # what a server wrote just before it exited may not have been read yet
            while chunk := os.read(fd, 65536):
                self._take_stderr(chunk)
        except OSError:
            pass
        self._stderr_fd = None
        if self._partial.strip():
            self.stderr.append(self._partial.rstrip()[:STDERR_LINE_CHARS])
        self._partial = ""
        os.close(fd)

    # --- state ---------------------------------------------------------------------------------

    def _set(self, state: ServerState, detail: str) -> None:
        self.state, self.detail = state, detail
        self.host.changed()

    def status(self, specs: Sequence[ToolSpec]) -> ServerStatus:
        return ServerStatus(
            name=self.config.name,
            where=self.config.describe(),
            transport=self.config.transport,
            state=self.state,
            detail=self.detail,
            stderr_tail=tuple(self.stderr),
            tools=tuple(specs),
            not_allowed=tuple(t.name for t in self.listed if not self.config.allows(t.name)),
            started_in=self.started_in,
        )


class McpHost:
    """The configured MCP servers, started in the background; the tool loop's `ToolRunner`."""

    def __init__(
        self,
        servers: Sequence[McpServerConfig],
        settings: ToolSettings | None = None,
        *,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings or ToolSettings()
        self.on_change = on_change
        self._servers = [_Server(config, self) for config in servers]
        self._started = False
        self._names: dict[str, tuple[_Server, ListedTool]] = {}

    @property
    def configured(self) -> bool:
        return bool(self._servers)

    def start(self) -> None:
        """Start every enabled server in the background (returns at once; needs a running loop)."""
        if self._started:
            return
        self._started = True
        for server in self._servers:
            if server.state == "starting":
                server.task = asyncio.get_running_loop().create_task(server.run(), name=f"mcp:{server.config.name}")

    async def wait_started(self, timeout: float | None = None) -> None:
        """Wait until no server is starting any more (pipe mode sends only then)."""
        self.start()
        deadline = self.settings.start_timeout + 5 if timeout is None else timeout
        async with asyncio.timeout(deadline):
            while any(s.state == "starting" for s in self._servers):
                await self._change.wait()
                self._change.clear()

    @property
    def _change(self) -> asyncio.Event:
        event = getattr(self, "_change_event", None)
        if event is None:
            event = self._change_event = asyncio.Event()
        return event

    def changed(self) -> None:
        self._rename()
        self._change.set()
        if self.on_change is not None:
            self.on_change()

    def _rename(self) -> None:
        """Give every allowed tool of every server that has listed its tools its API name."""
        pairs = [
            (server, tool) for server in self._servers for tool in server.listed if server.config.allows(tool.name)
        ]
        names = api_names((server.config.name, tool.name) for server, tool in pairs)
        self._names = {names[(server.config.name, tool.name)]: (server, tool) for server, tool in pairs}

    def _spec(self, api_name: str, server: _Server, tool: ListedTool) -> ToolSpec:
        return ToolSpec(
            name=api_name,
            description=tool.description,
            parameters=_parameters(tool.input_schema),
            label=f"{server.config.name} · {tool.name}",
            confirm=server.config.confirms(tool.name),
        )

    # --- ToolRunner ---------------------------------------------------------------------------

    def available(self) -> list[ToolSpec]:
        return [
            self._spec(name, server, tool) for name, (server, tool) in self._names.items() if server.state == "ready"
        ]

    async def call(self, name: str, arguments: dict[str, Any]) -> ToolOutput:
        found = self._names.get(name)
        if found is None:
            return ToolOutput(f"No tool named {name!r} is available.", is_error=True)
        server, tool = found
        return await server.call(tool.name, arguments)

    # --- for the tools view -------------------------------------------------------------------

    def statuses(self) -> list[ServerStatus]:
        by_server: dict[int, list[ToolSpec]] = {}
        for name, (server, tool) in self._names.items():
            by_server.setdefault(id(server), []).append(self._spec(name, server, tool))
        return [server.status(by_server.get(id(server), [])) for server in self._servers]

    # --- the end ------------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Stop every server (stdio: stdin closed, then terminated if it lingers) and wait for it."""
        tasks = [s.task for s in self._servers if s.task is not None and not s.task.done()]
        for server in self._servers:
            server.stop.set()
        if tasks:
            done, pending = await asyncio.wait(tasks, timeout=10)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=5)
        for server in self._servers:
            server._stop_reading_stderr()


def result_text(result: Any) -> str:
    """The text of a `CallToolResult`: its text parts; other parts described; structured content
    as JSON when there is no text."""
    parts: list[str] = []
    for block in result.content or ():
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind in ("image", "audio"):
            parts.append(
                f"[{kind}: {getattr(block, 'mime_type', '') or 'unknown type'}, "
                f"{len(getattr(block, 'data', '') or '')} base64 characters]"
            )
        elif kind == "resource":
            resource = block.resource
            text = getattr(resource, "text", None)
            parts.append(text if isinstance(text, str) else f"[resource {resource.uri}]")
        elif kind == "resource_link":
            parts.append(f"[resource {getattr(block, 'uri', '')}]")
        else:
            parts.append(f"[{kind or 'unknown'} content]")
    if not parts and getattr(result, "structured_content", None) is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False))
    return "\n".join(parts)


def _parameters(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The tool's input schema as DeepSeek's `parameters` (an object schema; `title`s dropped)."""
    parameters = {k: v for k, v in dict(schema).items() if k != "title"}
    parameters.setdefault("type", "object")
    if parameters["type"] == "object":
        parameters.setdefault("properties", {})
    return parameters


def _describe(exc: BaseException) -> str:
    """One line for an exception, looking inside exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"command not found: {exc.filename}"
    if type(exc).__name__ == "MCPError" and text:  # the SDK's protocol errors say enough by themselves
        return text[:1].lower() + text[1:]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _version() -> str:
    from deepseek_tui import __version__

    return __version__
