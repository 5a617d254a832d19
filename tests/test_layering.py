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
)


def test_core_modules_do_not_import_textual():
    code = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in TEXTUAL_FREE)
        + "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
