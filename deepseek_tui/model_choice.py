"""Chat settings that name what DeepSeek serves today (no Textual, no I/O).

A config file, a `--model`, a stored session or an import may name a model DeepSeek retired; such
settings move to the successor in the catalogue's thinking mode, and the caller tells the user
once with `Choice.notice`. Effort aliases become the effort the API uses, and the effort that
means "no thinking" (V4.1: none) is stored as thinking off. The settings pane's edits go through
`after_change`, so the thinking switch, the effort and the model stay consistent.
"""

from __future__ import annotations

from dataclasses import dataclass

from deepseek_tui.catalogue import Catalogue, RetiredModel
from deepseek_tui.chat_settings import ChatSettings


@dataclass(frozen=True)
class Choice:
    settings: ChatSettings
    notice: str | None = None
    """What was changed and why, for the user (None: nothing worth saying)."""


def retired_notice(retired: RetiredModel, where: str, *, with_mode: bool = True) -> str:
    """e.g. "deepseek-reasoner was retired by DeepSeek on 2026-07-24: --model now uses
    deepseek-flash with thinking on." (`with_mode` False: no thinking mode, e.g. for FIM)."""
    when = f" on {retired.retired_on}" if retired.retired_on else ""
    successor = retired.describe() if with_mode else retired.successor
    return f"{retired.id} was retired by DeepSeek{when}: {where} now uses {successor}."


def current_settings(settings: ChatSettings, catalogue: Catalogue, where: str = "this conversation") -> Choice:
    """`settings` with a retired model replaced by its successor and the effort made canonical."""
    notice = None
    retired = catalogue.retired(settings.model)
    if retired is not None:
        thinking = settings.thinking if retired.thinking is None else retired.thinking
        settings = settings.updated(model=retired.successor, thinking=thinking)
        notice = retired_notice(retired, where)
    return Choice(_canonical_effort(settings, catalogue), notice)


def _canonical_effort(settings: ChatSettings, catalogue: Catalogue) -> ChatSettings:
    spec = catalogue.get(settings.model)
    effort = settings.reasoning_effort
    if effort is None or not spec.accepts_effort(effort):
        return settings
    if spec.turns_thinking_off(effort):
        return settings.updated(thinking=False, reasoning_effort=None)
    canonical = spec.resolve_effort(effort)
    return settings if canonical == effort else settings.updated(reasoning_effort=canonical)


def after_change(settings: ChatSettings, field: str, catalogue: Catalogue) -> ChatSettings:
    """The settings to use after the user changed `field` (settings pane, command line)."""
    if field == "model":
        settings = current_settings(settings, catalogue).settings
        spec = catalogue.get(settings.model)
        # Keep the thinking wish meaningful for the new model (a model without a switch decides).
        return settings.updated(thinking=spec.thinks(settings.thinking, settings.reasoning_effort))
    if field == "thinking":
        model, thinking = catalogue.set_thinking(settings.model, settings.thinking)
        return settings.updated(model=model, thinking=thinking)
    if field == "reasoning_effort":
        spec = catalogue.get(settings.model)
        effort = settings.reasoning_effort
        if effort is not None and spec.accepts_effort(effort) and not spec.turns_thinking_off(effort):
            settings = settings.updated(model=spec.id, thinking=True)  # a thinking effort: thinking on
        return _canonical_effort(settings, catalogue)
    return settings


def effort_choice(settings: ChatSettings, catalogue: Catalogue) -> tuple[tuple[str, ...], str | None]:
    """(the efforts to offer, the one to show as chosen) for the settings pane.

    Without thinking the chosen effort is the one that means no thinking (if the model has one);
    with thinking it is the effort that will be sent (the model's default when none is set).
    """
    spec = catalogue.get(settings.model)
    if not spec.efforts:
        return (), None
    if not spec.thinks(settings.thinking, settings.reasoning_effort):
        return spec.efforts, spec.thinking_off_effort
    return spec.efforts, spec.resolve_effort(settings.reasoning_effort) or spec.default_effort
