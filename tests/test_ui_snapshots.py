"""SVG snapshots of the main screens (pytest-textual-snapshot; sync tests by design).

Regenerate only after reading the diff report: pytest tests/test_ui_snapshots.py --snapshot-update
"""

from __future__ import annotations

import pytest
from scenes import SCENES, scene_app
from ui_support import SIZE

PRICED = ("answered", "error")
"""Scenes whose prices depend on the moment: the error scene prices its estimate at the pinned
now, the answered one shows a cost recorded on a Friday noon (never priced again); both show
the status line's peak note at a weekday peak hour."""


@pytest.mark.parametrize("name", [name for name in SCENES if name not in PRICED])
def test_screen(name, simulator, tmp_path, snap_compare):
    app, run_before = scene_app(simulator, tmp_path, name)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("name", PRICED)
def test_priced_screen(name, any_moment, simulator, tmp_path, snap_compare):
    """At a weekday peak hour, a weekday off-peak hour and on a Saturday."""
    app, run_before = scene_app(simulator, tmp_path, name)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
