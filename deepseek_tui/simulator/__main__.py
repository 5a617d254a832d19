"""Run the simulator on its own: `python -m deepseek_tui.simulator [--port N] [--key K] [--rate R]`."""

from __future__ import annotations

import argparse
import threading

from .server import Simulator


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m deepseek_tui.simulator", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    parser.add_argument("--key", default="sk-test", help="accepted API key (default: sk-test)")
    parser.add_argument("--rate", type=float, default=None, help="tokens per second (default: full speed)")
    arguments = parser.parse_args()
    with Simulator(api_key=arguments.key, token_rate=arguments.rate, port=arguments.port) as simulator:
        print(f"DeepSeek simulator at {simulator.url} (key {arguments.key!r}); Ctrl-C stops it", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
