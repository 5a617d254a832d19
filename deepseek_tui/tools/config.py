"""`[tools]` and `[mcp.servers.NAME]` in the config file (no Textual, no `mcp`).

    [tools]
    max_rounds = 20            # tool rounds in a row before the loop stops and says so
    max_result_chars = 20000   # a tool's output is cut to this many characters before it goes back
    call_timeout = 60          # seconds a call may take
    start_timeout = 30         # seconds a server may take to start and list its tools

    [mcp.servers.files]        # a server started as a process, spoken to over stdio
    command = "npx"
    args = ["-y", "@modelcontextprotocol/server-filesystem", "/home/me/notes"]
    env = { LOG_LEVEL = "warn" }   # added to a minimal environment (PATH, HOME, USER, ...)
    cwd = "~"
    allow = ["read_text_file", "list_directory"]   # only these tools (absent: all of them)
    enabled = true

    [mcp.servers.files.tools.list_directory]
    confirm = false            # run without asking first

    [mcp.servers.search]       # a server reached over streamable HTTP
    url = "http://127.0.0.1:8000/mcp"
    headers = { Authorization = "Bearer ..." }

A server table that cannot be used does not stop the app: the server shows as failed, with the
reason, in the tools view, and the chat goes on without it. The tables are kept as written so that
the app writes them back unchanged when it saves the config.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

DEFAULT_MAX_ROUNDS = 20
DEFAULT_MAX_RESULT_CHARS = 20_000
DEFAULT_CALL_TIMEOUT = 60.0
DEFAULT_START_TIMEOUT = 30.0

_SERVER_KEYS = ("command", "args", "env", "cwd", "url", "headers", "enabled", "allow", "tools")
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


class ToolsConfigError(ValueError):
    """A `[tools]` value that cannot be used (the app does not start with it)."""


@dataclass(frozen=True)
class ToolSettings:
    """`[tools]`: limits of the tool loop and of each call."""

    max_rounds: int = DEFAULT_MAX_ROUNDS
    max_result_chars: int = DEFAULT_MAX_RESULT_CHARS
    call_timeout: float = DEFAULT_CALL_TIMEOUT
    start_timeout: float = DEFAULT_START_TIMEOUT

    def to_table(self) -> dict[str, Any]:
        """The values that differ from the defaults."""
        defaults = ToolSettings()
        return {
            f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) != getattr(defaults, f.name)
        }


def parse_tool_settings(table: Mapping[str, Any]) -> ToolSettings:
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key in ("max_rounds", "max_result_chars"):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ToolsConfigError(f"[tools] {key} must be a whole number ≥ 1")
            values[key] = value
        elif key in ("call_timeout", "start_timeout"):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ToolsConfigError(f"[tools] {key} must be a number of seconds > 0")
            values[key] = float(value)
        # unknown keys are ignored, as elsewhere in the file (a newer version may know them)
    return ToolSettings(**values)


@dataclass(frozen=True)
class McpServerConfig:
    """One `[mcp.servers.NAME]` table."""

    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    enabled: bool = True
    allow: tuple[str, ...] | None = None
    """Only these tools are offered (None: all the server lists)."""
    no_confirm: frozenset[str] = frozenset()
    """Tools that run without asking first (`[mcp.servers.NAME.tools.TOOL] confirm = false`)."""
    problem: str = ""
    """Why the table cannot be used ("" when it can): the server shows as failed with this."""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)
    """The table as written (written back unchanged)."""

    @property
    def transport(self) -> Literal["stdio", "http"]:
        return "http" if self.url else "stdio"

    def allows(self, tool: str) -> bool:
        return self.allow is None or tool in self.allow

    def confirms(self, tool: str) -> bool:
        return tool not in self.no_confirm

    def describe(self) -> str:
        """Where the server runs, for the tools view (neither headers nor a password in the URL
        are shown)."""
        if self.url:
            scheme, _, rest = self.url.partition("://")
            authority, slash, path = rest.partition("/")
            return f"{scheme}://{authority.rpartition('@')[2]}{slash}{path}"
        return " ".join([self.command or "?", *self.args])


def parse_servers(table: Mapping[str, Any]) -> tuple[McpServerConfig, ...]:
    """The servers of an `[mcp]` table; each that cannot be used carries its `problem`."""
    servers = table.get("servers", {})
    if not isinstance(servers, Mapping):
        return (McpServerConfig("servers", enabled=True, problem="[mcp] servers must be a table of servers"),)
    return tuple(parse_server(str(name), value) for name, value in servers.items())


def parse_server(name: str, table: Any) -> McpServerConfig:
    where = f"[mcp.servers.{name}]"
    if not isinstance(table, Mapping):
        return McpServerConfig(name, problem=f"{where} must be a table")
    raw = dict(table)
    try:
        return _server(name, raw, where)
    except ValueError as exc:
        enabled = raw.get("enabled", True)
        return McpServerConfig(name, enabled=enabled if isinstance(enabled, bool) else True, problem=str(exc), raw=raw)


def _server(name: str, table: dict[str, Any], where: str) -> McpServerConfig:
    if not _NAME.match(name):
        raise ValueError(f"{where}: a server name may only have letters, digits, _ and -")
    unknown = [key for key in table if key not in _SERVER_KEYS]
    if unknown:
        raise ValueError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(_SERVER_KEYS)})")
    command, url = table.get("command"), table.get("url")
    if (command is None) == (url is None):
        raise ValueError(f"{where}: give either command (a program spoken to over stdio) or url (streamable HTTP)")
    if command is not None and (not isinstance(command, str) or not command.strip()):
        raise ValueError(f"{where}: command must be a program name or path")
    if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
        raise ValueError(f"{where}: url must start with http:// or https://")
    no_confirm: set[str] = set()
    tools = table.get("tools", {})
    if not isinstance(tools, Mapping):
        raise ValueError(f"{where}: tools must be a table of tool tables")
    for tool, settings in tools.items():
        if not isinstance(settings, Mapping) or not set(settings) <= {"confirm"}:
            raise ValueError(f"[mcp.servers.{name}.tools.{tool}] may only hold confirm = true/false")
        confirm = settings.get("confirm", True)
        if not isinstance(confirm, bool):
            raise ValueError(f"[mcp.servers.{name}.tools.{tool}] confirm must be true or false")
        if not confirm:
            no_confirm.add(str(tool))
    allow = table.get("allow")
    enabled = table.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ValueError(f"{where}: enabled must be true or false")
    cwd = table.get("cwd")
    if cwd is not None and not isinstance(cwd, str):
        raise ValueError(f"{where}: cwd must be a path")
    return McpServerConfig(
        name=name,
        command=command,
        args=_strings(table.get("args", []), f"{where} args"),
        env=_string_table(table.get("env", {}), f"{where} env"),
        cwd=cwd,
        url=url,
        headers=_string_table(table.get("headers", {}), f"{where} headers"),
        enabled=enabled,
        allow=None if allow is None else _strings(allow, f"{where} allow"),
        no_confirm=frozenset(no_confirm),
        raw=table,
    )


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{where} must be a list of strings")
    return tuple(value)


def _string_table(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError(f"{where} must be a table of strings")
    return {str(k): v for k, v in value.items()}


def servers_table(servers: tuple[McpServerConfig, ...]) -> dict[str, Any]:
    """The `[mcp]` table to write back (each server as it was written)."""
    return {"servers": {server.name: dict(server.raw) for server in servers if server.raw}}
