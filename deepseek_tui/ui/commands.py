"""The app's keys and commands: every binding (with the id `[keymap]` remaps), the help rows
and the command palette entries. A new app action gets its key here."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import partial

from textual.app import App
from textual.binding import Binding

APP_BINDINGS: list[Binding] = [
    Binding(
        "ctrl+t",
        "toggle_mode",
        "Chat↔Reasoner",
        id="toggle_mode",
        priority=True,
        tooltip="Switch the next turn between chat and reasoner (thinking) mode",
    ),
    Binding(
        "escape",
        "cancel_reply",
        "Cancel reply",
        id="cancel_reply",
        tooltip="Stop the reply that is streaming; keep what arrived",
    ),
    Binding("f1", "help", "Help", id="help", tooltip="Show the keys"),
    Binding("f2", "toggle_settings", "Settings", id="toggle_settings", tooltip="Show or hide the settings pane"),
    Binding("f3", "toggle_reasoning", "Reasoning", id="toggle_reasoning", tooltip="Show or hide the reasoning pane"),
    Binding(
        "ctrl+o", "sessions", "Chats", id="sessions", tooltip="Open, search, rename, duplicate or delete conversations"
    ),
    Binding("ctrl+n", "new_conversation", "New", id="new_conversation", tooltip="Start a new conversation"),
    Binding(
        "ctrl+r",
        "regenerate",
        "Regenerate",
        id="regenerate",
        show=False,
        tooltip="Answer the last prompt again (the old answer stays as a branch)",
    ),
    Binding(
        "ctrl+g",
        "regenerate_other_mode",
        "Regenerate in other mode",
        id="regenerate_other_mode",
        show=False,
        tooltip="Answer the last prompt again in the other mode (chat / reasoner)",
    ),
    Binding(
        "f5",
        "continue_answer",
        "Continue answer",
        id="continue_answer",
        show=False,
        tooltip="Continue the last answer where it stopped (cut off, cancelled or dropped)",
    ),
    Binding(
        "f8",
        "select_message",
        "Select message",
        id="select_message",
        show=False,
        tooltip="Select the last message; then ↑/↓, e edit, r regenerate, c copy, ←/→ branches",
    ),
    # F6/F7 would select a line / everything in the prompt; copying matters more here.
    Binding(
        "f6",
        "copy_answer",
        "Copy answer",
        id="copy_answer",
        show=False,
        priority=True,
        tooltip="Copy the last answer to the clipboard",
    ),
    Binding(
        "f7",
        "copy_code",
        "Copy code block",
        id="copy_code",
        show=False,
        priority=True,
        tooltip="Copy a code block of the last answer",
    ),
    Binding(
        "f10",
        "attach_file",
        "Attach a file",
        id="attach_file",
        show=False,
        tooltip="Attach a file to the next message by its path (or type @ in the prompt, or paste a path)",
    ),
    Binding(
        "f4", "edit_prompt", "Edit in $EDITOR", id="edit_prompt", show=False, tooltip="Write the prompt in your $EDITOR"
    ),
    Binding(
        "ctrl+s", "export", "Export", id="export", show=False, tooltip="Export this conversation to Markdown or JSON"
    ),
    Binding(
        "f9",
        "import_session",
        "Import",
        id="import_session",
        show=False,
        tooltip="Import a conversation from a JSON export",
    ),
    Binding(
        "ctrl+f",
        "fim",
        "Fill in the middle",
        id="fim",
        show=False,
        tooltip="Complete code between a prefix and a suffix (FIM, beta)",
    ),
    Binding(
        "ctrl+l",
        "compact",
        "Compact",
        id="compact",
        show=False,
        tooltip="Summarise the earlier turns into one message on a new branch (the old branch stays)",
    ),
    Binding(
        "ctrl+backslash",
        "tools",
        "Tools",
        id="tools",
        show=False,
        tooltip="MCP servers and their tools: state, on/off for this conversation, what the next request carries",
    ),
    Binding("f12", "set_key", "API key", id="set_key", show=False, tooltip="Enter or change the API key"),
    Binding("ctrl+q", "quit", "Quit", id="quit", priority=True, tooltip="Quit"),
]


def keys_of(binding: Binding, keymap: Mapping[str, str]) -> str:
    """The keys in force for a binding, with the config's [keymap] applied."""
    keys = keymap.get(binding.id, binding.key) if binding.id else binding.key
    return keys.replace(",", " / ")


def keys_of_action(app: App, action: str) -> str:
    """The keys in force for an app action (for messages that name them), e.g. "ctrl+l"."""
    binding = next(b for b in APP_BINDINGS if b.action == action)
    return keys_of(binding, app._keymap)


def message_bindings() -> list[Binding]:
    """The keys of a selected message (F8): a question's, then an answer's."""
    from deepseek_tui.ui.widgets.messages import AnswerBlock, MessageView, UserBubble

    shared = [b for b in MessageView.BINDINGS if isinstance(b, Binding)]
    own = [b for cls in (UserBubble, AnswerBlock) for b in cls.BINDINGS if isinstance(b, Binding)]
    return shared + own


def help_rows(keymap: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(keys, what they do, binding id) for every app action, then for a selected message, with
    the config's [keymap] applied (the id is what `[keymap]` remaps)."""
    rows = [(keys_of(b, keymap), b.tooltip or b.description, b.id or "") for b in APP_BINDINGS]
    rows.append(("ctrl+p", "Command palette: every action", ""))
    rows += [
        (keys_of(b, keymap), f"Selected message: {b.tooltip or b.description}", b.id or "") for b in message_bindings()
    ]
    rows += attachment_rows(keymap) + tool_question_rows(keymap)
    return rows


def attachment_rows(keymap: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """The keys of the attached files' chips, which shift+tab selects from the prompt."""
    from deepseek_tui.ui.widgets.attachments import AttachmentBar

    rows = [("shift+tab", "From the prompt to the attached files (chips); typing goes back to the prompt", "")]
    rows += [
        (keys_of(b, keymap), f"Attached files: {b.tooltip or b.description}", b.id or "")
        for b in AttachmentBar.BINDINGS
        if isinstance(b, Binding)
    ]
    return rows


TOOL_ANSWERS = {
    "tool_run_once": "run the call once",
    "tool_run_always": "always run this tool in this chat",
    "tool_refuse": "refuse the call (the model is told)",
}


def tool_question_rows(keymap: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """The answers to "Run the tool …?"."""
    from deepseek_tui.ui.screens.tools import ConfirmToolScreen

    return [
        (keys_of(b, keymap), f"Tool call question: {TOOL_ANSWERS.get(b.id or '', b.description)}", b.id or "")
        for b in ConfirmToolScreen.BINDINGS
        if isinstance(b, Binding)
    ]


def palette_entries(
    keymap: Mapping[str, str], run_action: Callable[[str], object]
) -> Iterable[tuple[str, str, Callable[[], object]]]:
    """(title, help, callback) for every app action but quit, titled with its current key."""
    for binding in APP_BINDINGS:
        if binding.action == "quit":
            continue
        yield (
            f"{binding.description} ({keys_of(binding, keymap)})",
            binding.tooltip or binding.description,
            partial(run_action, binding.action),
        )
