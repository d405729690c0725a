"""Stored races in a modal list (date, targets, winner, runs, prompt): enter opens one in the race screen as it
finished, `r` races it again with the same prompt and targets. Dismisses with `RacePick` or None."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from botticelli.bench.report import WINNER_MARK
from botticelli.history.charts import label
from botticelli.history.races import StoredRace, list_races
from botticelli.safety import strip_escapes

COLUMNS = ("date (UTC)", "targets", "winner", "runs", "prompt")
PROMPT_CELL = 30
TARGET_CELL = 24


@dataclass(frozen=True, slots=True)
class RacePick:
    """What the user chose: `open` (show it) or `rerun` (race it again), and the race."""

    action: str
    race: StoredRace


def race_cells(race: StoredRace) -> list[Text]:
    """One row, as `Text` (names and prompts are untrusted: never markup, escapes stripped)."""
    prompt = " ".join(strip_escapes(race.prompt).split())
    if len(prompt) > PROMPT_CELL:
        prompt = prompt[: PROMPT_CELL - 1] + "…"
    best = race.winner
    return [
        Text(race.created_at.replace("T", " ").removesuffix("Z")[:16]),
        Text(" vs ".join(label(t, TARGET_CELL) for t in race.targets)),
        Text(f"{WINNER_MARK} {label(best, TARGET_CELL)}", style="bold green") if best else Text("—"),
        Text(str(race.runs_per_target)),
        Text(prompt),
    ]


class RaceHistoryScreen(ModalScreen[RacePick | None]):
    """The stored races, newest first."""

    CSS_PATH = Path(__file__).with_name("race.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", priority=True, tooltip="Show this race's table and charts"),
        Binding("r", "rerun", "Race again", tooltip="Race the same prompt against the same targets"),
        Binding("escape", "cancel", "Close"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.races: list[StoredRace] = []
        self.loaded = False

    def compose(self) -> ComposeResult:
        with Vertical(id="race-history"):
            yield Static("Stored races", classes="dialog-title")
            table: DataTable[Text] = DataTable(id="race-history-table", cursor_type="row", zebra_stripes=True)
            yield table
            yield Static("Reading the stored races…", id="race-history-hint", classes="dialog-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(*COLUMNS)
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _load(self) -> None:
        from botticelli.sessions import SessionStore, SessionStoreError

        try:
            with SessionStore.open() as store:
                races = list_races(store)
        except SessionStoreError as error:
            self.app.call_from_thread(self._show, [], error.one_line())
            return
        self.app.call_from_thread(self._show, races, None)

    def _show(self, races: list[StoredRace], error: str | None) -> None:
        if not self.is_attached:  # closed while the store was being read
            return
        self.races, self.loaded = races, True
        table = self.query_one(DataTable)
        for race in races:
            table.add_row(*race_cells(race), key=race.race_id)
        hint = "enter opens a race as it finished · r races it again · esc closes"
        if error is not None:
            hint = error
        elif not races:
            hint = "No stored races yet: every race run here or with `botticelli bench` is kept. esc closes"
        self.query_one("#race-history-hint", Static).update(hint)
        table.focus()

    def _picked(self) -> StoredRace | None:
        table = self.query_one(DataTable)
        if not self.races or not 0 <= table.cursor_row < len(self.races):
            return None
        return self.races[table.cursor_row]

    def action_open(self) -> None:
        race = self._picked()
        if race is not None:
            self.dismiss(RacePick("open", race))

    def action_rerun(self) -> None:
        race = self._picked()
        if race is not None:
            self.dismiss(RacePick("rerun", race))

    def action_cancel(self) -> None:
        self.dismiss(None)
