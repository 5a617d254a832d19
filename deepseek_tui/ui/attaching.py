# mypy: disable-error-code="misc"
# (the mixin's methods are typed with `self: DeepSeekApp`, the class they are mixed into; mypy calls that
# self type "not a supertype" of the mixin, which is the point of a mixin, and checks the bodies against it)
"""The app's side of attachments: the files waiting for the next message, and what the prompt, the
chips and the `@` completions ask for. A mixin of `DeepSeekApp` (before `App` in its bases), so the
app module only wires it in.

Files are read here when they are attached (snapshots: what is sent is the file as it was then);
their bytes go to the store with the conversation when it is saved. A pasted path is attached
without asking: a paste that is nothing but absolute paths or file URLs of existing files is what
terminals send when files are dropped on them, the chip shows at once, and Backspace at the start
of the prompt (or a click on the chip) takes it off again. Any other paste is inserted as text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from deepseek_tui.attach_paths import home_relative, pasted_files, path_candidates, read_attachment
from deepseek_tui.conversation.attachments import Attachment, AttachmentError, attachment_problems
from deepseek_tui.conversation.model import Conversation
from deepseek_tui.conversation.send_check import check_send, prospective_path
from deepseek_tui.model_choice import after_change
from deepseek_tui.ui.screens.dialogs import AskScreen, ChooseScreen
from deepseek_tui.ui.widgets.attachments import AttachmentBar, PathCompletions
from deepseek_tui.ui.widgets.prompt import PromptArea

if TYPE_CHECKING:
    from deepseek_tui.ui.app import DeepSeekApp

Send = Callable[[str, Sequence[Attachment]], Awaitable[None]]


class AttachmentWiring:
    """Mixin for the App: owns the pending attachments and answers the widgets' requests."""

    def init_attachments(self, working_directory: Path) -> None:
        self.working_directory = working_directory
        """Where `@` completes from and relative paths start."""
        self.pending_attachments: list[Attachment] = []
        """The files that go with the next message, in the order they were attached."""
        self._problems_reported: set[str] = set()

    # --- attaching ------------------------------------------------------------------------------

    def attach_path(self: "DeepSeekApp", text: str) -> Attachment | None:
        """Read the file `text` names and add it to the next message; a refusal is told, not raised."""
        try:
            attachment = read_attachment(
                text, self.working_directory, self.config.attachments, self.pending_attachments
            )
        except AttachmentError as exc:
            self.notify(str(exc), title="Not attached", severity="warning", timeout=8)
            return None
        self.pending_attachments.append(attachment)  # its chip says so
        self.refresh_attachment_bar()
        return attachment

    def set_pending_attachments(self: "DeepSeekApp", attachments: Iterable[Attachment]) -> None:
        self.pending_attachments[:] = list(attachments)
        self.refresh_attachment_bar()

    def remove_attachment(self: "DeepSeekApp", index: int, *, refocus: bool = True) -> None:
        if 0 <= index < len(self.pending_attachments):
            removed = self.pending_attachments.pop(index)
            self.notify(f"Removed {removed.name}.", timeout=3)
            self.refresh_attachment_bar()
        if refocus or not self.pending_attachments:
            self.query_one(PromptArea).focus()

    def refresh_attachment_bar(self: "DeepSeekApp") -> None:
        """The chips as the pending files and the model of the next turn say (it may not see images)."""
        spec = self.catalogue.get(self.conversation.settings.model)
        self.query_one(AttachmentBar).show(
            self.pending_attachments, image_tokens=spec.image_tokens, sees_images=spec.vision, model=spec.id
        )
        self.query_one(PromptArea).has_attachments = bool(self.pending_attachments)

    def action_attach_file(self: "DeepSeekApp") -> None:
        def chosen(text: str | None) -> None:
            if text:
                self.attach_path(text)
            self.query_one(PromptArea).focus()

        where = home_relative(self.working_directory)
        self.push_screen(
            AskScreen(
                f"Attach a file (a path; relative ones start in {where}):",
                placeholder="notes.md, ~/Pictures/shot.png, /tmp/log.txt",
            ),
            chosen,
        )

    # --- what the prompt and the chips ask for ----------------------------------------------------

    def _completions(self: "DeepSeekApp") -> PathCompletions | None:
        """The list, or None while the screen is being taken down (the prompt may still post)."""
        found = self.screen.query(PathCompletions)
        return found.first() if found else None

    def on_prompt_area_completion_wanted(self: "DeepSeekApp", event: PromptArea.CompletionWanted) -> None:
        completions, prompt = self._completions(), event.prompt
        if completions is None:
            return
        if event.fragment is None:
            completions.hide()
            prompt.completing = False
            return
        candidates = path_candidates(event.fragment, self.working_directory)
        completions.show(event.fragment, candidates)
        prompt.completing = bool(candidates)  # "no match" is shown, but Enter still sends

    def on_prompt_area_completion_move(self: "DeepSeekApp", event: PromptArea.CompletionMove) -> None:
        if (completions := self._completions()) is not None:
            completions.move(event.step)

    def on_prompt_area_completion_chosen(self: "DeepSeekApp", event: PromptArea.CompletionChosen) -> None:
        completions, prompt = self._completions(), event.prompt
        candidate = completions.chosen if completions is not None else None
        if completions is None or candidate is None:
            return
        if candidate.is_dir:
            prompt.replace_fragment(candidate.value)  # the prompt asks again, for the folder's entries
            return
        prompt.replace_fragment(None)
        completions.hide()
        prompt.completing = False
        self.attach_path(candidate.value)

    def on_prompt_area_paths_pasted(self: "DeepSeekApp", event: PromptArea.PathsPasted) -> None:
        prompt = event.prompt
        files = pasted_files(event.text, self.working_directory)
        if files is None:
            prompt.insert_paste(event.text)
            return
        attached = [a for path in files if (a := self.attach_path(str(path))) is not None]
        if attached:
            names = ", ".join(a.name for a in attached)
            self.notify(
                f"Attached {names} (a pasted path). Backspace at the start of the prompt removes the last attachment.",
                timeout=6,
            )

    def on_prompt_area_remove_last_attachment(self: "DeepSeekApp") -> None:
        self.remove_attachment(len(self.pending_attachments) - 1)

    def on_attachment_bar_remove_requested(self: "DeepSeekApp", event: AttachmentBar.RemoveRequested) -> None:
        self.remove_attachment(event.index, refocus=not event.from_keyboard)

    def on_attachment_bar_leave(self: "DeepSeekApp") -> None:
        self.query_one(PromptArea).focus()

    # --- sending ----------------------------------------------------------------------------------

    def send_checked(self: "DeepSeekApp", text: str, send: Send) -> None:
        """Send the prompt with the pending files, once nothing stands in the way: a request over the
        API's limit is refused, images the model cannot see are asked about (one key switches to a
        model that sees them). Nothing is added to the conversation before that."""
        attachments = list(self.pending_attachments)
        path = prospective_path(self.conversation, text, attachments, self.editing_id)
        if not any(m.attachments for m in path):
            self.call_later(send, text, attachments)
            return
        check = check_send(path, self.catalogue, self.conversation.settings)
        if check.too_large:
            self.notify(check.too_large, title="Too large to send", severity="error", timeout=12)
            return
        if not check.unseen_images:
            self.call_later(send, text, attachments)
            return
        choices = [f"Switch to {check.vision_model}, which sees images, and send"] if check.vision_model else []
        choices.append("Send without the images (a note says so in their place)")

        async def chosen(index: int | None) -> None:
            if index is None:
                self.notify("Nothing was sent.", timeout=3)
                return
            if check.vision_model and index == 0:
                settings = self.conversation.settings.updated(model=check.vision_model)
                self.apply_settings(after_change(settings, "model", self.catalogue))
                self.notify(f"Next turns: {check.vision_model}.", timeout=4)
            await send(text, attachments)

        self.push_screen(
            ChooseScreen(
                f"{check.vision_question()} Enter picks the first choice; Esc goes back to the prompt, nothing is sent.",
                choices,
            ),
            chosen,
        )

    def clear_pending_attachments(self: "DeepSeekApp") -> None:
        self.set_pending_attachments(())

    def report_attachment_problems(self: "DeepSeekApp", conversation: Conversation) -> None:
        """Say once per conversation which of its attachments could not be read back."""
        if conversation.id in self._problems_reported:
            return
        self._problems_reported.add(conversation.id)
        problems = attachment_problems(conversation.messages)
        if problems:
            listing = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
            self.notify(
                f"{listing}. The conversation is open; those files are sent as a note saying they are missing.",
                title="Attachments not found",
                severity="warning",
                timeout=12,
            )
