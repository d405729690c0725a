"""A sweep as text: a progress line per level, a table per target, the `load --json` object and CSV."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

from botticelli.bench.export import csv_cell
from botticelli.load.metrics import LAG_FLAG_S, SCHEMA, LevelMetrics
from botticelli.safety import strip_escapes

if TYPE_CHECKING:
    from botticelli.load.runner import LoadPlan, SweepResult

CSV_COLUMNS: tuple[str, ...] = (
    "target", "mode", "level", "requests", "completed", "failed", "rate_limited", "errors", "duration_s",
    "request_throughput", "output_tps", "output_tokens", "tokens_exact", "ttft_p50_s", "ttft_p90_s", "ttft_p99_s",
    "itl_p50_s", "itl_p99_s", "e2e_p50_s", "e2e_p99_s", "goodput_rps", "good", "client_lag_p99_ms",
    "client_cpu_pct", "workers", "client_flagged", "capped",
)


def level_text(level: LevelMetrics) -> str:
    """`concurrency 8` or `rate 2.5/s (poisson)`."""
    if level.mode == "concurrency":
        return f"concurrency {level.level:g}"
    return f"rate {level.level:g}/s"


def _ms(seconds: float | None) -> str:
    """`2.5ms`, `204ms`, `1.25s`, `—`."""
    if seconds is None:
        return "—"
    if seconds >= 1:
        return f"{seconds:.2f}s"
    return f"{seconds * 1000:.0f}ms" if seconds >= 0.1 else f"{seconds * 1000:.1f}ms"


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"


def progress_line(target: str, level: LevelMetrics) -> str:
    """`groq:llama-3.1-8b-instant concurrency 8: 64/64 ok · 3.1 req/s · 2,480 tok/s · TTFT p50 210ms`."""
    text = (f"{target} {level_text(level)}: {level.completed}/{level.requests} ok · "
            f"{_num(level.request_throughput)} req/s · {_num(level.output_tps)} tok/s · "
            f"TTFT p50 {_ms(level.ttft_s.get('p50'))}")
    if level.rate_limited:
        text += f" · {level.rate_limited}× 429"
    if level.client.flagged:
        text += " · client lagging"
    return text


def _errors_text(level: LevelMetrics) -> str:
    parts = [f"429×{level.rate_limited}"] if level.rate_limited else []
    parts += [f"{kind}×{count}" for kind, count in level.errors.items()]
    return " ".join(parts) or "0"


def _align(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.rjust(widths[i]) if i else cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
            for row in rows]


def target_table(plan: LoadPlan, target: str, levels: list[LevelMetrics]) -> list[str]:
    """The rows of one target's table (a header first)."""
    head = "conc" if plan.mode == "concurrency" else "req/s in"
    header = [head, "ok", "errors", "req/s", "tok/s", "TTFT p50", "p90", "p99", "ITL p50", "p99", "e2e p50", "p99"]
    if plan.slo is not None:
        header.append("goodput")
    header.append("client lag p99 · CPU")
    rows = [header]
    for level in levels:
        row = [
            f"{level.level:g}", f"{level.completed}/{level.requests}", _errors_text(level),
            _num(level.request_throughput), _num(level.output_tps),
            _ms(level.ttft_s.get("p50")), _ms(level.ttft_s.get("p90")), _ms(level.ttft_s.get("p99")),
            _ms(level.itl_s.get("p50")), _ms(level.itl_s.get("p99")),
            _ms(level.e2e_s.get("p50")), _ms(level.e2e_s.get("p99")),
        ]
        if plan.slo is not None:
            row.append(f"{_num(level.goodput_rps)}/s")
        cpu = "—" if level.client.cpu_pct is None else f"{level.client.cpu_pct:.0f}%"
        flag = " ⚠" if level.client.flagged else ""
        capped = " (capped)" if level.capped else ""
        row.append(f"{_ms(level.client.lag_p99_s)} · {cpu}{flag}{capped}")
        rows.append(row)
    return _align(rows)


def plan_text(plan: LoadPlan) -> str:
    """`concurrency 1,2,4 · 32 requests per level · prompt 128 tok · answer 256 tok · SLO ttft=1s`."""
    if plan.mode == "concurrency":
        levels = "concurrency " + ",".join(f"{v:g}" for v in plan.levels)
    else:
        levels = "rate " + ",".join(f"{v:g}" for v in plan.levels) + f" req/s ({plan.arrival})"
    span = f"{plan.requests} requests" if plan.requests is not None else f"{plan.duration_s:g}s"
    parts = [levels, f"{span} per level", f"prompt {plan.prompt_tokens} tok", f"answer {plan.answer_tokens} tok"]
    if plan.workers > 1:
        parts.append(f"{plan.workers} worker processes")
    if plan.slo is not None:
        parts.append(f"SLO {plan.slo}")
    return " · ".join(parts)


def sweep_table(result: SweepResult) -> str:
    """One table per target, then the notes a reader needs (definitions, flags, why a target stopped)."""
    plan = result.plan
    lines = [f"load sweep {result.sweep_id} · {plan_text(plan)}"]
    for sweep in result.targets:
        label = sweep.target + (" (simulated)" if sweep.simulated else "")
        lines += ["", label]
        if sweep.levels:
            lines += target_table(plan, sweep.target, sweep.levels)
        if sweep.error is not None:
            message = " ".join(strip_escapes(str(sweep.error.get("message") or "")).split())
            lines.append(f"stopped: {sweep.error.get('kind', 'error')}: {message}")
    lines += ["", "percentiles over completed requests; tok/s = output tokens of completed requests / level "
              "duration; ITL excludes the first token; errors: 429s counted apart, never retried"]
    if any(level.client.flagged for sweep in result.targets for level in sweep.levels):
        lines.append(f"⚠ the client's event loop lagged over {LAG_FLAG_S * 1000:g}ms p99: its figures may "
                     "understate the target (try --workers)")
    if any(level.capped for sweep in result.targets for level in sweep.levels):
        lines.append(f"(capped): --max-requests {plan.max_requests} stopped the sweep there")
    if result.interrupted:
        lines.append("interrupted: the levels above finished, the rest did not run")
    return "\n".join(lines) + "\n"


def sweep_json(result: SweepResult) -> dict[str, Any]:
    """The `load --json` object (docs/ARCHITECTURE.md, "Load metrics", describes every field)."""
    plan = result.plan
    return {
        "schema": SCHEMA,
        "id": result.sweep_id,
        "started_at": result.started_at,
        "mode": plan.mode,
        "levels": list(plan.levels),
        "arrival": plan.arrival if plan.mode == "rate" else None,
        "requests_per_level": plan.requests,
        "duration_s": plan.duration_s,
        "prompt_tokens": str(plan.prompt_tokens),
        "answer_tokens": str(plan.answer_tokens),
        "slo": plan.slo.to_dict() if plan.slo is not None else None,
        "workers": plan.workers,
        "max_requests": plan.max_requests,
        "interrupted": result.interrupted,
        "targets": [
            {"target": s.target, "simulated": s.simulated, "error": s.error,
             "levels": [level.to_dict() for level in s.levels]}
            for s in result.targets
        ],
    }


def dumps_json(result: SweepResult) -> str:
    return json.dumps(sweep_json(result), ensure_ascii=False) + "\n"


def sweep_csv(result: SweepResult) -> str:
    """A header, then one row per target and level."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for sweep in result.targets:
        for level in sweep.levels:
            data = level.to_dict()
            client = data["client"]
            writer.writerow([csv_cell(v) for v in (
                sweep.target, level.mode, level.level, level.requests, level.completed, level.failed,
                level.rate_limited, " ".join(f"{k}={n}" for k, n in level.errors.items()), level.duration_s,
                level.request_throughput, level.output_tps, level.output_tokens, level.tokens_exact,
                level.ttft_s.get("p50"), level.ttft_s.get("p90"), level.ttft_s.get("p99"),
                level.itl_s.get("p50"), level.itl_s.get("p99"), level.e2e_s.get("p50"), level.e2e_s.get("p99"),
                level.goodput_rps, level.good, client["lag_p99_ms"], client["cpu_pct"], client["workers"],
                client["flagged"], level.capped,
            )])
    return out.getvalue()
