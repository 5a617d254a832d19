"""Regenerate screenshots/*.svg from the running app at 120x40 against the simulator.

.venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import WEEKDAY_OFF_PEAK  # noqa: E402
from scenes import SCENES, scene_app  # noqa: E402
from ui_support import SIZE  # noqa: E402

from deepseek_tui import clock  # noqa: E402
from deepseek_tui.simulator import Simulator  # noqa: E402


async def capture(name: str, out_dir: Path) -> Path:
    with tempfile.TemporaryDirectory() as tmp, Simulator(api_key="sk-test") as simulator:
        tmp_path = Path(tmp)
        os.environ["XDG_CONFIG_HOME"] = str(tmp_path / "config")
        os.environ["XDG_DATA_HOME"] = str(tmp_path / "data-home")
        os.environ["XDG_CACHE_HOME"] = str(tmp_path / "cache")  # the /models cache stays out of yours
        app, run_before = scene_app(simulator, tmp_path, name)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await run_before(pilot)
            await pilot.pause(0.3)
            target = out_dir / f"{name}.svg"
            app.save_screenshot(filename=target.name, path=str(out_dir))
            return target


def main() -> None:
    out_dir = ROOT / "screenshots"
    out_dir.mkdir(exist_ok=True)
    os.environ["TZ"] = "UTC"  # the same pictures on every machine
    time.tzset()
    for key in ("DEEPSEEK_API_KEY", "DEEPSEEK_BASE_URL"):
        os.environ.pop(key, None)
    clock.use(clock.FixedClock(WEEKDAY_OFF_PEAK, step=timedelta(microseconds=1)))  # prices as in the tests
    for name in SCENES:
        print(asyncio.run(capture(name, out_dir)))


if __name__ == "__main__":
    main()
