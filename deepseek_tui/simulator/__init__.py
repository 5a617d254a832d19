"""A local HTTP server that behaves like DeepSeek's API (tests and `deepseek-tui --demo`).

Standard library only; nothing here imports Textual or the rest of the app.
"""

from .faults import Fault
from .models import MODEL_IDS, MODEL_RULES, ModelRules
from .server import DEFAULT_BALANCE, RecordedRequest, Simulator

__all__ = ["DEFAULT_BALANCE", "MODEL_IDS", "MODEL_RULES", "Fault", "ModelRules", "RecordedRequest", "Simulator"]
