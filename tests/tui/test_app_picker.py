"""The picker: live `/models` with non-chat models filtered out, the offline fallback, missing keys."""

from __future__ import annotations

from pathlib import Path

from botticelli.config import load_config
from botticelli.tui.app import BotticelliApp

from .app_helpers import failing_models_factory, picker_of, send, settle_picker, wait_until

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
        assert shown[0].endswith("demo-fast") and shown[0].startswith("●")
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
        assert str(picker._profile_nodes["ollama"].label) == "ollama ✓"
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
