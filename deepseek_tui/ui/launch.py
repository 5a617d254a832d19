"""Start the app: for real, or in demo mode against the bundled simulator.

An unexpected error ends the app with one line on stderr naming the file that holds the
traceback, and exit status `crash.CRASH_EXIT_CODE` (70); the conversation is saved first.
"""

from __future__ import annotations

import gc
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from deepseek_tui.config import AppConfig
from deepseek_tui.crash import CRASH_EXIT_CODE, crash_line, report_crash
from deepseek_tui.tools.config import McpServerConfig, parse_server

if TYPE_CHECKING:
    from deepseek_tui.ui.app import DeepSeekApp

DEMO_KEY = "sk-demo-0000"


def run_app(config: AppConfig, *, config_path: Path | None = None, demo: bool = False) -> int:
    """Run the app until it ends; returns the process exit status."""
    # Start-up creates mostly objects that live as long as the app (modules, classes, widgets,
    # styles); collecting garbage among them cost 10-35 ms before the first frame (issue 16).
    # The app turns collection back on after its first frame (DeepSeekApp.resume_collection).
    gc.disable()
    from deepseek_tui.ui.app import DeepSeekApp

    if not demo:
        return run_until_done(DeepSeekApp(config, config_path=config_path))

    from deepseek_tui.simulator import Simulator

    # The demo keeps its sessions in a temporary folder: it never mixes with real ones.
    with (
        tempfile.TemporaryDirectory(prefix="deepseek-tui-demo-") as data_dir,
        Simulator(api_key=DEMO_KEY, token_rate=150.0, keepalives=2) as simulator,
    ):
        return run_until_done(
            DeepSeekApp(demo_config(config, simulator.url, data_dir), config_path=config_path, demo=True)
        )


def demo_config(config: AppConfig, url: str, data_dir: str) -> AppConfig:
    """The config of a demo run: the simulator at `url`, sessions in `data_dir`, the demo tools."""
    return replace(
        config,
        api_key=DEMO_KEY,
        base_url=url,
        base_url_override=None,
        use_environment=False,
        data_dir=data_dir,
        on_start="new",
        mcp_servers=(demo_tools_server(),),
    )


def demo_tools_server() -> McpServerConfig:
    """The demo's own MCP server (the date and a calculator), instead of any configured ones."""
    return parse_server("demo", {"command": sys.executable, "args": ["-m", "deepseek_tui.demo_tools"]})


def run_until_done(app: "DeepSeekApp") -> int:
    """`app.run()`, then the exit status: 0, or CRASH_EXIT_CODE after one line on stderr."""
    try:
        app.run()
    except Exception as error:  # failed outside Textual's message loop (e.g. the terminal driver)
        return report_crash(error, secrets=app.crash_secrets())
    if app.crash_report is not None:
        saved = "The conversation was saved; " if app.crash_saved else "The conversation could not be saved; "
        print(crash_line(app.crash_report, saved=saved), file=sys.stderr)
        return CRASH_EXIT_CODE
    return app.return_code or 0
