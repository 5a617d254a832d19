"""The settings pane: the request settings for the next turn, with inert ones marked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.validation import Integer, Number
from textual.widgets import Input, Label, Select, Static, Switch, TextArea

from deepseek_tui.chat_settings import TEMPERATURE_PRESETS, ChatSettings
from deepseek_tui.inert import inert_text
from deepseek_tui.ui.widgets.inert import InertTextArea

DEFAULT = "default"

# Field name -> (label, validator range, is integer)
_NUMBER_FIELDS: dict[str, tuple[str, float, float, bool]] = {
    "temperature": ("Temperature", 0.0, 2.0, False),
    "top_p": ("Top p", 0.0, 1.0, False),
    "max_tokens": ("Max tokens", 1, 8192, True),
    "frequency_penalty": ("Frequency penalty", -2.0, 2.0, False),
    "presence_penalty": ("Presence penalty", -2.0, 2.0, False),
}


class SettingRow(Vertical):
    """One labelled control plus a note line that explains why it is inert, if it is."""

    DEFAULT_CSS = """
    SettingRow { height: auto; margin: 0 0 1 0; }
    SettingRow Input, SettingRow Select { background: $boost; }
    SettingRow > Label { color: $text; text-style: bold; }
    SettingRow .note { color: $text-muted; height: auto; }
    SettingRow .note.-empty { display: none; }
    SettingRow Switch { height: 1; border: none; padding: 0; }
    SettingRow.-inert > Label { color: $text-disabled; text-style: strike; }
    SettingRow.-inert .note { color: $warning; }
    SettingRow.-invalid .note { color: $error; }
    """

    def __init__(self, name: str, label: str, *children, **kwargs) -> None:
        super().__init__(id=f"row-{name}", **kwargs)
        self.setting = name
        self._label = label
        self._children = children

    def compose(self) -> ComposeResult:
        yield Label(self._label)
        yield from self._children
        yield Static("", classes="note -empty", markup=False)

    def set_inert(self, reason: str | None, hint: str = "") -> None:
        self.set_class(reason is not None, "-inert")
        self._inert_note = f"inert: {reason}" if reason else hint
        self._show_note()

    def set_invalid(self, problem: str | None) -> None:
        """Typed input that is not sent: why, and what is sent instead (None: the input is fine)."""
        self.set_class(problem is not None, "-invalid")
        self._invalid_note = problem or ""
        self._show_note()

    def _show_note(self) -> None:
        note = self.query_one(".note", Static)
        text = getattr(self, "_invalid_note", "") or getattr(self, "_inert_note", "")
        note.update(text)
        note.set_class(not text, "-empty")


class SettingsPane(VerticalScroll):
    """Edits a `ChatSettings`; posts `SettingsPane.Changed` with each valid change."""

    DEFAULT_CSS = """
    SettingsPane { border-left: solid $primary-darken-2; padding: 0 1; }
    SettingsPane #settings-title { text-style: bold; margin: 0 0 1 0; }
    SettingsPane Input, SettingsPane Select { width: 100%; }
    SettingsPane #temperature-line { height: auto; }
    SettingsPane #temperature-line Input { width: 1fr; }
    SettingsPane #temperature-line Select { width: 1fr; }
    SettingsPane #setting-system_prompt { height: 5; background: $boost; }
    """

    @dataclass
    class Changed(Message):
        settings: ChatSettings
        field: str

    def __init__(self, settings: ChatSettings, models: list[str], **kwargs) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self._models = models
        self._shown_effort: object = settings.reasoning_effort or DEFAULT
        """The effort the select shows: a Changed with it is an echo (the mount's, or a load's)."""

    def compose(self) -> ComposeResult:
        s = self.settings
        yield Static("Settings · next turn", id="settings-title")
        yield SettingRow(
            "model",
            "Model",
            Select(self._model_options(), value=s.model, allow_blank=False, id="setting-model", compact=True),
        )
        yield SettingRow("thinking", "Thinking (reasoner)", Switch(value=s.thinking, id="setting-thinking"))
        # Built showing `settings` (the efforts come with `load`): a control reports its value
        # when it mounts, and any other value would come back as an edit.
        effort = s.reasoning_effort or DEFAULT
        yield SettingRow(
            "reasoning_effort",
            "Reasoning effort",
            Select(
                list(dict.fromkeys([(DEFAULT, DEFAULT), (effort, effort)])),
                value=effort,
                allow_blank=False,
                id="setting-reasoning_effort",
                compact=True,
            ),
        )
        presets = [(f"{name} ({value})", value) for name, value in TEMPERATURE_PRESETS.items()]
        yield SettingRow(
            "temperature",
            "Temperature",
            Horizontal(
                Input(
                    _fmt(s.temperature),
                    placeholder="default 1.0",
                    id="setting-temperature",
                    validators=[Number(0.0, 2.0)],
                    valid_empty=True,
                    compact=True,
                ),
                Select(
                    presets,
                    prompt="preset",
                    id="temperature-preset",
                    compact=True,
                    value=s.temperature if s.temperature in TEMPERATURE_PRESETS.values() else Select.NULL,
                ),
                id="temperature-line",
            ),
        )
        for name in ("top_p", "max_tokens", "frequency_penalty", "presence_penalty"):
            label, low, high, integer = _NUMBER_FIELDS[name]
            validator = Integer(int(low), int(high)) if integer else Number(low, high)
            yield SettingRow(
                name,
                label,
                Input(
                    _fmt(getattr(s, name)),
                    placeholder="default",
                    id=f"setting-{name}",
                    validators=[validator],
                    valid_empty=True,
                    type="integer" if integer else "number",
                    compact=True,
                ),
            )
        yield SettingRow("json_output", "JSON output", Switch(value=s.json_output, id="setting-json_output"))
        yield SettingRow(
            "system_prompt",
            "System prompt",
            InertTextArea(
                s.system_prompt, id="setting-system_prompt", soft_wrap=True, tab_behavior="focus", compact=True
            ),
        )

    def _model_options(self) -> list[tuple[str, str]]:
        ids = list(dict.fromkeys([*self._models, self.settings.model]))
        return [(inert_text(model_id), model_id) for model_id in ids]  # ids come from files and /models

    # --- updates from the app --------------------------------------------------------------

    def load(
        self,
        settings: ChatSettings,
        *,
        models: list[str] | None = None,
        efforts: tuple[str, ...] = (),
        effort: str | None = None,
        max_tokens_limit: int | None = None,
        inert: Mapping[str, str] | None = None,
        adjusted: Mapping[str, str] | None = None,
    ) -> None:
        """Show `settings` without posting Changed messages.

        The controls' own Changed messages are not sent at all (rather than ignored until the
        next refresh), so none comes back later as an edit, and an edit made right after a load
        is never taken for one. `efforts` are offered as they are; `effort` is the one shown as
        chosen (None: "default"). `inert` settings have no effect (struck out, with the reason);
        `adjusted` ones are sent with another value (the note says which).
        """
        with self.prevent(Input.Changed, Select.Changed, Switch.Changed, TextArea.Changed):
            self.settings = settings
            if models is not None:
                self._models = models
                self.query_one("#setting-model", Select).set_options(self._model_options())
            self.query_one("#setting-model", Select).value = settings.model
            self.query_one("#setting-thinking", Switch).value = settings.thinking
            effort_select = self.query_one("#setting-reasoning_effort", Select)
            options = [(e, e) for e in efforts] if efforts else [(DEFAULT, DEFAULT)]
            effort_select.set_options(options)
            effort_select.value = self._shown_effort = effort if effort in efforts else options[0][1]
            for name in _NUMBER_FIELDS:
                field = self.query_one(f"#setting-{name}", Input)
                if field.value != _fmt(getattr(settings, name)) and not field.has_focus:  # never under the cursor
                    field.value = _fmt(getattr(settings, name))
            if max_tokens_limit:
                field = self.query_one("#setting-max_tokens", Input)
                field.validators = [Integer(1, max_tokens_limit)]
                field.placeholder = f"default (1–{max_tokens_limit})"
            for row in self.query(SettingRow):
                if not row.has_focus_within:
                    row.set_invalid(None)
            self._show_preset()
            self.query_one("#setting-json_output", Switch).value = settings.json_output
            prompt = self.query_one("#setting-system_prompt", TextArea)
            if prompt.text != settings.system_prompt and not prompt.has_focus:
                prompt.load_text(settings.system_prompt)
            self.mark_inert(inert or {}, adjusted)

    def mark_inert(self, inert: Mapping[str, str], adjusted: Mapping[str, str] | None = None) -> None:
        for row in self.query(SettingRow):
            row.set_inert(inert.get(row.setting), (adjusted or {}).get(row.setting, ""))

    # --- user edits ------------------------------------------------------------------------

    def _change(self, name: str, value: Any) -> None:
        if getattr(self.settings, name) == value:
            return
        self.settings = self.settings.updated(**{name: value})
        self.post_message(self.Changed(self.settings, name))

    @on(Select.Changed, "#setting-model")
    def _model_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self._change("model", event.value)

    @on(Switch.Changed, "#setting-thinking")
    def _thinking_changed(self, event: Switch.Changed) -> None:
        self._change("thinking", event.value)

    @on(Switch.Changed, "#setting-json_output")
    def _json_changed(self, event: Switch.Changed) -> None:
        self._change("json_output", event.value)

    @on(Select.Changed, "#setting-reasoning_effort")
    def _effort_changed(self, event: Select.Changed) -> None:
        # The shown effort is not always the stored one (without thinking "none" is shown), so a
        # pick is compared with what was shown, and the app decides what it means for thinking.
        if event.value in (DEFAULT, Select.NULL, self._shown_effort):
            return
        self._shown_effort = str(event.value)
        self.settings = self.settings.updated(reasoning_effort=str(event.value))
        self.post_message(self.Changed(self.settings, "reasoning_effort"))

    @on(Select.Changed, "#temperature-preset")
    def _preset_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, float):
            self.query_one("#setting-temperature", Input).value = _fmt(event.value)

    @on(Input.Changed)
    def _number_changed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("setting-")
        if name not in _NUMBER_FIELDS:
            return
        row = self.query_one(f"#row-{name}", SettingRow)
        value = _parse_number(event.value, integer=_NUMBER_FIELDS[name][3])
        valid = event.validation_result is None or event.validation_result.is_valid
        if not valid or value is _INVALID:
            sent = _fmt(getattr(self.settings, name)) or "the default"
            row.set_invalid(f"not sent: {_allowed(event.input)}; {sent} is sent until it is")
        else:
            row.set_invalid(None)
            self._change(name, value)
        if name == "temperature":
            self._show_preset()

    @on(Input.Blurred)
    def _number_left(self, event: Input.Blurred) -> None:
        """Leaving a field with input that was not sent shows again what is sent."""
        name = (event.input.id or "").removeprefix("setting-")
        row = self.query(f"#row-{name}")
        if name in _NUMBER_FIELDS and row and row.first().has_class("-invalid"):
            with self.prevent(Input.Changed):
                event.input.value = _fmt(getattr(self.settings, name))
            row.first(SettingRow).set_invalid(None)
            if name == "temperature":
                self._show_preset()

    def _show_preset(self) -> None:
        """The preset select names the temperature that is sent, or none of them."""
        preset = self.query_one("#temperature-preset", Select)
        value = self.settings.temperature
        with self.prevent(Select.Changed):
            preset.value = value if value in TEMPERATURE_PRESETS.values() else Select.NULL

    @on(TextArea.Changed, "#setting-system_prompt")
    def _system_prompt_changed(self, event: TextArea.Changed) -> None:
        self._change("system_prompt", event.text_area.text)


_INVALID = object()


def _parse_number(text: str, *, integer: bool) -> Any:
    """The number typed (None when empty), or _INVALID."""
    text = text.strip()
    if not text:
        return None
    try:
        return int(text) if integer else float(text)
    except ValueError:
        return _INVALID


def _allowed(field: Input) -> str:
    """The allowed range, from the field's validator, e.g. "allowed 0.0 to 2.0"."""
    for validator in field.validators:
        low, high = getattr(validator, "minimum", None), getattr(validator, "maximum", None)
        if low is not None and high is not None:
            return f"allowed {_fmt(low)} to {_fmt(high)}"
    return "not a number"


def _fmt(value: float | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return f"{value:.1f}"
    return str(value)
