"""The test toolbox over stdio: `python tests/mcp_servers/stdio_server.py [--name N] [--second]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from toolbox import build

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", default="toolbox")
    parser.add_argument("--second", action="store_true")
    parser.add_argument("--hello", default="", help="a line to write to stderr on start")
    arguments = parser.parse_args()
    if arguments.hello:
        print(arguments.hello, file=sys.stderr, flush=True)
    build(arguments.name, arguments.second).run("stdio")
