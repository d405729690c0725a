"""The picker pane: a tree of profiles, each with its chat models (live from `/models`, else its own list)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from botticelli import format as fmt
from botticelli import reachability
from botticelli.chat.pool import ModelList
from botticelli.config import Profile, has_key
from botticelli.reachability import Reach
from botticelli.safety import strip_escapes
from botticelli.tui.deferred import after_first_frame

ModelLoader = Callable[[Profile], Awaitable[ModelList]]
VISION_MARK = "img"
"""Shown after a model that takes images."""
LEAF_INDENT = 2
"""The cells of the tree guide before a model's label."""
HIDE_HINT = "ctrl+b hides"
"""Under the pane unless a model with catalogue details is highlighted."""


@dataclass(frozen=True, slots=True)
class PickerEntry:
    """What a tree node stands for: a profile (model None), one of its models, or a note (note True)."""

    profile: str
    model: str | None = None
    note: bool = False


class Picker(Tree[PickerEntry]):
    """Profiles → models. Expanding a profile loads its models in a worker; choosing one posts `ModelChosen`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Select", show=False,
                tooltip="On a profile: expand it (loads its models); on a model: talk to it from now on"),
        Binding("r", "reload", "Reload models", show=False,
                tooltip="Reload the highlighted profile's models (and check a keyless server again)"),
    ]

    class ModelChosen(Message):
        """The user picked `model` of `profile`."""

        def __init__(self, profile: str, model: str) -> None:
            super().__init__()
            self.profile = profile
            self.model = model

    class ProfileLocked(Message):
        """The user picked a model of a profile whose key is missing; `hint` says what to set."""

        def __init__(self, profile: str, model: str, hint: str) -> None:
            super().__init__()
            self.profile = profile
            self.model = model
            self.hint = hint

    def __init__(
        self,
        profiles: Iterable[Profile],
        loader: ModelLoader,
        *,
        current: tuple[str, str] | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__("profiles", id=id, classes=classes)
        self.show_root = False
        self.guide_depth = 2
        self.profiles = {p.name: p for p in profiles}
        self.current = current
        self._loader = loader
        self._profile_nodes: dict[str, TreeNode[PickerEntry]] = {}
        self._lists: dict[str, ModelList] = {}
        self._mounting = False
        self._reach: dict[str, Reach] = {}
        self._reach_asked: dict[str, int] = {}
        self.reach_pending: set[str] = set()
        """Keyless profiles whose server is being checked (tests and screenshots wait for none)."""

    def on_mount(self) -> None:
        self.border_title = "Models"
        self.border_subtitle = HIDE_HINT  # the chat screen's ctrl+b: focus, then hide
        for name, profile in self.profiles.items():
            node = self.root.add(self._profile_label(profile), data=PickerEntry(name), allow_expand=True)
            self._profile_nodes[name] = node
        if self.current and self.current[0] in self._profile_nodes:
            self._mounting = True
            self._profile_nodes[self.current[0]].expand()
        self.reach_pending = {name for name, profile in self.profiles.items() if self._keyless(profile)}
        after_first_frame(self, self.check_servers)

    # -- labels (Rich Text, never markup: model ids come from servers) ----------------------------------------

    def _profile_label(self, profile: Profile) -> Text:
        label = Text(profile.name, style="bold")
        if profile.simulated:
            label.append(" · simulator", style="dim")
        elif self._keyless(profile):  # no key to have: the tick says the server is up now
            reach = self._reach.get(profile.name)
            if reach is None:
                label.append(" · checking…", style="dim")
            elif reach.ok:
                label.append(" ✓", style="green")
            else:
                label.append(f" — {reach.why}", style="yellow")
        elif has_key(profile):
            label.append(" ✓", style="green")
        else:
            label.append(f" — set {profile.api_key_env[0]}" if profile.api_key_env else " — no key", style="yellow")
        return label

    def _model_label(self, profile: str, model: str) -> Text:
        shown = strip_escapes(model)
        if self.current == (profile, model):
            label = Text.assemble(("● ", "bold green"), (shown, "bold"))
        else:
            label = Text.assemble("  ", shown)
        room = self.scrollable_content_region.width - LEAF_INDENT - label.cell_len if self.is_mounted else 0
        parts = self.model_details(profile, model, compact=True)
        while parts and len(" ".join(parts)) + 1 > room:  # what fits; the context size goes first, the price last
            parts.pop(0)
        if parts:
            label.append(" " + " ".join(parts), style="dim")
        return label

    def model_details(self, profile: str, model: str, *, compact: bool = False) -> list[str]:
        """What the catalogue says of a model: `131k`, `img` (takes images), `$0.15/$0.60 per 1M` (US$ per 1M
        tokens in/out; `compact`: `$0.15/0.60`): only the parts known (price: config, `/models`, or the
        built-in table)."""
        from botticelli.catalog.prices import price_for

        listed = self._lists.get(profile)
        info = listed.info if listed is not None else {}
        model_info = info.get(model)
        parts = []
        if model_info is not None:
            if context := fmt.context_size(model_info.context_window):
                parts.append(context)
            if model_info.vision:
                parts.append(VISION_MARK)
        if profile in self.profiles and (quote := price_for(self.profiles[profile], model, info.values())):
            parts.append(fmt.price_pair(quote.price, compact=compact) + ("" if compact else " per 1M"))
        return parts

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[PickerEntry]) -> None:
        """The highlighted model's details in full under the pane (a long model id can hide its label's)."""
        entry = event.node.data
        details = " ".join(self.model_details(entry.profile, entry.model)) if entry and entry.model else ""
        self.border_subtitle = Content(details) if details else HIDE_HINT

    # -- keyless servers: up or not ----------------------------------------------------------------------------

    @staticmethod
    def _keyless(profile: Profile) -> bool:
        return not profile.simulated and not profile.needs_key

    def check_servers(self, *, fresh: bool = False, only: str | None = None) -> None:
        """Check, off the UI thread, whether each keyless profile's server is up (cached for a few seconds)."""
        for name, profile in self.profiles.items():
            if self._keyless(profile) and only in (None, name):
                self.reach_pending.add(name)
                self._reach_asked[name] = asked = self._reach_asked.get(name, 0) + 1
                self.run_worker(
                    lambda url=profile.base_url, name=name, asked=asked: self._check_server(name, url, fresh, asked),
                    thread=True, group=f"reach-{name}", exit_on_error=False,
                )

    def _check_server(self, name: str, base_url: str, fresh: bool, asked: int) -> None:
        reach = reachability.check(base_url, fresh=fresh)
        self.app.call_from_thread(self._show_reach, name, reach, asked)

    def _show_reach(self, name: str, reach: Reach, asked: int) -> None:
        if asked != self._reach_asked.get(name):
            return  # a later check is on its way
        self._reach[name] = reach
        self.reach_pending.discard(name)
        node = self._profile_nodes.get(name)
        if node is not None:
            node.set_label(self._profile_label(self.profiles[name]))

    def server_state(self, name: str) -> Reach | None:
        """The last check of a keyless profile's server (None: not checked yet, or the profile needs a key)."""
        return self._reach.get(name)

    # -- loading -----------------------------------------------------------------------------------------------

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[PickerEntry]) -> None:
        entry = event.node.data
        if entry is None or entry.model is not None or entry.note:
            return
        if entry.profile not in self._lists:
            self.load(entry.profile)

    def load(self, profile_name: str) -> None:
        """Fill a profile's node with its models (in a worker; a `loading…` note meanwhile)."""
        node = self._profile_nodes[profile_name]
        node.remove_children()
        node.add_leaf(Text("loading…", style="dim italic"), data=PickerEntry(profile_name, note=True))
        if self._mounting:
            # The first list is loaded once the first frame is painted: opening the profile's client (and,
            # for the demo, the simulator) would otherwise delay it.
            self._mounting = False
            after_first_frame(self, self._start_load, profile_name)
        else:
            self._start_load(profile_name)

    def _start_load(self, profile_name: str) -> None:
        self.run_worker(self._load(profile_name), group=f"models-{profile_name}", exclusive=True)

    async def _load(self, profile_name: str) -> None:
        result = await self._loader(self.profiles[profile_name])
        self._lists[profile_name] = result
        self._fill(profile_name)

    def _fill(self, profile_name: str) -> None:
        result = self._lists[profile_name]
        node = self._profile_nodes[profile_name]
        node.remove_children()
        models = list(result.models)
        if self.current and self.current[0] == profile_name and self.current[1] not in models:
            models.insert(0, self.current[1])
        for model in models:
            node.add_leaf(self._model_label(profile_name, model), data=PickerEntry(profile_name, model))
        if not result.live:
            note = f"({result.note or 'offline list'})"
            node.add_leaf(Text(note, style="dim italic"), data=PickerEntry(profile_name, note=True))
        if not models:
            note = Text("(no models: pass --model)", style="dim italic")
            node.add_leaf(note, data=PickerEntry(profile_name, note=True))
        cursor = self.cursor_node
        if self.has_focus and self.current and self.current[0] == profile_name and (
            cursor is None or cursor is node or cursor.parent is node
        ):
            self.call_after_refresh(self.reveal_current)  # the models came in while the cursor waited on them

    # -- the cursor --------------------------------------------------------------------------------------------

    def current_node(self) -> TreeNode[PickerEntry] | None:
        """The node of the model the conversation talks to; its profile's node while the models are not listed
        or the profile is collapsed."""
        if self.current is None:
            return None
        profile_node = self._profile_nodes.get(self.current[0])
        if profile_node is None or not profile_node.is_expanded:
            return profile_node
        for child in profile_node.children:
            if child.data is not None and child.data.model == self.current[1]:
                return child
        return profile_node

    def reveal_current(self) -> None:
        """Put the cursor on the current model, so that the picker opens where the conversation is."""
        node = self.current_node()
        if node is not None:
            self.move_cursor(node)

    def on_focus(self, event: events.Focus) -> None:
        self.reveal_current()
        self.check_servers()  # cheap: the cache answers unless the last check is a few seconds old

    def model_list(self, profile_name: str) -> ModelList | None:
        """The models shown for a profile once loaded."""
        return self._lists.get(profile_name)

    def action_reload(self) -> None:
        """Reload the highlighted profile's models (from the cache unless it failed)."""
        node = self.cursor_node
        if node is not None and node.data is not None:
            self.load(node.data.profile)
            self.check_servers(fresh=True, only=node.data.profile)

    # -- choosing ----------------------------------------------------------------------------------------------

    def on_tree_node_selected(self, event: Tree.NodeSelected[PickerEntry]) -> None:
        entry = event.node.data
        if entry is None or entry.model is None:
            return
        event.stop()
        profile = self.profiles[entry.profile]
        if not has_key(profile):
            self.post_message(self.ProfileLocked(entry.profile, entry.model, profile.missing_key_hint()))
            return
        self.post_message(self.ModelChosen(entry.profile, entry.model))

    def set_current(self, profile: str, model: str) -> None:
        """Mark the model the conversation now talks to."""
        previous, self.current = self.current, (profile, model)
        for name in {profile, previous[0] if previous else profile}:
            node = self._profile_nodes.get(name)
            if node is None or name not in self._lists:
                continue
            shown = [c.data.model for c in node.children if c.data is not None and c.data.model is not None]
            if name == profile and model not in shown:
                self._fill(name)
                continue
            for child in node.children:
                if child.data is not None and child.data.model is not None:
                    child.set_label(self._model_label(name, child.data.model))
