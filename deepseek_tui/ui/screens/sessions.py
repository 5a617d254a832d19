"""The session picker: every stored conversation, filtered by title as you type, plus the
messages that contain the typed text. It renames, duplicates and deletes in the store itself
(telling the app, which may hold the conversation open) and dismisses with what to open."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from deepseek_tui.conversation.store import (
    SearchHit,
    SessionNotFoundError,
    SessionStore,
    SessionSummary,
    StoreError,
    UnreadableSession,
)
from deepseek_tui.inert import inert_text
from deepseek_tui.labels import money
from deepseek_tui.ui.intents import ConversationDeleted, ConversationRenamed
from deepseek_tui.ui.screens.dialogs import AskScreen, ConfirmScreen

SEARCH_DELAY = 0.25
"""Seconds of no typing before the full-text search runs."""
UNFILTERED_LIMIT = 150
"""Conversations listed, before anything is typed or whose titles match it (the list stays quick
with thousands; thousands of rows took a second to show)."""
INDEX_DELAY = 0.5
"""Seconds after opening before the picker brings the search index up to date in the background."""
HITS_SHOWN = 500
"""Search results listed (the store stops looking once it has found this many)."""


@dataclass(frozen=True)
class OpenSession:
    session_id: str
    message_id: str | None = None


@dataclass(frozen=True)
class StartNewChat:
    """The user asked for a new conversation from the picker."""


PickerResult = OpenSession | StartNewChat | None


class SessionsScreen(ModalScreen[PickerResult]):
    DEFAULT_CSS = """
    SessionsScreen { align: center middle; }
    SessionsScreen > Vertical { width: 96%; height: 90%; border: thick $primary; background: $surface; padding: 0 1; }
    SessionsScreen #sessions-title { text-style: bold; }
    SessionsScreen #sessions-list { height: 1fr; }
    SessionsScreen #sessions-hint { color: $text-muted; }
    """

    BINDINGS = [
        Binding("escape", "close", "Close", id="sessions_close"),
        Binding("ctrl+n", "new_chat", "New chat", id="sessions_new"),
        Binding("f2", "rename", "Rename", id="sessions_rename"),
        Binding("f3", "duplicate", "Duplicate", id="sessions_duplicate"),
        Binding("f8,delete", "delete", "Delete", id="sessions_delete"),
        Binding("down", "focus_list", "Results", show=False),
    ]

    def __init__(
        self,
        store: SessionStore,
        current_id: str | None = None,
        *,
        busy: Callable[[str], bool] = lambda session_id: False,
        shell_hint: bool = True,
    ) -> None:
        """`busy(id)`: that conversation has a reply streaming (it cannot be deleted now).
        `shell_hint`: say how to continue a chat from a shell (not in the demo, whose chats live
        in a temporary folder that `ask` does not see)."""
        super().__init__()
        self._shell_hint = shell_hint
        self.store = store
        known = store.known_sessions()  # the app listed them in the background: shown at once
        self.sessions: list[SessionSummary | UnreadableSession] = known if known is not None else store.list_sessions()
        self._listing_may_be_old = known is not None
        self._shown_listings = 0
        """Listings shown so far: a background listing is not shown over a newer one."""
        self.current_id = current_id
        self._busy = busy
        self.hits: list[SearchHit] = []
        self._hits_query = ""
        self._search_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Conversations", id="sessions-title")
            yield Input(placeholder="Type to filter titles and search all messages", id="sessions-filter")
            yield OptionList(id="sessions-list")
            keys = "enter open · ↓ results · ctrl+n new · f2 rename · f3 duplicate · f8 delete · esc close"
            shell = " · the dim id continues a chat from a shell: deepseek-tui ask --continue ID"
            yield Static(keys + (shell if self._shell_hint else ""), id="sessions-hint", markup=False)

    def on_mount(self) -> None:
        self._rebuild()
        self.query_one("#sessions-filter").focus()
        self.set_timer(INDEX_DELAY, lambda: self._catch_up(self._shown_listings))  # once the list is drawn

    @work(group="index", exclusive=True, thread=True, exit_on_error=False)
    def _catch_up(self, shown: int) -> None:
        """If the picker opened with the last listing, list the files and show what changed
        since; then bring the search index up to date (new, changed or, the first time, all
        conversations) while the picker is open; searches meanwhile read the files not done yet."""
        worker = get_current_worker()
        if self._listing_may_be_old:
            sessions = self.store.list_sessions()
            if sessions != self.sessions and not worker.is_cancelled:
                self.app.call_from_thread(self._relisted, shown, sessions)
        self.store.index_text(should_stop=lambda: worker.is_cancelled)

    def _relisted(self, shown: int, sessions: list[SessionSummary | UnreadableSession]) -> None:
        if self.is_attached and shown == self._shown_listings:  # not listed since, e.g. after a rename
            self.show_sessions(sessions)

    # --- display -------------------------------------------------------------------------------

    @property
    def filter_text(self) -> str:
        return self.query_one("#sessions-filter", Input).value.strip()

    def show_sessions(self, sessions: list[SessionSummary | UnreadableSession]) -> None:
        self.sessions = sessions
        self._shown_listings += 1
        self._rebuild()

    def show_hits(self, query: str, hits: list[SearchHit]) -> None:
        """Full-text results for `query` (ignored if the user has typed on since)."""
        if query != self.filter_text:
            return
        self.hits, self._hits_query = hits, query
        self._rebuild()

    def _rebuild(self) -> None:
        needle = self.filter_text.lower()
        options: list[Option | None] = []
        readable = [s for s in self.sessions if isinstance(s, SessionSummary)]
        matching = [s for s in readable if needle in s.title.lower() or s.id.startswith(needle)] if needle else readable
        width = self._row_width()
        for session in matching[:UNFILTERED_LIMIT]:
            options.append(Option(_session_line(session, session.id == self.current_id, width), id=f"s:{session.id}"))
        if len(matching) > UNFILTERED_LIMIT:
            more = len(matching) - UNFILTERED_LIMIT
            said = (
                f"  … {more} more titles match: type more of it"
                if needle
                else f"  … {more} older conversations: type to find them"
            )
            options.append(Option(Text(said, style="dim"), id="more", disabled=True))
        for entry in self.sessions:
            if isinstance(entry, UnreadableSession) and (not needle or needle in entry.path.name.lower()):
                options.append(Option(_unreadable_line(entry, width), id=f"u:{entry.path.name}", disabled=True))
        if needle and self._hits_query == self.filter_text and self.hits:
            options.append(None)  # separator
            for number, hit in enumerate(self.hits[:HITS_SHOWN]):
                options.append(Option(_hit_line(hit, width), id=f"h:{number}"))
        option_list = self.query_one("#sessions-list", OptionList)
        highlighted = option_list.highlighted
        option_list.clear_options()
        option_list.add_options(_unique(options))
        if options:
            option_list.highlighted = min(highlighted or 0, option_list.option_count - 1)

    def _row_width(self) -> int:
        """Columns a row may take (rows never wrap: they are cut to fit, the title first)."""
        width = self.query_one("#sessions-list", OptionList).scrollable_content_region.width
        return width - 2 if width > 20 else 110

    def on_resize(self) -> None:
        self._rebuild()

    # --- input ---------------------------------------------------------------------------------

    @on(Input.Changed, "#sessions-filter")
    def _filter_changed(self) -> None:
        self._rebuild()
        if self._search_timer is not None:
            self._search_timer.stop()
        if self.filter_text:
            self._search_timer = self.set_timer(SEARCH_DELAY, self._request_search)

    def _request_search(self) -> None:
        self._search(self.filter_text)

    @work(group="search", exclusive=True, thread=True, exit_on_error=False)
    def _search(self, query: str) -> None:
        hits = self.store.search(query, limit=HITS_SHOWN)
        self.app.call_from_thread(self.show_hits, query, hits)

    @on(Input.Submitted, "#sessions-filter")
    def _open_highlighted(self) -> None:
        option_list = self.query_one("#sessions-list", OptionList)
        if option_list.highlighted is not None:
            self._open(option_list.get_option_at_index(option_list.highlighted).id)

    @on(OptionList.OptionSelected, "#sessions-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._open(event.option.id)

    def _open(self, option_id: str | None) -> None:
        if not option_id:
            return
        kind, _, value = option_id.partition(":")
        if kind == "s":
            self.dismiss(OpenSession(value))
        elif kind == "h":
            hit = self.hits[int(value)]
            self.dismiss(OpenSession(hit.session_id, hit.message_id))

    def selected_session_id(self) -> str | None:
        option_list = self.query_one("#sessions-list", OptionList)
        if option_list.highlighted is None:
            return None
        option_id = option_list.get_option_at_index(option_list.highlighted).id or ""
        kind, _, value = option_id.partition(":")
        if kind == "s":
            return value
        if kind == "h":
            return self.hits[int(value)].session_id
        return None

    # --- operations ------------------------------------------------------------------------

    def _highlighted_or_say(self) -> str | None:
        session_id = self.selected_session_id()
        if session_id is None:
            self.notify("Highlight a conversation first (↓ to the list).", severity="warning")
        return session_id

    def _title_of(self, session_id: str) -> str:
        return next(
            (s.title for s in self.sessions if isinstance(s, SessionSummary) and s.id == session_id), session_id
        )

    def _store_call(self, call: Callable[[], object]) -> bool:
        try:
            call()
        except (StoreError, SessionNotFoundError, OSError) as exc:
            self.notify(str(exc), severity="error", markup=False)
            return False
        return True

    def _refresh(self) -> None:
        self.show_sessions(self.store.list_sessions())

    def action_new_chat(self) -> None:
        self.dismiss(StartNewChat())

    def action_rename(self) -> None:
        session_id = self._highlighted_or_say()
        if session_id is None:
            return

        def renamed(title: str | None) -> None:
            if title is None or not title.strip():
                return
            if self._store_call(lambda: self.store.rename(session_id, title)):
                self.post_message(ConversationRenamed(session_id, title.strip()))
            self._refresh()

        self.app.push_screen(AskScreen("Rename conversation", self._title_of(session_id)), renamed)

    def action_duplicate(self) -> None:
        session_id = self._highlighted_or_say()
        if session_id is not None:
            self._store_call(lambda: self.store.duplicate(session_id))
            self._refresh()

    def action_delete(self) -> None:
        session_id = self._highlighted_or_say()
        if session_id is None:
            return
        if self._busy(session_id):
            self.notify(
                "A reply is streaming into that conversation: wait, or press Esc in the chat "
                "to stop it, then delete it.",
                severity="warning",
                markup=False,
            )
            return

        def confirmed(yes: bool | None) -> None:
            if yes and self._store_call(lambda: self.store.delete(session_id)):
                self.post_message(ConversationDeleted(session_id))
            self._refresh()

        question = f"Delete “{self._title_of(session_id)}”? This cannot be undone."
        self.app.push_screen(ConfirmScreen(question, yes="Delete"), confirmed)

    def action_focus_list(self) -> None:
        self.query_one("#sessions-list").focus()

    def action_close(self) -> None:
        self.dismiss(None)


def _unique(options: list[Option | None]) -> list[Option | None]:
    """The options without a repeated id: the store lists each session once, but a duplicate
    must never take the picker (and the app) down."""
    seen: set[str] = set()
    kept: list[Option | None] = []
    for option in options:
        if option is not None and option.id is not None:
            if option.id in seen:
                continue
            seen.add(option.id)
        kept.append(option)
    return kept


SHORT_ID = 8
"""Characters of a session id shown in the list; `ask --continue` takes any unique prefix."""


def _session_line(session: SessionSummary, current: bool, width: int = 110) -> Text:
    """● title · id · model · when · messages · cost, the title and then the model giving way
    when the row is narrow."""
    cost = money(session.cost, session.currency)
    tail = f"  {session.id[:SHORT_ID]}  {_when(session.updated_at)}  {session.message_count:>4} msg"
    tail_width = len(tail) + (len(cost) + 2 if cost else 0)
    model_width = 18 if width - tail_width - 2 >= 30 + 20 else 0  # room for a 30-column title too
    title_width = max(width - tail_width - 2 - (model_width + 2 if model_width else 0), 8)
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append("● " if current else "  ", style="bold green")
    line.append(f"{_fit(session.title, title_width):<{title_width}}", style="bold")
    if model_width:
        line.append(f"  {_fit(session.model, model_width):<{model_width}}", style="cyan")
    line.append(f"  {session.id[:SHORT_ID]}", style="dim")
    line.append(tail[2 + SHORT_ID :])
    if cost:
        line.append(f"  {cost}", style="dim")
    return line


def _hit_line(hit: SearchHit, width: int = 110) -> Text:
    title_width = min(30, max(width // 4, 8))
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append("  ↳ ", style="dim")
    line.append(f"{_fit(hit.title, title_width)}: ", style="bold")
    line.append(_fit(hit.line, max(width - title_width - 6, 10)))
    return line


def _unreadable_line(session: UnreadableSession, width: int = 110) -> Text:
    name = _fit(session.path.name, 40)
    reason_width = max(width - len(name) - len("  ⚠   unreadable:  (left untouched)"), 10)
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(f"  ⚠ {name}", style="bold red")
    line.append(f"  unreadable: {_fit(session.reason, reason_width)} (left untouched)", style="red")
    return line


def _fit(text: str, width: int) -> str:
    """One line of at most `width` characters; titles and reasons come from files, so inert."""
    text = " ".join(inert_text(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _when(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")
