"""Getting text onto the user's clipboard from a terminal app (no Textual).

OSC 52 works in most terminals and over SSH, but nothing tells the app whether the terminal
honoured it. Inside tmux it reaches the outer terminal only with `set-clipboard on` (tmux takes
it into its own buffer and passes it on) or `allow-passthrough on` (then it must be wrapped in a
DCS passthrough); tmux's default, `set-clipboard external`, drops it. Where a platform clipboard
tool exists (pbcopy, wl-copy, xclip, xsel, clip.exe) it is used as well, and it says whether it
worked. `route()` finds out which of these can carry the text here.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

PLATFORM_TOOLS: tuple[tuple[str, ...], ...] = (
    ("pbcopy",),
    ("wl-copy",),
    ("xclip", "-selection", "clipboard"),
    ("xsel", "--clipboard", "--input"),
    ("clip.exe",),
)


def osc52(text: str) -> str:
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return f"\x1b]52;c;{payload}\a"


def tmux_passthrough(sequence: str) -> str:
    """Wrap an escape sequence so tmux hands it to the outer terminal."""
    return "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"


def in_tmux(environ: Mapping[str, str] = os.environ) -> bool:
    return bool(environ.get("TMUX"))


def platform_tool(environ: Mapping[str, str] = os.environ) -> tuple[str, ...] | None:
    """The first clipboard tool that can work here (X/Wayland tools need a display)."""
    for command in PLATFORM_TOOLS:
        name = command[0]
        if name == "wl-copy" and not environ.get("WAYLAND_DISPLAY"):
            continue
        if name in ("xclip", "xsel") and not environ.get("DISPLAY"):
            continue
        if shutil.which(name):
            return command
    return None


def copy_with_tool(text: str, command: tuple[str, ...]) -> bool:
    try:
        subprocess.run(
            command,
            input=text.encode("utf-8"),
            check=True,
            timeout=5,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return True


Osc52Path = Literal["terminal", "tmux", "tmux-passthrough", "blocked"]
"""How an OSC 52 sequence would travel: straight to the terminal (unconfirmed), taken by tmux
(`set-clipboard on`), wrapped through tmux (`allow-passthrough`), or dropped by tmux."""


@dataclass(frozen=True)
class Route:
    osc52: Osc52Path
    tool: tuple[str, ...] | None
    tmux_settings: str = ""
    """e.g. "set-clipboard external, allow-passthrough off" (for the message when blocked)."""


def tmux_option(name: str) -> str | None:
    """A global tmux option's value, or None when tmux cannot be asked."""
    try:
        done = subprocess.run(["tmux", "show-options", "-gv", name], capture_output=True, text=True, timeout=2)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def route(
    environ: Mapping[str, str] = os.environ,
    option: Callable[[str], str | None] = tmux_option,
) -> Route:
    tool = platform_tool(environ)
    if not in_tmux(environ):
        return Route("terminal", tool)
    set_clipboard, passthrough = option("set-clipboard"), option("allow-passthrough")
    settings = f"set-clipboard {set_clipboard or '?'}, allow-passthrough {passthrough or '?'}"
    if set_clipboard == "on":
        return Route("tmux", tool, settings)
    if passthrough in ("on", "all"):
        return Route("tmux-passthrough", tool, settings)
    if set_clipboard is None and passthrough is None:  # tmux did not answer: try both ways
        return Route("tmux-passthrough", tool, settings)
    return Route("blocked", tool, settings)
