"""SVG snapshots of the main screens (pytest-textual-snapshot; sync tests by design).

Regenerate only after reading the diff report: pytest tests/test_ui_snapshots.py --snapshot-update
"""

from __future__ import annotations

import pytest

from scenes import SCENES, scene_app
from ui_support import SIZE


@pytest.mark.parametrize("name", SCENES)
def test_screen(name, simulator, tmp_path, snap_compare):
    app, run_before = scene_app(simulator, tmp_path, name)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
