"""The picker: live `/models` with non-chat models filtered out, the offline fallback, missing keys."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from botticelli import reachability
from botticelli.config import load_config
from botticelli.tui.app import BotticelliApp
from faults import free_closed_port

from .app_helpers import failing_models_factory, picker_of, send, settle_picker, wait_until, write_config

SIZE = (120, 40)


def labels(app: BotticelliApp, profile: str) -> list[str]:
    return [str(child.label) for child in picker_of(app)._profile_nodes[profile].children]


async def test_models_come_live_without_non_chat_models() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle_picker(pilot)
        listed = picker_of(app).model_list("demo")
        assert listed is not None and listed.live
        assert {"demo-fast", "demo-slow", "demo-reasoning"} <= set(listed.models)
        assert not any("whisper" in m or "orpheus" in m for m in listed.models)
        shown = labels(app, "demo")
        assert "demo-fast" in shown[0] and shown[0].startswith("●")
        assert not any("offline" in label for label in shown)


async def test_falls_back_to_the_profile_list_when_models_fails(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[profiles.broken]\nbase_url = "http://broken.invalid/v1"\ndefault_model = "alpha"\n'
        'models = ["alpha", "beta"]\n',
        encoding="utf-8",
    )
    app = BotticelliApp(load_config(path), client_factory=failing_models_factory("broken"))
    async with app.run_test(size=SIZE) as pilot:
        picker = picker_of(app)
        picker._profile_nodes["broken"].expand()
        await settle_picker(pilot, "broken")
        listed = picker.model_list("broken")
        assert listed is not None and not listed.live and listed.models == ("alpha", "beta")
        shown = labels(app, "broken")
        assert [label.strip() for label in shown[:2]] == ["alpha", "beta"]
        assert "offline list" in shown[-1] and "server" in shown[-1]
        # Cached for the run: expanding again does not ask again.
        assert app.catalog.cached(app.config.profiles["broken"]) is listed


async def test_profile_without_key_says_which_variable_to_set() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        picker = picker_of(app)
        assert str(picker._profile_nodes["groq"].label) == "groq — set GROQ_API_KEY"
        assert "set HF_TOKEN" in str(picker._profile_nodes["huggingface"].label)
        await wait_until(pilot, lambda: not picker.reach_pending, "the ollama check")
        assert str(picker._profile_nodes["ollama"].label) == "ollama — not running"
        picker._profile_nodes["groq"].expand()
        await settle_picker(pilot, "groq")
        shown = labels(app, "groq")
        assert "llama-3.1-8b-instant" in shown[0]
        assert "set GROQ_API_KEY" in shown[-1]
        node = picker._profile_nodes["groq"].children[0]
        picker.select_node(node)
        await wait_until(pilot, lambda: any("needs a key" in n.message for n in app._notifications), "the warning")
        assert app.chat.target.profile.name == "demo"


async def test_picking_with_the_keyboard_switches_the_target() -> None:
    app = BotticelliApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle_picker(pilot)
        picker = picker_of(app)
        picker.focus()
        demo = picker._profile_nodes["demo"]
        picker.move_cursor(demo.children[0])
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: app.chat.target.model != "demo-fast", "the switch")
        assert app.chat.target.model == demo.children[1].data.model
        assert str(demo.children[1].label).startswith("●")
        assert not str(demo.children[0].label).startswith("●")
        assert app.focused is app.chat.prompt_input
        await send(pilot, "[[tps:3000]] hi")
        assert app.chat.exchanges[-1].model == demo.children[1].data.model


async def test_custom_config_profiles_appear(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[profiles.mine]\nbase_url = "http://127.0.0.1:9/v1"\ndefault_model = "m1"\n', encoding="utf-8")
    app = BotticelliApp(load_config(path))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "mine" in picker_of(app)._profile_nodes


def keyless_config(tmp_path: Path, up_port: int, down_port: int):
    return write_config(tmp_path / "cfg", (
        f'[profiles.up]\nbase_url = "http://127.0.0.1:{up_port}/v1"\ndefault_model = "m"\n'
        f'[profiles.down]\nbase_url = "http://127.0.0.1:{down_port}/v1"\ndefault_model = "m"\n'
    ))


async def test_a_keyless_server_gets_a_tick_only_while_it_is_up(tmp_path: Path) -> None:
    """The tick of a keyless profile means its server accepts connections now (item 16); otherwise the label
    says why not. r on the profile checks again at once."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    up_port, down_port = listener.getsockname()[1], free_closed_port()
    app = BotticelliApp(keyless_config(tmp_path, up_port, down_port))
    try:
        async with app.run_test(size=SIZE) as pilot:
            picker = picker_of(app)
            await wait_until(pilot, lambda: not picker.reach_pending, "the servers' check")
            assert str(picker._profile_nodes["up"].label) == "up ✓"
            assert str(picker._profile_nodes["down"].label) == "down — not running"
            listener.close()
            picker.focus()
            await wait_until(pilot, lambda: picker.has_focus and not picker.reach_pending, "the picker's focus")
            picker.move_cursor(picker._profile_nodes["up"])
            await pilot.press("r")
            await wait_until(pilot, lambda: str(picker._profile_nodes["up"].label) == "up — not running",
                             "the tick to go")
    finally:
        listener.close()


def test_reachability_is_cached_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, int]] = []

    def probe(host: str, port: int, timeout: float = 1.0) -> reachability.Reach:
        calls.append((host, port))
        return reachability.Reach(False, "not running")

    monkeypatch.setattr(reachability, "probe", probe)
    clock = [100.0]
    url = "http://localhost:11434/v1"
    assert reachability.check(url, clock=lambda: clock[0]) == reachability.Reach(False, "not running")
    clock[0] += reachability.CACHE_S / 2
    reachability.check(url, clock=lambda: clock[0])
    assert calls == [("localhost", 11434)]  # cached
    clock[0] += reachability.CACHE_S
    reachability.check(url, clock=lambda: clock[0])
    reachability.check(url, fresh=True, clock=lambda: clock[0])
    assert len(calls) == 3
    assert reachability.server_address("https://example.com/v1") == ("example.com", 443)
    assert reachability.check("not a url").why == "no host in base_url"


def test_probe_over_real_sockets() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert reachability.probe("127.0.0.1", listener.getsockname()[1]).ok
    assert reachability.probe("127.0.0.1", free_closed_port()) == reachability.Reach(False, "not running")
