"""Function names for MCP tools, as DeepSeek accepts them, and back (no `mcp`).

DeepSeek takes function names of a-z A-Z 0-9 `_` `-`, at most 128 characters (reference §12; the
V3.x limit was 64, §2), unique within a request. MCP tool names are freer (dots, slashes, long
names) and two servers may both have a `search`. So:

- characters DeepSeek does not take become `_`;
- a name that more than one server has is prefixed with the server's name: `files__search`;
- a name still too long keeps its start and ends with a short hash of the whole;
- a name still taken (two tools that differ only in a replaced character) gets `_2`, `_3`, ...

The result is the same for the same servers and tools, in whatever order they started.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

MAX_NAME_LENGTH = 128
"""DeepSeek's limit on a function name (reference §12)."""
SEPARATOR = "__"
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_-]")


def clean(name: str) -> str:
    """`name` with every character DeepSeek does not take replaced by `_` ("tool" if empty)."""
    return _NOT_ALLOWED.sub("_", name) or "tool"


def _fit(name: str, whole: str) -> str:
    if len(name) <= MAX_NAME_LENGTH:
        return name
    digest = hashlib.sha256(whole.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{name[: MAX_NAME_LENGTH - len(digest) - 1]}_{digest}"


def api_names(tools: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(server, tool) -> the function name DeepSeek sees; unique, valid, stable."""
    pairs = sorted(set(tools))
    servers_of: dict[str, set[str]] = {}
    for server, tool in pairs:
        servers_of.setdefault(clean(tool), set()).add(server)
    names: dict[tuple[str, str], str] = {}
    taken: set[str] = set()
    for server, tool in pairs:
        base = clean(tool)
        if len(servers_of[base]) > 1:
            base = f"{clean(server)}{SEPARATOR}{base}"
        name = _fit(base, f"{server}\0{tool}")
        number = 2
        while name in taken:
            suffix = f"_{number}"
            name = _fit(base, f"{server}\0{tool}")[: MAX_NAME_LENGTH - len(suffix)] + suffix
            number += 1
        taken.add(name)
        names[(server, tool)] = name
    return names
