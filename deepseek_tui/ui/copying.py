"""Copying a text for the user: by every route that can work here, and saying truthfully which
one did (deepseek_tui/ui/clipboard.py finds the routes)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.app import App
from textual.notifications import SeverityLevel

from deepseek_tui.atomic import atomic_write_bytes
from deepseek_tui.ui import clipboard


@dataclass(frozen=True)
class CopyReport:
    text: str
    title: str = ""
    severity: SeverityLevel = "information"
    timeout: float = 3


def copy_everywhere(app: App, text: str, what: str, *, keep_in: Path) -> CopyReport:
    """Copy `text` (called `what` in the report) and say how it went.

    Where no route is certain (a terminal that may ignore OSC 52, tmux that drops it), the text
    is also written to `keep_in` (mode 0600), so a copy is never lost.
    """
    route = clipboard.route()
    app.copy_to_clipboard(text)  # OSC 52, and the app's own clipboard for pasting inside it
    driver = app._driver
    if route.osc52 == "tmux-passthrough" and driver is not None:
        driver.write(clipboard.tmux_passthrough(clipboard.osc52(text)))
    size = f"{len(text):,} characters"
    if route.tool is not None and clipboard.copy_with_tool(text, route.tool):
        return CopyReport(f"Copied {what} ({size}) with {route.tool[0]}.")
    if route.osc52 in ("tmux", "tmux-passthrough"):
        return CopyReport(f"Copied {what} ({size}) through tmux.")
    kept = _keep(text, keep_in)
    if route.osc52 == "terminal":
        also = f": the text is also in {kept}" if kept else ""
        return CopyReport(
            f"Sent {what} ({size}) to the terminal's clipboard (OSC 52). If it does not arrive, "
            f"the terminal ignores OSC 52{also}.",
            timeout=6,
        )
    where = f"It is in {kept}." if kept else "It could not be saved to a file either."
    return CopyReport(
        f"Nothing reached a clipboard: tmux drops the terminal's clipboard sequence ({route.tmux_settings}) "
        f"and no clipboard tool (xclip, wl-copy, pbcopy…) is installed. {where} To copy directly, run: "
        f"tmux set -g set-clipboard on",
        title=f"{what[:1].upper()}{what[1:]} not copied",
        severity="warning",
        timeout=15,
    )


def _keep(text: str, path: Path) -> str:
    try:
        atomic_write_bytes(path, text.encode("utf-8"), mode=0o600, durable=False)
    except OSError:
        return ""
    return str(path)
