"""The config file: where it lives, what it holds, how it is read and written (no Textual).

Read with tomllib, written with tomli-w through an atomic write. The file is always created with
mode 0600 because it may hold the API key. Environment variables win over the file:
DEEPSEEK_API_KEY, DEEPSEEK_BASE_URL, and DEEPSEEK_TUI_CONFIG for the file's path.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import tomli_w
from platformdirs import user_config_path, user_data_path

from deepseek_tui.atomic import atomic_write_bytes
from deepseek_tui.catalogue import Catalogue, CatalogueError
from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.conversation.attachments import AttachmentLimits
from deepseek_tui.model_choice import current_settings
from deepseek_tui.tools.config import (
    McpServerConfig,
    ToolsConfigError,
    ToolSettings,
    parse_servers,
    parse_tool_settings,
    servers_table,
)

APP_NAME = "deepseek-tui"
DEFAULT_BASE_URL = "https://api.deepseek.com"
CONFIG_MODE = 0o600

SessionFormat = Literal["json", "toml"]


class ConfigError(Exception):
    """The config file exists but cannot be used; the message says where and why."""


def default_config_path() -> Path:
    override = os.environ.get("DEEPSEEK_TUI_CONFIG")
    if override:
        return Path(override).expanduser()
    return user_config_path(APP_NAME, appauthor=False) / "config.toml"


def default_data_dir() -> Path:
    return user_data_path(APP_NAME, appauthor=False)


@dataclass(frozen=True)
class AppConfig:
    api_key: str | None = None
    """Stored key; DEEPSEEK_API_KEY overrides it. Never written anywhere else."""
    base_url: str = DEFAULT_BASE_URL
    chat: ChatSettings = field(default_factory=ChatSettings)
    """Defaults for new conversations; the settings pane writes the current ones back here."""
    session_format: SessionFormat = "json"
    currency: Literal["USD", "CNY"] = "USD"
    on_start: Literal["continue", "new"] = "continue"
    """Open the most recent conversation, or start a new one."""
    theme: str = "textual-dark"
    show_reasoning: bool = True
    show_settings: bool = False
    keymap: Mapping[str, str] = field(default_factory=dict)
    """Binding id -> keys, e.g. {"toggle_mode" = "ctrl+t"}."""
    models: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """`[models.<id>]` tables that add to or override the built-in catalogue."""
    data_dir: str | None = None
    """Where sessions are kept; None = the platform's user data dir."""
    attachments: AttachmentLimits = field(default_factory=AttachmentLimits)
    """`[attachments]`: caps on the files a message may carry."""
    mcp_servers: tuple[McpServerConfig, ...] = ()
    """`[mcp.servers.NAME]`: the MCP servers whose tools the model may call."""
    tools: ToolSettings = field(default_factory=ToolSettings)
    """`[tools]`: limits of the tool loop."""
    base_url_override: str | None = None
    """--base-url for this run only (never written to the file)."""
    use_environment: bool = True
    """False in demo mode: DEEPSEEK_API_KEY / DEEPSEEK_BASE_URL must not reach the simulator."""
    notices: tuple[str, ...] = ()
    """Said once when a run starts (stderr in pipe mode, a notification in the TUI), e.g. that
    the file or --model named a retired model and its successor is used. Never written."""
    names_retired_model: bool = False
    """The file's [chat] model is a retired name: the TUI writes the file back with the
    successor, so the user is told only once. Never written."""

    # --- derived ---------------------------------------------------------------------------

    def catalogue(self) -> Catalogue:
        return Catalogue().with_overrides(self.models)

    def sessions_dir(self) -> Path:
        root = Path(self.data_dir).expanduser() if self.data_dir else default_data_dir()
        return root / "sessions"

    def effective_api_key(self) -> str | None:
        from_env = os.environ.get("DEEPSEEK_API_KEY") if self.use_environment else None
        return from_env or self.api_key or None

    def effective_base_url(self) -> str:
        """--base-url, then DEEPSEEK_BASE_URL, then the file."""
        from_env = os.environ.get("DEEPSEEK_BASE_URL") if self.use_environment else None
        return self.base_url_override or from_env or self.base_url

    def __repr__(self) -> str:  # never show the key
        shown = "set" if self.api_key else "unset"
        return f"AppConfig(api_key=<{shown}>, base_url={self.base_url!r}, model={self.chat.model!r})"


_SIMPLE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "api_key": str,
    "base_url": str,
    "session_format": str,
    "currency": str,
    "on_start": str,
    "theme": str,
    "show_reasoning": bool,
    "show_settings": bool,
    "data_dir": str,
}
_CHOICES = {
    "session_format": ("json", "toml"),
    "currency": ("USD", "CNY"),
    "on_start": ("continue", "new"),
}


def parse_config(data: Mapping[str, Any], source: str = "config") -> AppConfig:
    """Build an AppConfig from a parsed TOML document; raise ConfigError naming the bad key."""
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key in _SIMPLE_FIELDS:
            if not isinstance(value, _SIMPLE_FIELDS[key]):
                raise ConfigError(f"{source}: {key} has the wrong type ({type(value).__name__})")
            if key in _CHOICES and value not in _CHOICES[key]:
                raise ConfigError(f"{source}: {key} must be one of {', '.join(_CHOICES[key])}")
            values[key] = value
        elif key == "chat":
            try:
                values["chat"] = ChatSettings.from_dict(_table(value, key, source))
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"{source}: [chat] {exc}") from None
        elif key == "keymap":
            table = _table(value, key, source)
            if not all(isinstance(v, str) for v in table.values()):
                raise ConfigError(f"{source}: [keymap] values must be key strings")
            values["keymap"] = dict(table)
        elif key == "attachments":
            values["attachments"] = _attachment_limits(_table(value, key, source), source)
        elif key == "models":
            tables = _table(value, key, source)
            for model_id, table in tables.items():
                _table(table, f"models.{model_id}", source)
            values["models"] = {k: dict(v) for k, v in tables.items()}
        elif key == "mcp":
            values["mcp_servers"] = parse_servers(_table(value, key, source))
        elif key == "tools":
            try:
                values["tools"] = parse_tool_settings(_table(value, key, source))
            except ToolsConfigError as exc:
                raise ConfigError(f"{source}: {exc}") from None
        # Unknown keys are ignored so that newer config files still open.
    config = AppConfig(**values)
    try:
        catalogue = config.catalogue()
    except CatalogueError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    return with_current_models(config, catalogue, source)


def with_current_models(config: AppConfig, catalogue: Catalogue, source: str) -> AppConfig:
    """The config with a retired [chat] model replaced by its successor, and notices saying so."""
    choice = current_settings(config.chat, catalogue, where=f"[chat] in {source}")
    notices = [choice.notice] if choice.notice else []
    for model_id in catalogue.ignored_overrides(config.models):
        notices.append(f"[models.{model_id}] in {source} is ignored: DeepSeek retired {model_id}.")
    return replace(
        config,
        chat=choice.settings,
        notices=config.notices + tuple(notices),
        names_retired_model=choice.notice is not None,
    )


_ATTACHMENT_KEYS = {  # config key -> (AttachmentLimits field, bytes per unit)
    "max_text_file_kb": ("text_file_bytes", 1024),
    "max_text_message_kb": ("text_message_bytes", 1024),
    "max_image_mb": ("image_bytes", 1024 * 1024),
}


def _attachment_limits(table: Mapping[str, Any], source: str) -> AttachmentLimits:
    limits: dict[str, int] = {}
    for key, value in table.items():
        if key not in _ATTACHMENT_KEYS:
            continue  # unknown keys are ignored, as elsewhere
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1024 * 1024:
            raise ConfigError(f"{source}: [attachments] {key} must be a positive whole number")
        field_name, unit = _ATTACHMENT_KEYS[key]
        limits[field_name] = value * unit
    return AttachmentLimits(**limits)


def _attachments_table(limits: AttachmentLimits) -> dict[str, int]:
    """The [attachments] keys whose value is not the default."""
    defaults = AttachmentLimits()
    return {
        key: getattr(limits, name) // unit
        for key, (name, unit) in _ATTACHMENT_KEYS.items()
        if getattr(limits, name) != getattr(defaults, name)
    }


def _table(value: Any, key: str, source: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{source}: {key} must be a table")
    return value


def load_config(path: Path | None = None) -> AppConfig:
    """Read the config file; a missing file gives the defaults."""
    path = path or default_config_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return AppConfig()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    except (ValueError, RecursionError, MemoryError) as exc:  # e.g. an integer of 5,000 digits
        raise ConfigError(f"{path} cannot be read: {type(exc).__name__}: {str(exc)[:100]}") from None
    return parse_config(data, str(path))


def config_to_toml(config: AppConfig) -> str:
    defaults = AppConfig()
    doc: dict[str, Any] = {}
    for key in _SIMPLE_FIELDS:
        value = getattr(config, key)
        if value is not None and (value != getattr(defaults, key) or key == "base_url"):
            doc[key] = value
    doc["chat"] = config.chat.to_dict()
    if config.keymap:
        doc["keymap"] = dict(config.keymap)
    if attachments := _attachments_table(config.attachments):
        doc["attachments"] = attachments
    if config.models:
        doc["models"] = {k: dict(v) for k, v in config.models.items()}
    if config.tools.to_table():
        doc["tools"] = config.tools.to_table()
    mcp = servers_table(config.mcp_servers)
    if mcp["servers"]:
        doc["mcp"] = mcp
    return tomli_w.dumps(doc)


def save_config(config: AppConfig, path: Path | None = None) -> Path:
    """Write the config atomically with mode 0600 (it may hold the API key)."""
    path = path or default_config_path()
    atomic_write_bytes(path, config_to_toml(config).encode("utf-8"), mode=CONFIG_MODE)
    return path


def updated(config: AppConfig, **changes: Any) -> AppConfig:
    return replace(config, **changes)
