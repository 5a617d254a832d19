"""The client, the conversation layer and the config know nothing of Textual."""

from __future__ import annotations

import subprocess
import sys

TEXTUAL_FREE = (
    "deepseek_tui.client",
    "deepseek_tui.client.api",
    "deepseek_tui.conversation",
    "deepseek_tui.config",
    "deepseek_tui.catalogue",
    "deepseek_tui.model_choice",
    "deepseek_tui.models_cache",
    "deepseek_tui.conversation.turn",
    "deepseek_tui.usage",
    "deepseek_tui.clock",
    "deepseek_tui.labels",
    "deepseek_tui.ui.clipboard",
    "deepseek_tui.ui.editor",
    "deepseek_tui.ui.code_blocks",
    "deepseek_tui.inert",
    "deepseek_tui.guarded_read",
    "deepseek_tui.crash",
    "deepseek_tui.conversation.merge",
    "deepseek_tui.conversation.attachments",
    "deepseek_tui.conversation.blobs",
    "deepseek_tui.conversation.send_check",
    "deepseek_tui.attach_paths",
    "deepseek_tui.image_preview",
    "deepseek_tui.conversation.tool_loop",
    "deepseek_tui.tools",
    "deepseek_tui.tools.config",
    "deepseek_tui.tools.naming",
    "deepseek_tui.tools.host",
    "deepseek_tui.demo_tools",
)


def test_core_modules_do_not_import_textual():
    code = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in TEXTUAL_FREE)
        + "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_mcp_sdk_is_not_imported_to_start_the_app_or_a_command():
    """`mcp` takes most of a second to import: only a host starting its first server loads it
    (in a worker thread, after the first frame), never the modules the app starts with."""
    code = (
        "import sys\n"
        "import deepseek_tui.cli, deepseek_tui.ui.app, deepseek_tui.ui.launch, deepseek_tui.pipe\n"
        "import deepseek_tui.tools.host, deepseek_tui.ui.tools_control, deepseek_tui.demo_tools\n"
        "from deepseek_tui.config import parse_config\n"
        "from deepseek_tui.ui.app import DeepSeekApp\n"
        "config = parse_config({'mcp': {'servers': {'x': {'command': 'true'}}}})\n"
        "DeepSeekApp(config, persist_config=False)\n"
        "print(sorted(m for m in sys.modules if m == 'mcp' or m.startswith('mcp.')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_version_and_help_do_not_load_textual_or_the_http_client():
    """`deepseek-tui --version` / `--help` answer at once: neither Textual nor httpx is imported."""
    for args in (["--version"], ["--help"], ["ask", "--help"]):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "deepseek_tui", *args],
            capture_output=True,
            text=True,
            check=True,
        )
        imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}
        assert not {m for m in imported if m.split(".")[0] in ("textual", "httpx")}, args
        assert done.stdout.strip()


LOADED_ON_FIRST_USE = (
    "deepseek_tui.conversation.turn",
    "deepseek_tui.conversation.tool_loop",
    "deepseek_tui.conversation.compact",
    "deepseek_tui.conversation.export",
    "deepseek_tui.conversation.merge",
    "deepseek_tui.image_preview",
    "deepseek_tui.ui.reply",
    "deepseek_tui.ui.tool_display",
    "deepseek_tui.ui.editor",
    "deepseek_tui.ui.screens.sessions",
    "deepseek_tui.ui.screens.transfer",
    "deepseek_tui.ui.screens.help",
    "deepseek_tui.ui.screens.key",
    "deepseek_tui.ui.screens.tools",
    "deepseek_tui.ui.screens.fim",
    "deepseek_tui.ui.widgets.markdown_render",
    "markdown_it",
    "rich.markdown",
)
"""What the first frame of an empty chat does not need (issue 16: start-up): a turn, the tool
loop, compaction, export and merge, image previews, every screen but the main one, and the
Markdown renderer (markdown-it, Rich's Markdown: the reasoning pane's hint is plain text) load
when first used."""


def test_starting_the_app_does_not_import_what_the_first_frame_does_not_need(tmp_path):
    code = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from deepseek_tui.config import parse_config\n"
        "from deepseek_tui.conversation.store import SessionStore\n"
        "from deepseek_tui.ui.app import DeepSeekApp\n"
        "async def main():\n"
        "    config = parse_config({'api_key': 'sk-test'})\n"
        f"    store = SessionStore(Path({str(tmp_path / 'sessions')!r}))\n"
        "    app = DeepSeekApp(config, store=store, persist_config=False)\n"
        "    async with app.run_test(size=(120, 40)) as pilot:\n"
        "        await pilot.pause()\n"
        "        assert app.query_one('#prompt').has_focus\n"
        "asyncio.run(main())\n"
        f"lazy = {LOADED_ON_FIRST_USE!r}\n"
        "print(sorted(m for m in lazy if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_the_launch_collects_no_garbage_until_the_first_frame_then_collects_again(tmp_path):
    """Start-up's objects live as long as the app: the launch turns garbage collection off while
    it imports and builds the app, and the app turns it back on after its first frame, with those
    objects frozen (issue 16: start-up)."""
    code = (
        "import asyncio, gc, sys\n"
        "from pathlib import Path\n"
        "from deepseek_tui.config import parse_config\n"
        "from deepseek_tui.ui import launch\n"
        "seen = {}\n"
        "def run_until_done(app):\n"
        "    seen['off while starting'] = not gc.isenabled()\n"
        "    async def main():\n"
        "        async with app.run_test(size=(120, 40)) as pilot:\n"
        "            await pilot.pause()\n"
        "            await pilot.pause()\n"
        "            seen['on after the first frame'] = gc.isenabled()\n"
        "            seen['start-up frozen'] = gc.get_freeze_count() > 0\n"
        "    asyncio.run(main())\n"
        "    return 0\n"
        "launch.run_until_done = run_until_done\n"
        f"config = parse_config({{'api_key': 'sk-test', 'data_dir': {str(tmp_path / 'data')!r}}})\n"
        "launch.run_app(config)\n"
        "print(seen)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert result.stdout.strip().splitlines()[-1] == str(
        {"off while starting": True, "on after the first frame": True, "start-up frozen": True}
    )
