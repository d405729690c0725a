"""The benchmark suite's plumbing, fast: the runner's report writer, its child protocol, and that every
`benchmarks/bench_*.py` imports and exposes `main`. No benchmark is run here (`make bench` does that)."""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest

BENCH_DIR = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(path: Path) -> ModuleType:
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


run_all = _load(BENCH_DIR / "run_all.py")


def fig(name: str, value: float, target: str, met: bool | None, unit: str = "", **extra: object) -> dict:
    return {"name": name, "value": value, "unit": unit, "target": target, "met": met, **extra}


def test_shortfall_says_by_how_much() -> None:
    assert run_all.shortfall(fig("first_frame_s", 1.5, "<= 0.5", False, "s")) == "by 1.00 s (200 % over)"
    assert run_all.shortfall(fig("ratio", 1.2, ">= 1.5", False, "x")) == "by 0.300 x (20 % short)"
    assert run_all.shortfall(fig("tps", 2040.0, "2,000 ± 1 %", False, "tok/s")) == "off by +2.00 % (allowed ±1 %)"
    assert run_all.shortfall(fig("growth", 12.0, "<= 10", False, "%")) == "by 2.00 points (20 % over)"
    assert run_all.shortfall(fig("ratio", 0.9, "1 ±0.05", False, "x")) == "off by -0.1 x (allowed ±0.05)"
    assert run_all.shortfall(fig("odd", 3.0, "about right", False)) == "missed"


def test_report_lists_machine_command_and_every_verdict() -> None:
    results = [
        run_all.ScriptResult("bench_client_sse", "ok", 12.3, [
            fig("sse_botticelli_vs_openai_sdk_x", 11.3, ">= 1.5", True, "x", note="median of 5"),
            fig("sse_botticelli_slowdown_vs_bare_httpx_x", 1.74, "<= 1.5", False, "x"),
            fig("sse_openai_sdk_chunks_per_s", 5802.4, "(reference)", None, "chunk/s", pages=3),
        ], method="Three readers | one stream."),
        run_all.ScriptResult("bench_race", "failed", 4.0, [fig("race_a", 2.0, "<= 5 %", True, "%")],
                             error="exit code 1\nRuntimeError: boom"),
        run_all.ScriptResult("bench_load", "timeout", 60.0, error="timed out after 60 s",
                             settings="load duration 25 s (shortened from 60 s to fit the budget)"),
    ]
    machine = {"CPU": "Test CPU", "cores": "2", "Textual": "8.2.8"}
    text = run_all.render_report(results, machine, 75.0, when=datetime(2026, 11, 25, 1, 2, tzinfo=UTC))

    assert text.startswith("# Benchmarks\n")
    assert "`make bench`" in text and "2026-11-25 01:02 UTC" in text and "75 s" in text
    assert "| CPU | Test CPU |" in text and "| Textual | 8.2.8 |" in text
    assert "**2 of 3 figures with a target are met.**" in text
    assert "| sse_botticelli_vs_openai_sdk_x | 11.30 x | >= 1.5 | ✅ met | median of 5 |" in text
    assert "❌ missed by 0.240 x (16 % over)" in text
    assert "| — (reference) | pages=3 |" in text
    assert "5,802.4 chunk/s" in text
    assert "Method: Three readers | one stream." in text
    assert "`bench_race.py`: failed: exit code 1" in text and "RuntimeError: boom" in text
    assert "`bench_load.py`: timeout" in text and "shortened from 60 s" in text
    assert "## 1. SSE client throughput" in text


def test_all_met_says_so() -> None:
    results = [run_all.ScriptResult("bench_sessions", "ok", 1.0, [fig("fts", 3.0, "<= 50", True, "ms")])]
    text = run_all.render_report(results, {"CPU": "x"}, 1.0)
    assert "**1 of 1 figures with a target are met.** Every figure is met." in text


def test_parse_output_prefers_the_final_line_and_keeps_partial_ones() -> None:
    lines = ['hello', '{"name": "a", "value": 1.0, "target": "<= 2", "met": true}', 'not json {']
    final, partial = run_all.parse_output("\n".join(lines))
    assert final is None and [f["name"] for f in partial] == ["a"]
    final, _ = run_all.parse_output("\n".join([*lines, run_all.RESULT_PREFIX + '{"figures": [{"name": "b"}]}']))
    assert final == [{"name": "b"}]


def test_discover_orders_known_scripts_and_runs_load_last(tmp_path: Path) -> None:
    for name in ("bench_load", "bench_zeta", "bench_startup", "bench_client_sse", "helper"):
        (tmp_path / f"{name}.py").write_text('"""x"""\n')
    names = [p.stem for p in run_all.discover(tmp_path)]
    assert names == ["bench_client_sse", "bench_startup", "bench_zeta", "bench_load"]
    assert [p.stem for p in run_all.discover(tmp_path, only=["startup"])] == ["bench_startup"]


def test_load_gets_a_full_minute_only_when_it_fits() -> None:
    assert run_all.load_duration(100.0, 600.0) == 60.0
    assert run_all.load_duration(520.0, 600.0) == 25.0
    assert run_all.load_duration(590.0, 600.0) == run_all.LOAD_MIN_S


def test_method_is_the_docstring_after_the_title_without_run_lines(tmp_path: Path) -> None:
    script = tmp_path / "bench_x.py"
    script.write_text('"""Title line.\n\nHow it is\nmeasured:\n\n* one\n* two\nRun: python bench_x.py\n"""\n')
    assert run_all.method_of(script) == "How it is\nmeasured:\n\n* one\n* two"


def test_child_protocol_ok_failure_and_timeout(tmp_path: Path) -> None:
    good = tmp_path / "bench_good.py"
    good.write_text(
        "def main(duration_s=60):\n"
        "    print('working')\n"
        "    return [{'name': 'n', 'value': duration_s, 'unit': 's', 'target': '<= 99', 'met': True, 'note': ''}]\n"
    )
    result = run_all.run_script(good, timeout=30, extra_env={run_all.LOAD_ENV: "7"})
    assert result.status == "ok" and result.figures[0]["value"] == 7.0

    bad = tmp_path / "bench_bad.py"
    bad.write_text(
        "import json\n"
        "def main():\n"
        "    print(json.dumps({'name': 'early', 'value': 1.0, 'target': '<= 2', 'met': True}), flush=True)\n"
        "    raise RuntimeError('broken benchmark')\n"
    )
    result = run_all.run_script(bad, timeout=30)
    assert result.status == "failed" and "broken benchmark" in result.error
    assert [f["name"] for f in result.figures] == ["early"]

    slow = tmp_path / "bench_slow.py"
    slow.write_text("import time\ndef main():\n    time.sleep(30)\n    return []\n")
    result = run_all.run_script(slow, timeout=1)
    assert result.status == "timeout" and result.seconds < 10


@pytest.mark.parametrize("path", sorted(BENCH_DIR.glob("bench_*.py")), ids=lambda p: p.stem)
def test_every_bench_script_imports_and_exposes_main(path: Path) -> None:
    module = _load(path)
    assert callable(getattr(module, "main", None)), f"{path.name} has no main()"
    assert "__main__" in path.read_text(encoding="utf-8"), f"{path.name} does not run standalone"
