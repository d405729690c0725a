"""End to end offline: `models` and `ask` with the catalogue, prices and costs (in-process demo, loopback HF sim)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from botticelli.cli import main
from botticelli.simulator.server import running_simulator
from helpers_bench import write_config


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_ask_costs_a_groq_model_at_the_builtin_price(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "ask", "--json", "-m", "openai/gpt-oss-20b", "hello [[tokens:40]] [[tps:5000]]")
    assert code == 0
    result = json.loads(out)
    usage, cost = result["usage"], result["cost"]
    expected = (usage["prompt_tokens"] * 0.075 + usage["completion_tokens"] * 0.30) / 1e6
    assert cost["usd"] == pytest.approx(expected) and cost["estimated"] is False
    assert cost["price"] == {"input_per_m": 0.075, "output_per_m": 0.30, "source": "built-in 2026-10-01"}
    code, _, err = run_cli(capsys, "ask", "-m", "openai/gpt-oss-20b", "hello [[tokens:40]] [[tps:5000]]")
    assert code == 0 and " · $0.0000" in err


def test_no_price_no_cost_and_a_config_price_is_used(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "ask", "--json", "-m", "demo-fast", "hi [[tokens:10]] [[tps:5000]]")
    assert code == 0 and json.loads(out)["cost"] is None
    code, _, err = run_cli(capsys, "ask", "-m", "demo-fast", "hi [[tokens:10]] [[tps:5000]]")
    assert code == 0 and "$" not in err
    write_config({"demo": {"prices": {"demo-fast": {"input": 1000, "output": 2000}}}})
    code, out, _ = run_cli(capsys, "ask", "--json", "-m", "demo-fast", "hi [[tokens:10]] [[tps:5000]]")
    result = json.loads(out)
    expected = (result["usage"]["prompt_tokens"] * 1000 + 10 * 2000) / 1e6
    assert result["cost"]["usd"] == pytest.approx(expected) and result["cost"]["price"]["source"] == "config"
    code, out, _ = run_cli(capsys, "models", "--json")
    fast = next(m for m in json.loads(out) if m["id"] == "demo-fast")
    assert fast["price"] == {"input_per_m": 1000.0, "output_per_m": 2000.0, "source": "config"}


def test_hf_router_catalogue_from_the_loopback_simulator(capsys: pytest.CaptureFixture[str]) -> None:
    with running_simulator(flavor="huggingface", tps=5000.0, ttft_s=0.01) as server:
        write_config({"hf": {"base_url": server.base_url, "flavor": "huggingface",
                               "default_model": "deepseek-ai/DeepSeek-R1"}})
        code, out, _ = run_cli(capsys, "models", "-p", "hf", "--json")
        assert code == 0
        models = {m["id"]: m for m in json.loads(out)}
        r1 = models["deepseek-ai/DeepSeek-R1"]
        assert r1["price"] == {"input_per_m": 3.0, "output_per_m": 7.0, "source": "catalogue"}
        assert [p["provider"] for p in r1["providers"]] == ["together", "novita"]
        assert r1["providers"][1]["price"] == {"input_per_m": 4.5, "output_per_m": 10.5}
        assert r1["providers"][0]["throughput_tps"] == 5000.0 and r1["providers"][0]["ttft_ms"] == 10.0
        assert models["Qwen/Qwen2.5-VL-7B-Instruct"]["vision"] is True and r1["vision"] is False
        cache = Path(os.environ["BOTTICELLI_DATA_DIR"]) / "catalogue" / "hf.json"
        assert cache.is_file()

        code, out, err = run_cli(capsys, "models", "-p", "hf")
        assert code == 0
        line = next(x for x in out.splitlines() if x.startswith("Qwen/Qwen2.5-VL-7B-Instruct "))
        assert "vision" in line and "$0.20/$0.20" in line
        assert "$3.00/$7.00" in next(x for x in out.splitlines() if x.startswith("deepseek-ai/DeepSeek-R1 "))
        assert "US$ per 1M tokens" in err

        cache.unlink()  # ask fetches the router's catalogue when none is cached, then prices the answer
        code, out, _ = run_cli(capsys, "ask", "-p", "hf", "--json", "hello [[tokens:12]]")
        assert code == 0
        result = json.loads(out)
        usage = result["usage"]
        expected = (usage["prompt_tokens"] * 3 + usage["completion_tokens"] * 7) / 1e6
        assert result["cost"]["usd"] == pytest.approx(expected)
        assert cache.is_file()
        code, out, _ = run_cli(capsys, "ask", "-p", "hf", "-m", "deepseek-ai/DeepSeek-R1:novita", "--json", "hi")
        assert json.loads(out)["cost"]["price"]["input_per_m"] == 4.5


def test_a_corrupt_catalogue_cache_is_rewritten(capsys: pytest.CaptureFixture[str]) -> None:
    cache = Path(os.environ["BOTTICELLI_DATA_DIR"]) / "catalogue" / "demo.json"
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b'{"version": 1, "data": [{"id": ')
    code, out, err = run_cli(capsys, "models", "--json")
    assert code == 0 and "Traceback" not in err and any(m["id"] == "demo-fast" for m in json.loads(out))
    assert json.loads(cache.read_text())["data"]


def test_the_cost_is_stored_with_the_answers_figures(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "ask", "--json", "--session", "new", "-m", "openai/gpt-oss-120b",
                           "hello [[tokens:20]] [[tps:5000]]")
    assert code == 0
    asked = json.loads(out)
    code, out, _ = run_cli(capsys, "sessions", "export", asked["session_id"])
    assert code == 0
    shown = json.loads(out)
    answer = next(m for m in shown["messages"] if m["role"] == "assistant")
    assert answer["stats"]["cost_usd"] == asked["cost"]["usd"] and answer["stats"]["cost_estimated"] is False
    assert asked["cost"]["price"]["input_per_m"] == 0.15
    code, out, _ = run_cli(capsys, "speed", "--json", "-t", "demo:openai/gpt-oss-120b")
    assert code == 0  # speed history sums the stored costs
    assert json.loads(out)["targets"][0]["cost_usd"] == pytest.approx(asked["cost"]["usd"])
    assert answer["stats"]["completion_tokens"] == asked["stats"]["completion_tokens"]  # figures unchanged


def test_an_exported_session_keeps_its_costs_through_import(capsys: pytest.CaptureFixture[str],
                                                             tmp_path: Path) -> None:
    from botticelli.catalog import total_cost

    code, out, _ = run_cli(capsys, "ask", "--json", "--session", "new", "-m", "openai/gpt-oss-20b", "hi [[tokens:9]]")
    asked = json.loads(out)
    exported = tmp_path / "s.json"
    assert run_cli(capsys, "sessions", "export", asked["session_id"], "-o", str(exported))[0] == 0
    code, out, err = run_cli(capsys, "sessions", "import", str(exported))
    assert code == 0, err
    new_id = out.strip().split()[-1]
    assert new_id != asked["session_id"]
    code, out, _ = run_cli(capsys, "sessions", "export", new_id)
    total = total_cost(m.get("stats") for m in json.loads(out)["messages"])
    assert total is not None and total.usd == pytest.approx(asked["cost"]["usd"]) and not total.estimated


def test_bench_json_costs_per_run_and_per_target(capsys: pytest.CaptureFixture[str]) -> None:
    with running_simulator(flavor="huggingface", tps=5000.0, ttft_s=0.01) as server:
        write_config({"hf": {"base_url": server.base_url, "flavor": "huggingface",
                             "default_model": "meta-llama/Llama-3.1-8B-Instruct"}})
        code, out, err = run_cli(capsys, "bench", "--json", "--runs", "2", "--warmup", "0", "--max-tokens", "8",
                                 "--prompt", "[[tokens:8]] hi", "-t", "demo:openai/gpt-oss-20b", "-t", "demo:demo-fast",
                                 "-t", "hf:meta-llama/Llama-3.1-8B-Instruct")
    assert code == 0, err
    race = json.loads(out)
    summary = {s["target"]: s for s in race["summary"]}
    assert summary["demo:demo-fast"]["cost"] is None
    assert all(r["cost"] is None for r in race["runs"] if r["target"] == "demo:demo-fast")
    for label, price in (("demo:openai/gpt-oss-20b", (0.075, 0.30)), ("hf:meta-llama/Llama-3.1-8B-Instruct",
                                                                        (0.02, 0.05))):
        runs = [r for r in race["runs"] if r["target"] == label]
        assert len(runs) == 2
        for run in runs:
            assert run["cost"]["usd"] > 0 and run["cost"]["estimated"] is False
        cost = summary[label]["cost"]
        assert (cost["price"]["input_per_m"], cost["price"]["output_per_m"]) == price
        assert cost["total_usd"] == pytest.approx(sum(r["cost"]["usd"] for r in runs))
        assert min(r["cost"]["usd"] for r in runs) <= cost["per_run_usd"] <= max(r["cost"]["usd"] for r in runs)
        tokens = runs[0]["stats"]["completion_tokens"]
        assert runs[0]["cost"]["usd"] > tokens * price[1] / 1e6  # the prompt's tokens are paid for too


def test_a_stored_race_keeps_each_runs_cost(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "bench", "--json", "--runs", "2", "--warmup", "0", "--prompt",
                             "[[tokens:8]] hi", "-t", "demo:openai/gpt-oss-20b", "-t", "demo:demo-fast")
    assert code == 0, err
    race = json.loads(out)
    code, out, _ = run_cli(capsys, "speed", "--json", "--source", "race")
    assert code == 0
    stored = {t["target"]: t for t in json.loads(out)["targets"]}
    priced = sum(r["cost"]["usd"] for r in race["runs"] if r["target"] == "demo:openai/gpt-oss-20b")
    assert stored["demo:openai/gpt-oss-20b"]["cost_usd"] == pytest.approx(priced)
    assert "cost_usd" not in stored["demo:demo-fast"]


def test_sessions_show_gives_each_answers_cost_and_the_total(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "ask", "--json", "--session", "new", "-m", "openai/gpt-oss-20b", "hi [[tokens:9]]")
    first = json.loads(out)
    session = first["session_id"]
    code, out, _ = run_cli(capsys, "ask", "--json", "--session", session, "again [[tokens:30]]")
    second = json.loads(out)
    code, out, _ = run_cli(capsys, "ask", "--json", "--session", session, "-m", "demo-fast", "no price [[tokens:5]]")
    assert code == 0 and json.loads(out)["cost"] is None
    code, out, _ = run_cli(capsys, "sessions", "show", session)
    assert code == 0
    from botticelli.catalog import Cost

    for answer in (first, second):
        assert f" · {Cost(answer['cost']['usd']).label()} · " in out
    total = Cost(first["cost"]["usd"] + second["cost"]["usd"]).label()
    assert out.rstrip().endswith(f"total cost {total} (the answers with a known price)")
