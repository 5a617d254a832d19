"""Start-up with MCP tools configured vs without. Run: .venv/bin/python bench/tools_start.py [--runs 5]

Prints figures only (no assertions). The app runs in tmux at 120×40 (as bench/ui.py case 1)
against a simulator in another process, once with an empty config and once with one MCP server
(the demo tools, `python -m deepseek_tui.demo_tools`) in the config, alternately:

  ready   launch → "Ask DeepSeek" on screen (the first frame with the prompt)
  echo    then a key typed → shown in the prompt
  during  a key typed 0.4 s after the prompt showed → shown (with tools: while the SDK imports in a
          thread, which slows the event loop's thread by sharing the GIL)
  tools   launch → the server's tools are listed (the ctrl+\\ view shows "● ready"), tools config only

Also `python -X importtime` of the modules the app starts with: `mcp` must not be among them.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ui import PY, Sim, Tmux  # bench/ui.py: the simulator process and the tmux driver

TOOLS_CONFIG = f"""
[mcp.servers.demo]
command = "{PY}"
args = ["-m", "deepseek_tui.demo_tools"]
"""


def one_run(workdir: Path, tag: str, with_tools: bool) -> dict[str, float]:
    sim = Sim(10, None, "markdown", workdir)
    term = Tmux(workdir, sim.url, tag)
    try:
        config_dir = term.home / "config" / "deepseek-tui"
        config_dir.mkdir(parents=True, exist_ok=True)
        (config_dir / "config.toml").write_text(TOOLS_CONFIG if with_tools else "")
        t0 = term.start()
        ready = term.wait_for(lambda s: "Ask DeepSeek" in s, 20)
        typed = time.perf_counter()
        term.tmux("send-keys", "Z")
        echoed = term.wait_for(lambda s: "│ Z" in s, 10)
        time.sleep(max(0.0, (ready or t0) + 0.4 - time.perf_counter()))
        typed_later = time.perf_counter()
        term.tmux("send-keys", "Y")
        echoed_later = term.wait_for(lambda s: "│ ZY" in s, 10)
        result = {
            "ready": (ready or float("nan")) - t0,
            "echo": (echoed or float("nan")) - typed,
            "during": (echoed_later or float("nan")) - typed_later,
        }
        if with_tools:
            term.tmux("send-keys", "C-\\")
            listed = term.wait_for(lambda s: "● ready" in s, 30, interval=0.02)
            result["tools"] = (listed or float("nan")) - t0
        return result
    finally:
        term.close()
        sim.close()


def imported_at_start() -> list[str]:
    code = "import deepseek_tui.cli, deepseek_tui.ui.app, deepseek_tui.ui.launch"
    out = subprocess.run([PY, "-X", "importtime", "-c", code], capture_output=True, text=True).stderr
    return sorted(
        {line.split("|")[-1].strip() for line in out.splitlines() if line.split("|")[-1].strip().split(".")[0] == "mcp"}
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    results: dict[bool, list[dict[str, float]]] = {False: [], True: []}
    with tempfile.TemporaryDirectory(prefix="bench-tools-") as tmp:
        workdir = Path(tmp)
        one_run(workdir, "warm", True)  # warm the file cache (Python, the SDK) once
        for run in range(arguments.runs):
            for with_tools in (False, True):
                results[with_tools].append(one_run(workdir, f"{run}-{int(with_tools)}", with_tools))
    for with_tools, runs in results.items():
        label = "with tools" if with_tools else "no tools  "
        parts = []
        for key in ("ready", "echo", "during", "tools"):
            values = [r[key] for r in runs if key in r]
            if values:
                parts.append(
                    f"{key} median {statistics.median(values):.3f} s (min {min(values):.3f}, max {max(values):.3f})"
                )
        print(f"{label}: " + "; ".join(parts))
    ready = {w: statistics.median(r["ready"] for r in runs) for w, runs in results.items()}
    print(f"start-up difference (median ready, tools − none): {ready[True] - ready[False]:+.3f} s")
    print(f"mcp modules imported by the start-up modules: {imported_at_start() or 'none'}")


if __name__ == "__main__":
    main()
