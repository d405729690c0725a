"""The race screen: pick 2–4 targets, type a prompt, watch every answer stream side by side, compare.

"Race" sends the prompt once to every target at the same time (no warm-up: what you see is one real
request). "Repeat ×N" runs the bench method: one discarded warm-up per target, then N rounds interleaved
round-robin, and the summary shows medians. Retries are off while racing. A target that fails (no key, rate
limited, model gone) shows its error in its own column; the others go on. Open it with `open_race(app)` or
push `RaceScreen(config)`.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import ClassVar

from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Input, Label, SelectionList, Static
from textual.widgets.selection_list import Selection
from textual.worker import Worker, WorkerState

from botticelli import paths
from botticelli.bench.defaults import DEFAULT_MAX_TOKENS, DEFAULT_PROMPT, MAX_TARGETS
from botticelli.bench.export import bench_csv, dumps_json, write_atomic
from botticelli.bench.history import save_race
from botticelli.bench.runner import (
    BenchPlan,
    BenchResult,
    BenchRunner,
    ClientFactory,
    LiveRun,
    MeterFactory,
    RaceHooks,
    RunResult,
    measuring_client,
)
from botticelli.bench.summary import TargetSummary
from botticelli.chat.events import ContentDelta, Figures, ReasoningDelta, TurnEvent
from botticelli.chat.network import NetworkThread
from botticelli.config import Config, ConfigError, Profile, has_key, parse_target
from botticelli.history.races import StoredRace
from botticelli.safety import strip_escapes
from botticelli.sessions import SessionStoreError
from botticelli.stats import SpeedFigures
from botticelli.targets import Target
from botticelli.tui.widgets.footer import CoalescingFooter
from botticelli.tui.widgets.race_column import RaceColumn
from botticelli.tui.widgets.race_summary import RaceSummary

RACE_GROUP = "race"
MIN_TARGETS = 2
DEFAULT_REPEAT = 3
MAX_REPEAT = 50
SHORT = 32
"""Below this many rows the screen is compact (`-short`)."""
DEFAULT_TARGETS = ("demo:demo-fast", "demo:demo-slow")


def target_choices(config: Config, extra: Sequence[Target] = ()) -> dict[str, Target]:
    """`profile:model` -> Target for `extra` and every profile's listed models: the simulated ones first, then
    those that can run now (a key is there, or none is needed), then the ones waiting for a key."""
    found: dict[str, Target] = {t.label: t for t in extra}
    for profile in config.profiles.values():
        models = profile.models or ((profile.default_model,) if profile.default_model else ())
        for model in models:
            target = Target(profile, model)
            found.setdefault(target.label, target)
    def rank(target: Target) -> int:
        return 0 if target.profile.simulated else 1 if has_key(target.profile) else 2

    return dict(sorted(found.items(), key=lambda item: rank(item[1])))


def choice_prompt(target: Target) -> Content:
    """`groq:llama-3.1-8b-instant  set GROQ_API_KEY` (the hint only when the key is missing)."""
    parts: list[str | tuple[str, str]] = [target.label]
    profile: Profile = target.profile
    if profile.simulated:
        parts.append(("  simulated", "$text-muted"))
    elif not has_key(profile):
        parts.append((f"  {profile.missing_key_hint()}", "$warning"))
    return Content.assemble(*parts)


class RaceScreen(Screen[None]):
    """Race one prompt against 2–4 targets, live, then compare them in a table and bars."""

    AUTO_FOCUS = "#race-prompt"
    CSS_PATH = Path(__file__).with_name("race.tcss")  # also styles RaceColumn and RaceSummary
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "race", "Race", priority=True, tooltip="Send the prompt to every chosen target once"),
        Binding("ctrl+g", "repeat", "Repeat ×N", priority=True,
                tooltip="One warm-up, then N interleaved rounds; the summary shows medians"),
        Binding("ctrl+s", "export_csv", "CSV", priority=True, tooltip="Save the results as CSV"),
        Binding("ctrl+o", "export_json", "JSON", priority=True, tooltip="Save the results as JSON"),
        Binding("ctrl+b", "toggle_setup", "Targets", priority=True, tooltip="Show or hide the target picker"),
        Binding("f5", "history", "History", priority=True,
                tooltip="Stored races: open one as it finished, or race it again"),
        Binding("f6", "toggle_runs", "Runs chart", priority=True,
                tooltip="Show every run's TTFT and decode tok/s instead of the bars of the medians"),
        Binding("escape", "close", "Close", tooltip="Stop any race and close this screen"),
    ]

    def __init__(
        self,
        config: Config,
        targets: Sequence[Target] | None = None,
        prompt: str | None = None,
        *,
        repeat: int = DEFAULT_REPEAT,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        client_factory: ClientFactory = measuring_client,
        meter_factory: MeterFactory | None = None,
        export_dir: Path | None = None,
        store_results: bool = True,
    ) -> None:
        """`targets` start selected (default: the two demo models); `meter_factory` lets snapshots freeze the
        figures; results are exported to `export_dir` (default: the data dir's `races/`)."""
        super().__init__()
        self.config = config
        self.initial_targets = list(targets or [])
        self.choices = target_choices(config, self.initial_targets)
        self.initial_prompt = prompt if prompt is not None else DEFAULT_PROMPT
        self.repeat = repeat
        self.max_tokens = max_tokens
        self.client_factory = client_factory
        self.meter_factory = meter_factory
        self.export_dir = export_dir
        self.store_results = store_results
        self.result: BenchResult | None = None
        self.runner: BenchRunner | None = None
        self.columns: list[RaceColumn] = []
        self.last_export: Path | None = None
        self._worker: Worker[None] | None = None
        self._done = 0
        self._feed: _HookFeed | None = None
        self._own_network: NetworkThread | None = None

    # -- layout --------------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        chosen = {t.label for t in self.initial_targets} or set(DEFAULT_TARGETS)
        with Horizontal(id="race-setup"):
            selections = [Selection(choice_prompt(t), label, label in chosen) for label, t in self.choices.items()]
            targets: SelectionList[str] = SelectionList(*selections, id="race-targets")
            targets.border_title = f"Targets (2–{MAX_TARGETS})"
            yield targets
            with Vertical(id="race-controls"):
                yield Input(self.initial_prompt, placeholder="The prompt every target gets — Enter to race",
                            id="race-prompt")
                with Horizontal(id="race-buttons"):
                    yield Button("Race", id="race-go", variant="primary")
                    yield Label("Repeat ×")
                    yield Input(str(self.repeat), type="integer", id="race-repeat", max_length=2)
                    yield Button("Repeat", id="race-repeat-go")
                yield Static(self._idle_status(), id="race-status", markup=False)
        with Horizontal(id="race-columns"):
            yield Static("Choose 2–4 targets, type a prompt and press Enter (or ctrl+r) to race them.",
                         id="race-placeholder", markup=False)
        yield RaceSummary(id="race-summary")
        yield CoalescingFooter()

    def on_mount(self) -> None:
        self.summary = self.query_one(RaceSummary)
        self.status = self.query_one("#race-status", Static)
        self.prompt_input = self.query_one("#race-prompt", Input)
        self.target_list: SelectionList[str] = self.query_one("#race-targets", SelectionList)

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.height < SHORT, "-short")

    def _idle_status(self) -> str:
        return (f"Race: once, at the same time · Repeat: 1 warm-up + N rounds, medians · "
                f"max_tokens {self.max_tokens}, temperature 0, retries off")

    # -- actions ---------------------------------------------------------------------------------------------

    @on(Input.Submitted, "#race-prompt")
    def _prompt_submitted(self) -> None:
        self.action_race()

    @on(Input.Submitted, "#race-repeat")
    def _repeat_submitted(self) -> None:
        self.action_repeat()

    @on(Button.Pressed, "#race-go")
    def _race_pressed(self) -> None:
        self.action_race()

    @on(Button.Pressed, "#race-repeat-go")
    def _repeat_pressed(self) -> None:
        self.action_repeat()

    def action_race(self) -> None:
        """One request per target, all at once."""
        self._start(runs=1, warmup=0)

    def action_repeat(self) -> None:
        """A warm-up, then N interleaved rounds (N from the Repeat box)."""
        text = self.query_one("#race-repeat", Input).value.strip()
        try:
            runs = int(text)
        except ValueError:
            runs = 0
        if not 1 <= runs <= MAX_REPEAT:
            self.notify(f"Repeat needs a number from 1 to {MAX_REPEAT}.", severity="warning", markup=False)
            return
        self._start(runs=runs, warmup=1)

    def action_toggle_setup(self) -> None:
        self.query_one("#race-setup").toggle_class("-hidden")

    def action_close(self) -> None:
        self.cancel_race()
        if len(self.app.screen_stack) > 1 and self.app.screen is self:
            self.dismiss(None)

    def action_export_csv(self) -> None:
        self._export("csv")

    def action_export_json(self) -> None:
        self._export("json")

    # -- racing ----------------------------------------------------------------------------------------------

    @property
    def racing(self) -> bool:
        return self._worker is not None and self._worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    def selected_targets(self) -> list[Target]:
        """The chosen targets, in list order."""
        chosen = set(self.target_list.selected)
        return [t for label, t in self.choices.items() if label in chosen]

    def cancel_race(self) -> None:
        """Stop a race in progress; its clients are closed by the runner."""
        if self.racing:
            self.workers.cancel_group(self, RACE_GROUP)
            for column in self.columns:
                column.cancel()
            self.status.update("Race cancelled.")

    def _start(self, runs: int, warmup: int) -> None:
        targets = self.selected_targets()
        if not MIN_TARGETS <= len(targets) <= MAX_TARGETS:
            self.notify(f"Choose {MIN_TARGETS} to {MAX_TARGETS} targets to race (now {len(targets)}).",
                        title="Race", severity="warning", markup=False)
            return
        prompt = self.prompt_input.value
        try:
            plan = BenchPlan(prompt, tuple(targets), runs=runs, warmup=warmup, max_tokens=self.max_tokens)
        except ValueError as exc:
            self.notify(f"Cannot race: {exc}.", title="Race", severity="warning", markup=False)
            return
        self.cancel_race()
        self._worker = self._race(plan)

    @work(exclusive=True, group=RACE_GROUP, exit_on_error=False)
    async def _race(self, plan: BenchPlan) -> None:
        """Race on the network thread (where chunks are timestamped); its callbacks reach the columns through
        a queue drained here, so painting never delays a timestamp."""
        await self._mount_columns(plan.targets)
        self.summary.clear()
        self.result = None
        self._done = 0
        feed = _HookFeed(asyncio.get_running_loop(), self._drain)
        self._feed = feed
        runner = BenchRunner(
            plan,
            client_factory=self.client_factory,
            meter_factory=self.meter_factory,
            hooks=RaceHooks(on_start=feed.start, on_event=feed.event, on_run=feed.run),
        )
        self.runner = runner
        self.status.update(self._progress(plan))
        loop = asyncio.get_running_loop()
        stopped = asyncio.Event()

        async def race() -> BenchResult:
            try:
                return await runner.run()
            finally:
                loop.call_soon_threadsafe(stopped.set)

        try:
            result = await self._network().wait(race())
        except asyncio.CancelledError:
            await stopped.wait()  # the runner has closed its clients and kept what finished
            raise
        finally:
            self._drain()
        self._finished(result)

    def _network(self) -> NetworkThread:
        """The app's network thread, or one of the screen's own (closed when it unmounts)."""
        network = getattr(self.app, "network", None)
        if isinstance(network, NetworkThread):
            return network
        if self._own_network is None:
            self._own_network = NetworkThread("botticelli-race")
        return self._own_network

    def on_unmount(self) -> None:
        if self._own_network is not None:
            self._own_network.close()
            self._own_network = None

    def _drain(self) -> None:
        feed = self._feed
        if feed is None:
            return
        for kind, payload in feed.drain():
            if kind == "start":
                self._on_start(payload)  # type: ignore[arg-type]
            elif kind == "event":
                live, event = payload  # type: ignore[misc]
                self._on_event(live, event)
            else:
                self._on_run(payload)  # type: ignore[arg-type]

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is self._worker and event.state == WorkerState.ERROR:
            self.status.update("The race stopped on an internal error.")
            self.notify(f"{event.worker.error!r}", title="Race failed", severity="error", markup=False)

    async def _mount_columns(self, targets: Sequence[Target]) -> None:
        container = self.query_one("#race-columns", Horizontal)
        await container.remove_children()
        self.columns = [RaceColumn(t) for t in targets]
        await container.mount_all(self.columns)

    def _on_start(self, live: LiveRun) -> None:
        self.columns[live.index].begin(live, self._plan_runs())

    def _on_event(self, live: LiveRun, event: TurnEvent) -> None:
        self.columns[live.index].add(event)

    def _on_run(self, result: RunResult) -> None:
        self.columns[result.index].finish(result)
        if not result.warmup:
            self._done += 1
        if self.runner is not None:
            self.status.update(self._progress(self.runner.plan))

    def _plan_runs(self) -> int:
        return self.runner.plan.runs if self.runner is not None else 1

    def _progress(self, plan: BenchPlan) -> str:
        total = plan.runs * len(plan.targets)
        mode = f"{plan.runs} rounds after {plan.warmup} warm-up" if plan.warmup else "one request each"
        return f"Racing {len(plan.targets)} targets ({mode}) · {self._done}/{total} runs done · escape stops"

    def _finished(self, result: BenchResult) -> None:
        self.result = result
        summaries = self.summary.show(result)
        winner = self.summary.winner
        for column, summary in zip(self.columns, summaries, strict=True):
            column.mark_winner(summary.target == winner)
            if result.plan.runs > 1 and summary.ok:
                column.show_figures(_median_figures(summary), f"median of {summary.ok}")
        failed = len(result.failing_targets())
        done = f"Done: {winner} wins." if winner else "Done."
        if failed:
            done += f" {failed} of {len(result.plan.targets)} targets failed: see their columns."
        self.status.update(done + " ctrl+s / ctrl+o export CSV / JSON.")
        if self.store_results:
            try:
                save_race(result)
            except SessionStoreError as exc:
                self.notify(exc.one_line(), title="Race not stored", severity="warning", markup=False)

    # -- stored races ----------------------------------------------------------------------------------------

    @work(group="race-history", exclusive=True, exit_on_error=False)
    async def action_history(self) -> None:
        """Pick a stored race: open it as it finished, or race it again."""
        from botticelli.tui.screens.race_history import RaceHistoryScreen

        if self.racing:
            self.notify("A race is running: wait for it, or stop it with escape.", severity="warning",
                        markup=False)
            return
        pick = await self.app.push_screen_wait(RaceHistoryScreen())
        if pick is None:
            return
        if pick.action == "open":
            await self.show_stored(pick.race)
        else:
            self.race_again(pick.race)

    async def show_stored(self, race: StoredRace) -> None:
        """Show a stored race's table, bars and per-run chart; its prompt and targets are set to race again."""
        self.cancel_race()
        self.result = None
        container = self.query_one("#race-columns", Horizontal)
        await container.remove_children()
        self.columns = []
        missing = self._choose(race)
        note = f" No profile now for: {', '.join(missing)}." if missing else ""
        await container.mount(Static(
            f"Stored race of {race.created_at.replace('T', ' ').removesuffix('Z')} UTC (answers are not kept, "
            f"only their figures).{note}\nctrl+r races it again once, ctrl+g ×{race.runs_per_target}.",
            id="race-placeholder", markup=False))
        self.summary.show_stored(race)
        self.status.update(f"Stored race: {race.runs_per_target} run(s) per target. f5 lists the stored races.")

    def race_again(self, race: StoredRace) -> None:
        """Race the stored race's prompt against its targets, as many runs each (a warm-up first for 2+)."""
        missing = self._choose(race)
        if missing:
            self.notify(f"No profile now for: {', '.join(missing)}; racing the others.", title="Race again",
                        severity="warning", markup=False)
        runs = race.runs_per_target
        self.query_one("#race-repeat", Input).value = str(min(max(runs, 1), MAX_REPEAT))
        if runs > 1:
            self.action_repeat()
        else:
            self.action_race()

    def _choose(self, race: StoredRace) -> list[str]:
        """Put the race's prompt in the input and select its targets (adding a model a configured profile does
        not list); returns the targets whose profile is gone."""
        self.prompt_input.value = race.prompt
        self.target_list.deselect_all()
        missing = []
        for label in race.targets:
            target = self.choices.get(label) or self._target_of(label)
            if target is None:
                missing.append(strip_escapes(label))
                continue
            if label not in self.choices:
                self.choices[label] = target
                self.target_list.add_option(Selection(choice_prompt(target), label))
            self.target_list.select(label)
        return missing

    def _target_of(self, label: str) -> Target | None:
        try:
            profile_name, model = parse_target(label)
        except ConfigError:
            return None
        profile = self.config.profiles.get(profile_name)
        return Target(profile, model) if profile is not None else None

    def action_toggle_runs(self) -> None:
        if self.summary.has_class("-hidden"):
            self.notify("No race to chart yet: run one, or open a stored one (f5).", markup=False)
            return
        self.summary.toggle_view()

    # -- export ----------------------------------------------------------------------------------------------

    def _export(self, fmt: str) -> None:
        if self.result is None:
            self.notify("Nothing to export yet: run a race first.", severity="warning", markup=False)
            return
        folder = self.export_dir or (paths.data_dir() / "races")
        path = folder / f"race-{self.result.race_id}.{fmt}"
        text = bench_csv(self.result) if fmt == "csv" else dumps_json(self.result)
        try:
            write_atomic(path, text)
        except OSError as exc:
            self.notify(f"Could not write {path}: {exc.strerror or exc}", title="Export failed", severity="error",
                        markup=False)
            return
        self.last_export = path
        self.notify(str(path), title=f"Saved {fmt.upper()}", markup=False)


def _median_figures(summary: TargetSummary) -> SpeedFigures:
    """A target's medians in the shape of one run's figures, for its column's stats line."""
    tokens = summary.completion_tokens
    return SpeedFigures(
        ttft_s=summary.median("ttft_s"),
        completion_tokens=round(tokens.median) if tokens else None,
        tokens_exact=summary.tokens_exact,
        decode_tps=summary.median("decode_tps"),
        e2e_tps=summary.median("e2e_tps"),
        server_tps=summary.median("server_tps"),
        queue_s=summary.median("queue_s"),
    )


def open_race(app: App, targets: Sequence[Target] | None = None, prompt: str | None = None) -> RaceScreen:
    """Push a race screen using the app's `config` (or the loaded one); returns it."""
    config = getattr(app, "config", None)
    if not isinstance(config, Config):
        from botticelli.config import load_config

        config = load_config()
    screen = RaceScreen(config, targets, prompt)
    app.push_screen(screen)
    return screen


class _HookFeed:
    """The race's callbacks, queued on the network thread and drained on the UI's loop (one drain per wake)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, drain: Callable[[], None]) -> None:
        self._loop = loop
        self._drain = drain
        self._items: collections.deque[tuple[str, object]] = collections.deque()
        self._pending = False

    def _put(self, kind: str, payload: object) -> None:
        self._items.append((kind, payload))
        if not self._pending:
            self._pending = True
            try:
                self._loop.call_soon_threadsafe(self._wake)
            except RuntimeError:  # the UI's loop is closed: the app is exiting
                pass

    def _wake(self) -> None:
        self._pending = False
        self._drain()

    def start(self, live: LiveRun) -> None:
        self._put("start", live)

    def event(self, live: LiveRun, event: TurnEvent) -> None:
        if type(event) in (ContentDelta, ReasoningDelta, Figures):  # the column shows these
            self._put("event", (live, event))

    def run(self, result: RunResult) -> None:
        self._put("run", result)

    def drain(self) -> list[tuple[str, object]]:
        items, out = self._items, []
        while items:
            out.append(items.popleft())
        return out
