"""Start the app: for real, or in demo mode against the bundled simulator."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from deepseek_tui.config import AppConfig

DEMO_KEY = "sk-demo-0000"


def run_app(config: AppConfig, *, config_path: Path | None = None, demo: bool = False) -> int:
    from deepseek_tui.ui.app import DeepSeekApp

    if not demo:
        DeepSeekApp(config, config_path=config_path).run()
        return 0

    from deepseek_tui.simulator import Simulator

    # The demo keeps its sessions in a temporary folder: it never mixes with real ones.
    with tempfile.TemporaryDirectory(prefix="deepseek-tui-demo-") as data_dir, Simulator(
        api_key=DEMO_KEY, token_rate=150.0, keepalives=2
    ) as simulator:
        demo_config = replace(
            config, api_key=DEMO_KEY, base_url=simulator.url, base_url_override=None,
            use_environment=False, data_dir=data_dir, on_start="new",
        )
        app = DeepSeekApp(demo_config, config_path=config_path, demo=True)
        app.run()
    return 0
