"""Modal screens: the confirm step of every action, and the key help."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from luciq_tui.core.optimizer import Preview

CHANGES_DATABASE = {"enable_wal", "analyze", "create_indexes", "drop_index", "checkpoint",
                    "vacuum"}


class ConfirmScreen(ModalScreen[str]):
    """Shows exactly what an action will do. Dismisses "run" or "backup" (back the database
    up first) only on an explicit choice, and "" on cancel."""

    BINDINGS = [
        Binding("y", "confirm", "Confirm"),
        Binding("B", "backup_first", "Back up first"),
        Binding("n,escape", "cancel", "Cancel"),
    ]

    def __init__(self, preview: Preview) -> None:
        super().__init__()
        self.preview = preview
        action = preview.action
        self.offers_backup = action.optimizer == "database" and action.name in CHANGES_DATABASE

    def compose(self) -> ComposeResult:
        preview = self.preview
        with Vertical(id="confirm-dialog"):
            yield Label(Text(preview.action.label, style="bold"), id="confirm-title")
            yield Static(preview.summary, id="confirm-summary")
            with VerticalScroll(id="confirm-details"):
                yield Static(Text("\n".join(preview.details)), id="confirm-sql")
                if preview.cost:
                    yield Static(Text("Cost: " + preview.cost), classes="confirm-cost")
                for warning in preview.warnings:
                    yield Static(Text("! " + warning), classes="confirm-warning")
            with Horizontal(id="confirm-buttons"):
                yield Button("Confirm (y)", variant="warning", id="confirm-yes")
                if self.offers_backup:
                    yield Button("Back up, then run (B)", variant="success", id="confirm-backup")
                yield Button("Cancel (n)", variant="primary", id="confirm-no")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss({"confirm-yes": "run", "confirm-backup": "backup"}.get(event.button.id or "",
                                                                           ""))

    def action_confirm(self) -> None:
        self.dismiss("run")

    def action_backup_first(self) -> None:
        if self.offers_backup:
            self.dismiss("backup")

    def action_cancel(self) -> None:
        self.dismiss("")


HELP_TEXT = """\
[b]Panes[/b]
  1  Resources    live graphs of CPU, memory, network and disk; top processes
  2  Databases    settings, tables, indexes and workload plans of each database
  3  Alerts       firing alerts, then the history from monitoring.db
  4  Actions      every one-key action, the running one, and the action log
  5  Endpoints    latency percentiles, status and errors of each endpoint

[b]Actions[/b] (each shows a preview and asks before it changes anything)
  w  Enable WAL on the selected database      (Databases)
  a  ANALYZE the selected database            (Databases)
  i  quick_check the selected database        (Databases)
  I  full integrity_check                     (Databases)
  x  Advise indexes for its workload          (Databases)
  n  Create the recommended indexes           (Databases)
  d  Drop a redundant or unused index         (Databases)
  k  Checkpoint the WAL (TRUNCATE)            (Databases)
  v  VACUUM                                   (Databases)
  b  Back up (online backup API)              (Databases)
  B  in a confirm: back the database up first, then run
  c  Clean caches under the configured roots  (Actions)
  p  Probe every endpoint now                 (Endpoints)
  b  Analyze now: a bounded burst             (Endpoints)
  s  Save the burst as the baseline           (Endpoints)
  f / t  filter alerts by severity / time     (Alerts)
  k  acknowledge the selected alert           (Alerts)
  r  Run the configured relief command        (Resources)
  enter  run the selected action              (Actions)
  escape cancel the running action where the work allows

[b]Anywhere[/b]
  ctrl+p  command palette: every action by name
  ?       this help          q  quit
"""


class HelpScreen(ModalScreen[None]):
    """Every key, in one place."""

    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog"):
            yield Static(HELP_TEXT)

    def action_close(self) -> None:
        self.dismiss(None)
