import sys

from deepseek_tui.cli import main

sys.exit(main())
