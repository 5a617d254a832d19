"""Getting text onto the user's clipboard from a terminal app (no Textual).

OSC 52 works in most terminals and over SSH; inside tmux it must be wrapped in a DCS
passthrough (tmux 3.3+ with `allow-passthrough on`, or `set-clipboard on`). Where a platform
clipboard tool exists (pbcopy, wl-copy, xclip, xsel, clip.exe) it is used as well, since some
terminals ignore OSC 52.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from typing import Mapping

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
        subprocess.run(command, input=text.encode("utf-8"), check=True, timeout=5,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return False
    return True
