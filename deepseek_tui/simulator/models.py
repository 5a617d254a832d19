"""The simulator's own per-model rules (reference §2.2, §6, §8).

Deliberately independent of `deepseek_tui.catalogue`: tests that run the app against the simulator
then check the catalogue against a second, separately written statement of the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Generation = Literal["v3.2", "v4"]


@dataclass(frozen=True)
class ModelRules:
    name: str
    generation: Generation
    context_tokens: int
    default_max_tokens: int
    max_output_tokens: int
    thinking_by_default: bool
    supports_fim: bool
    system_fingerprint: str

    @property
    def is_v4(self) -> bool:
        return self.generation == "v4"


_V32_FINGERPRINT = "fp_eaab8d114b_prod0820_fp8_kvcache"
_V4_FINGERPRINT = "fp_8b330d02d0_prod0820_fp8_kvcache_20260402"

MODEL_RULES: dict[str, ModelRules] = {
    rules.name: rules
    for rules in (
        ModelRules("deepseek-chat", "v3.2", 131_072, 4_096, 8_192, False, True, _V32_FINGERPRINT),
        ModelRules("deepseek-reasoner", "v3.2", 131_072, 32_768, 65_536, True, False, _V32_FINGERPRINT),
        ModelRules("deepseek-v4-flash", "v4", 1_048_576, 32_768, 393_216, True, True, _V4_FINGERPRINT),
        ModelRules("deepseek-v4-pro", "v4", 1_048_576, 32_768, 393_216, True, True, _V4_FINGERPRINT),
    )
}

MODEL_IDS: tuple[str, ...] = tuple(MODEL_RULES)

FIM_MAX_TOKENS = 4_096


def effective_model(rules: ModelRules, thinking: bool) -> str:
    """The `model` a response reports: V3.2 names the model that actually ran."""
    if rules.generation == "v3.2":
        return "deepseek-reasoner" if thinking else "deepseek-chat"
    return rules.name
