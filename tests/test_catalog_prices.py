"""Prices (config, catalogue, Groq's built-in table), the cost of an answer, and the catalogue cache."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

import pytest

from botticelli import paths
from botticelli.catalog import (
    GROQ_PRICES_DATE,
    CatalogueCache,
    Cost,
    PriceQuote,
    answer_cost,
    cached_models,
    estimate_prompt_tokens,
    price_for,
)
from botticelli.config import ConfigError, load_config
from botticelli.providers.models import parse_models
from botticelli.providers.types import ModelInfo, Price, ProviderOffer

RECORDED = Path(__file__).parent / "fixtures" / "recorded"


def write_config(text: str) -> None:
    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)


# --- prices -----------------------------------------------------------------------------------------------


def test_groq_builtin_prices_are_dated_and_config_overrides_them() -> None:
    groq = load_config(env={}).profile("groq")
    assert price_for(groq, "openai/gpt-oss-120b") == PriceQuote(Price(0.15, 0.60), f"built-in {GROQ_PRICES_DATE}")
    assert price_for(groq, "llama-3.1-8b-instant") is None  # "contact sales": no guessed price
    write_config('[profiles.groq.prices."openai/gpt-oss-120b"]\ninput = 0.1\noutput = 0.5\n'
                 '[profiles.groq.prices."llama-3.1-8b-instant"]\ninput = 0.05\noutput = 0.08\n')
    groq = load_config(env={}).profile("groq")
    assert price_for(groq, "openai/gpt-oss-120b") == PriceQuote(Price(0.1, 0.5), "config")
    assert price_for(groq, "llama-3.1-8b-instant") == PriceQuote(Price(0.05, 0.08), "config")


def test_builtin_groq_prices_only_for_groq_profiles() -> None:
    hf = load_config(env={}).profile("huggingface")
    assert price_for(hf, "openai/gpt-oss-120b") is None


def test_catalogue_prices_and_a_pinned_hf_provider() -> None:
    hf = load_config(env={}).profile("huggingface")
    models = parse_models(json.loads((RECORDED / "hf_router_models_sample.json").read_text()))
    assert price_for(hf, "deepseek-ai/DeepSeek-R1", models) == PriceQuote(Price(3.0, 7.0), "catalogue")
    assert price_for(hf, "deepseek-ai/DeepSeek-R1:together", models) == PriceQuote(Price(3.0, 7.0), "catalogue")
    assert price_for(hf, "deepseek-ai/DeepSeek-R1:deepinfra", models) is None  # in error, no price
    pinned = ModelInfo("m", providers=(ProviderOffer("a", "live", price=Price(1, 2), throughput_tps=9.0),
                                       ProviderOffer("b", "live", price=Price(5, 6), throughput_tps=1.0)),
                       price=Price(1, 2))
    assert price_for(hf, "m:b", [pinned]) == PriceQuote(Price(5, 6), "catalogue")


@pytest.mark.parametrize(("table", "message"), [
    ('input = -1\noutput = 1', "input: must be from 0 to 10,000 dollars per 1M tokens, got -1"),
    ('input = "0.1"\noutput = 1', "input: expected a number, got \"0.1\""),
    ('input = 0.1', "needs output"),
    ('input = 0.1\noutput = 1\ncached = 0.01', "cached: unknown price field"),
    ('input = nan\noutput = 1', "input: must be from 0 to 10,000"),
])
def test_bad_config_prices_are_one_clear_line(table: str, message: str) -> None:
    write_config(f'[profiles.groq.prices."openai/gpt-oss-20b"]\n{table}\n')
    with pytest.raises(ConfigError) as info:
        load_config(env={})
    line = info.value.one_line()
    assert 'profiles.groq.prices."openai/gpt-oss-20b"' in line and message in line and "\n" not in line


# --- cost -------------------------------------------------------------------------------------------------


def test_cost_is_tokens_times_price_per_million() -> None:
    cost = answer_cost(Price(0.15, 0.60), 1_000, 500)
    assert cost == Cost(pytest.approx(0.00045), False)  # 1000 × 0.15/1M + 500 × 0.60/1M
    assert cost.label() == "$0.00045"
    assert answer_cost(Price(3, 7), 200_000, 100_000).label() == "$1.30"
    assert answer_cost(Price(3, 7), 10, 10, estimated=True).label() == "~$0.0001"
    assert answer_cost(Price(0, 0), 10, 10).label() == "$0.00"
    assert answer_cost(Price(1e-6, 1e-6), 1, 1).label() == "<$0.000001"


def test_no_price_or_no_count_is_no_cost() -> None:
    assert answer_cost(None, 10, 10) is None
    assert answer_cost(Price(1, 1), None, 10) is None
    assert answer_cost(Price(1, 1), 10, None) is None


def test_prompt_tokens_are_estimated_from_characters() -> None:
    assert estimate_prompt_tokens(0) == 0
    assert estimate_prompt_tokens(1) == 1
    assert estimate_prompt_tokens(400) == 100


# --- cache ------------------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _fetcher(models: list[ModelInfo]):  # type: ignore[no-untyped-def]
    calls = []

    async def fetch() -> list[ModelInfo]:
        calls.append(1)
        return models

    return fetch, calls


def test_the_cache_serves_until_it_expires(tmp_path: Path) -> None:
    profile = load_config(env={}).profile("huggingface")
    models = parse_models(json.loads((RECORDED / "hf_router_models_sample.json").read_text()))
    clock = Clock()
    cache = CatalogueCache(tmp_path / "catalogue", ttl_s=3600, clock=clock)
    fetch, calls = _fetcher(models)
    assert asyncio.run(cached_models(profile, fetch, cache=cache)) == models
    assert asyncio.run(cached_models(profile, fetch, cache=cache)) == models
    assert len(calls) == 1
    clock.now += 3601
    asyncio.run(cached_models(profile, fetch, cache=cache))
    assert len(calls) == 2
    asyncio.run(cached_models(profile, fetch, cache=cache, refresh=True))
    assert len(calls) == 3
    other_url = replace(profile, base_url="http://127.0.0.1:9/v1")
    assert cache.load(other_url) is None  # a cache for another server is not this one's


@pytest.mark.parametrize("content", [
    b"", b"{", b"\xff\xfe", b"[]", b'{"version": 1}', b"null", b"[" * 100_000,
    b'{"version":1,"fetched_at":"yesterday","base_url":"x","data":[]}',
])
def test_a_corrupt_cache_is_ignored_and_rewritten(tmp_path: Path, content: bytes) -> None:
    profile = load_config(env={}).profile("groq")
    cache = CatalogueCache(tmp_path / "catalogue")
    cache.folder.mkdir(parents=True)
    cache.path(profile).write_bytes(content)
    assert cache.load(profile) is None
    fetch, calls = _fetcher([ModelInfo("a", context_window=8192)])
    assert asyncio.run(cached_models(profile, fetch, cache=cache)) == [ModelInfo("a", context_window=8192)]
    assert cache.load(profile) == [ModelInfo("a", context_window=8192)] and len(calls) == 1


def test_tampered_cache_fields_are_validated_like_a_live_answer(tmp_path: Path) -> None:
    profile = load_config(env={}).profile("groq")
    cache = CatalogueCache(tmp_path / "catalogue")
    cache.save(profile, [ModelInfo("a", price=Price(1, 2))])
    data = json.loads(cache.path(profile).read_text())
    data["data"][0]["pricing"] = {"input": -5, "output": 1e308}
    data["data"][0]["context_window"] = 10**12
    cache.path(profile).write_text(json.dumps(data))
    [model] = cache.load(profile) or []
    assert model.price is None and model.context_window is None


def test_an_unwritable_folder_only_costs_the_cache(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    profile = load_config(env={}).profile("groq")
    cache = CatalogueCache(blocker / "catalogue")
    fetch, _calls = _fetcher([ModelInfo("a")])
    assert asyncio.run(cached_models(profile, fetch, cache=cache)) == [ModelInfo("a")]
    assert cache.load(profile) is None


def test_small_costs_keep_four_significant_digits() -> None:
    assert Cost(2.895e-05).label() == "$0.00002895"
    assert Cost(0.0049999, estimated=True).label() == "~$0.005"


def test_stored_costs_are_validated_and_summed() -> None:
    from botticelli.catalog import stored_cost, total_cost

    good = {"completion_tokens": 5, "cost_usd": 0.002, "cost_estimated": False}
    rough = {"cost_usd": 0.001, "cost_estimated": True}
    assert stored_cost(good) == Cost(0.002, False)
    for bad in ({"cost_usd": "1"}, {"cost_usd": -1}, {"cost_usd": float("nan")}, {"cost_usd": [3]},
                {"cost_usd": True}, {"cost_usd": 1e12}, None, [], {}):
        assert stored_cost(bad) is None
    assert stored_cost({"cost_usd": 1}) == Cost(1.0, True)  # not said to be exact: estimated
    total = total_cost([good, rough, None, {"cost_usd": "x"}])
    assert total is not None and total.usd == pytest.approx(0.003) and total.estimated
    assert total_cost([good, good]) == Cost(0.004, False)
    assert total_cost([None, {}]) is None


def test_config_show_json_lists_the_configured_prices(capsys: pytest.CaptureFixture[str]) -> None:
    from botticelli.cli import main

    write_config('[profiles.groq.prices."llama-3.1-8b-instant"]\ninput = 0.05\noutput = 0.08\n')
    assert main(["config", "show", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    profiles = {p["name"]: p for p in shown}
    assert profiles["groq"]["prices"] == {"llama-3.1-8b-instant": {"input": 0.05, "output": 0.08}}
    assert profiles["demo"]["prices"] == {}


def test_a_profile_with_prices_crosses_to_a_load_worker() -> None:
    import pickle

    from botticelli.load.workers import portable

    write_config('[profiles.groq.prices."openai/gpt-oss-20b"]\ninput = 0.1\noutput = 0.2\n')
    groq = load_config(env={}).profile("groq")
    copy = pickle.loads(pickle.dumps(portable(groq)))
    assert price_for(copy, "openai/gpt-oss-20b") == PriceQuote(Price(0.1, 0.2), "config")


def test_hf_router_policy_suffixes_price_as_the_router_picks() -> None:
    hf = load_config(env={}).profile("huggingface")
    model = ModelInfo("m", price=Price(2, 3), providers=(
        ProviderOffer("fast", "live", price=Price(2, 3), throughput_tps=90.0),
        ProviderOffer("cheap", "live", price=Price(5, 1), throughput_tps=10.0),
        ProviderOffer("down", "error", price=Price(0, 0)),
    ))
    assert price_for(hf, "m:fastest", [model]) == PriceQuote(Price(2, 3), "catalogue")
    assert price_for(hf, "m:cheapest", [model]) == PriceQuote(Price(5, 1), "catalogue")  # by output price
    assert price_for(hf, "m:down", [model]) is None
    assert price_for(hf, "m:nobody", [model]) is None
