"""The simulator answers like a real provider about models and prompts (issue 13 item 17).

An unknown model gets 404 `model_not_found` in each flavour's recorded wire shape (tests/fixtures/recorded),
through the socket and in process; `botticelli ask -m no-such-model` exits 5. Prompt tokens are counted as a
chat template would: every message's role and content plus the template's own tokens, so "hi" is not 1.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from botticelli.simulator import SimSettings
from botticelli.simulator.engine import prompt_token_count
from faults import cli_inprocess, write_config
from test_simulator_support import sim_api

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "recorded"


@pytest.mark.parametrize("mode", ["socket", "inprocess"])
@pytest.mark.parametrize("flavor, fixture", [
    ("groq", "groq_error_404_model_not_found.json"),
    ("openai", "openai_error_404_model_not_found.reserialized.json"),
    ("huggingface", "hf_router_error_404_model_not_found.json"),
])
async def test_an_unknown_model_is_a_404_in_the_flavours_shape(mode: str, flavor: str, fixture: str) -> None:
    recorded = json.loads((FIXTURES / fixture).read_text())
    with sim_api(mode, flavor) as api:
        reply = await api.chat("hi", model="no-such-model")
    assert reply.status == 404
    body = reply.json()
    assert list(body) == list(recorded)
    if isinstance(recorded["error"], dict):
        assert sorted(body["error"]) == sorted(recorded["error"])
        assert body["error"]["code"] == "model_not_found" and "no-such-model" in body["error"]["message"]
    else:
        assert body["error"] == "Model no-such-model does not exist"


async def test_catalogue_speed_override_and_extra_models_are_served() -> None:
    with sim_api("inprocess", "groq", speeds={}, extra_models=("my-model",)) as api:
        assert (await api.chat("hi", model="demo-fast", stream=False)).status == 200
        assert (await api.chat("hi", model="my-model", stream=False)).status == 200
        assert (await api.chat("hi", model="other", stream=False)).status == 404


def test_ask_with_an_unknown_model_exits_5(capsys: pytest.CaptureFixture[str]) -> None:
    write_config('default_profile = "demo"\n')
    result = cli_inprocess(["ask", "-m", "no-such-model", "hi"], capsys)
    assert result.code == 5 and result.out == ""
    assert "model_not_found" in result.err and "no-such-model" in result.err


def test_a_simulated_profile_serves_the_models_it_declares(capsys: pytest.CaptureFixture[str]) -> None:
    write_config('default_profile = "mine"\n\n[profiles.mine]\nbase_url = "http://x.botticelli.invalid/v1"\n'
                 'simulated = true\ndefault_model = "house-model"\nmodels = ["house-model", "second"]\n')
    assert cli_inprocess(["ask", "--json", "hi [[tokens:3]] [[ttft:0]]"], capsys).code == 0
    assert cli_inprocess(["ask", "-m", "second", "hi [[tokens:3]] [[ttft:0]]"], capsys).code == 0
    assert cli_inprocess(["ask", "-m", "third", "hi"], capsys).code == 5


def test_prompt_tokens_count_roles_content_and_the_template() -> None:
    hi = prompt_token_count([{"role": "user", "content": "hi"}])
    assert hi == 8  # 3 to prime the reply + (3 per message + 1 for "user" + 1 for "hi")
    longer = prompt_token_count([{"role": "system", "content": "Be brief."},
                                 {"role": "user", "content": "What is the capital of France?"}])
    assert longer == 3 + (3 + 2 + 3) + (3 + 1 + 8)
    assert prompt_token_count([{"role": "user", "content": [{"type": "text", "text": "hi"}]}]) == hi


async def test_the_usage_reports_the_template_count() -> None:
    with sim_api("inprocess", "openai") as api:
        reply = await api.chat("hi", model="demo-fast", stream=False, headers={"x-sim-tokens": "2"})
    assert reply.json()["usage"]["prompt_tokens"] == 8


def test_settings_validate_extra_models() -> None:
    with pytest.raises(ValueError):
        SimSettings(extra_models=("",))


def test_simulate_serves_the_models_named_with_model() -> None:
    from botticelli.cli import build_parser

    args = build_parser().parse_args(["simulate", "--model=bench-model-1", "--model", "local"])
    settings = SimSettings.from_args(args)
    assert settings.serves("bench-model-1") and settings.serves("local") and settings.serves("demo-fast")
    assert not settings.serves("no-such-model")
