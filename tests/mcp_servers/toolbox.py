"""The tools of the test servers (one definition, served over stdio or streamable HTTP).

- `add(a, b)`: a + b; `echo(text)`: the text; `shout(text)` (only when --second: a tool whose
  name `echo` clashes with the first server's);
- `lookup_city(city)`: a fixed fact about a city;
- `env_value(name)`: an environment variable of the server's process ("<unset>" if absent);
- `fail(reason)`: a tool error with that reason; `big(size)`: `size` characters of text;
- `crash()`: writes a line to stderr, then the process exits mid-call;
- `wait_for(path)`: returns once `path` exists (a test holds a call open with it);
- `pid()`: the server's process id; `header(name)`: an HTTP request header (streamable HTTP only).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError


def build(name: str = "toolbox", second: bool = False) -> MCPServer:
    server = MCPServer(name, log_level="CRITICAL")

    @server.tool()
    def echo(text: str) -> str:
        """Say the text back."""
        return f"{name} says: {text}"

    if second:
        return server

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two whole numbers."""
        return a + b

    @server.tool()
    def lookup_city(city: str) -> str:
        """A fact about a city."""
        return f"{city} has 3 rivers and 12 bridges."

    @server.tool()
    def env_value(name: str) -> str:
        """An environment variable of the server's process."""
        return os.environ.get(name, "<unset>")

    @server.tool()
    def fail(reason: str) -> str:
        """Always fails, with the reason given."""
        raise ToolError(f"failed on purpose: {reason}")

    @server.tool()
    def big(size: int) -> str:
        """Returns `size` characters."""
        return ("0123456789" * (size // 10 + 1))[:size]

    @server.tool()
    def crash() -> str:
        """The server dies during this call."""
        print("toolbox: about to crash", file=sys.stderr, flush=True)
        os._exit(3)

    @server.tool()
    def wait_for(path: str) -> str:
        """Returns once the file exists."""
        while not Path(path).exists():
            time.sleep(0.01)
        return "released"

    @server.tool()
    def pid() -> str:
        """The server's process id."""
        return str(os.getpid())

    @server.tool()
    def header(name: str, ctx: Context) -> str:
        """A header of the HTTP request that carried this call."""
        request = ctx.request_context.request
        headers = getattr(request, "headers", None)
        return headers.get(name, "<absent>") if headers is not None else "<not http>"

    return server
