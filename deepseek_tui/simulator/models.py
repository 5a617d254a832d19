"""The simulator's own per-model rules: DeepSeek as of V4.1 (reference §12, which supersedes §8).

Deliberately independent of `deepseek_tui.catalogue`: tests that run the app against the simulator
then check the catalogue against a second, separately written statement of the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelRules:
    name: str
    context_tokens: int
    max_output_tokens: int
    default_max_tokens: int
    """Output budget when `max_tokens` is left out: without thinking, with it, at effort max."""
    default_max_tokens_thinking: int
    default_max_tokens_max_effort: int
    thinking_by_default: bool
    supports_fim: bool
    vision: bool
    system_fingerprint: str

    def default_budget(self, thinking: bool, effort: str) -> int:
        if not thinking:
            return self.default_max_tokens
        return self.default_max_tokens_max_effort if effort == "max" else self.default_max_tokens_thinking


_FINGERPRINT = "fp_8b330d02d0_prod0910_fp8_kvcache_20260910"

MODEL_RULES: dict[str, ModelRules] = {
    rules.name: rules
    for rules in (
        ModelRules("deepseek-flash", 1_048_576, 393_216, 8_192, 65_536, 131_072, True, True, True, _FINGERPRINT),
        ModelRules("deepseek-v4-pro", 1_048_576, 393_216, 8_192, 65_536, 131_072, True, True, False, _FINGERPRINT),
    )
}

MODEL_IDS: tuple[str, ...] = tuple(MODEL_RULES)
"""What `GET /models` lists."""

ROUTED_ALIASES: dict[str, str] = {
    "deepseek-v4-flash": "deepseek-flash",
    "deepseek-v4-flash-vision-exp": "deepseek-flash",
}
"""Retired names that still answer, routed to (and billed as) their successor."""

EFFORTS: tuple[str, ...] = ("none", "low", "high", "max")
EFFORT_ALIASES: dict[str, str] = {"minimal": "low", "medium": "high", "xhigh": "high", "ultra": "max"}
DEFAULT_EFFORT = "high"

FIM_MAX_TOKENS = 4_096


def rules_for(model: str) -> ModelRules | None:
    """The rules of a model name the API accepts (a routed alias answers as its target)."""
    return MODEL_RULES.get(ROUTED_ALIASES.get(model, model))
