"""Plain-text views of a race for the terminal: a progress line per run and the summary table."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from botticelli import format as fmt
from botticelli.bench.runner import BenchResult, RunResult
from botticelli.bench.summary import NO_WINNER_RULE, Spread, TargetSummary, star_figure, summarize, winner
from botticelli.safety import strip_escapes
from botticelli.stats import MIN_DECODE_SPAN_S

WINNER_MARK = "★"
SIMULATED = "(simulated)"
FIGURE_NAMES = {"decode_tps": "decode", "ttft_s": "TTFT"}


def ratio_text(ratio: float | None, slowest: bool) -> str:
    """`13.4× faster`, `slowest`, `—`."""
    if ratio is None:
        return "—"
    if slowest:
        return "slowest"
    return f"{ratio:.1f}× faster"


def failure_text(result: BenchResult, label: str) -> str | None:
    """The target's first error with what to do: `auth: no API key for profile 'groq' (set GROQ_API_KEY)`."""
    failure = result.first_error(label)
    if failure is None or failure.error is None:
        return None
    text = fmt.error_dict_line(failure.error)
    if failure.hint:
        text += f" ({strip_escapes(failure.hint)})"
    return " ".join(text.split())


def no_decode_text(target: str, compared: bool) -> str:
    """Why a target has no decode tok/s, and what it was still compared on."""
    text = (f"{target}: no decode tok/s: its answers were too short to time (one token, or first to last token "
            f"within {MIN_DECODE_SPAN_S * 1000:.0f} ms)")
    return text + ("; compared on TTFT" if compared else "")


def progress_line(result: RunResult, done: int, total: int) -> str:
    """`[3/10] groq:llama-3.1-8b-instant run 2: TTFT 0.21s · 840 tok/s · 256 tok` (warm-ups: `[warm-up]`)."""
    head = "[warm-up]" if result.warmup else f"[{done}/{total}]"
    what = f"{head} {result.target}" + ("" if result.warmup else f" run {result.run}")
    if result.ok and result.stats is not None:
        tail = fmt.short_line(result.stats) + (" (retried: left out of the medians)" if result.retried else "")
    else:
        tail = "failed: " + fmt.error_dict_line(result.error)
    return f"{what}: {tail}"


def _spread_text(value: Spread | None, fmt: Callable[[float | None], str], unit: str = "") -> str:
    """`806 (799–835)`, `0.201s (0.200–0.203, p90 0.202)`: median, then (min–max[, p90])."""
    if value is None:
        return "—"
    text = fmt(value.median) + unit
    if value.n > 1:
        text += f" ({fmt(value.min)}–{fmt(value.max)}"
        text += f", p90 {fmt(value.p90)})" if value.p90 is not None else ")"
    return text


def _ttft(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _row(s: TargetSummary, runs: int, best: str | None, slowest_decode: str | None,
         slowest_ttft: str | None, compare: bool, failure: str | None) -> list[str]:
    label = f"{s.target} {SIMULATED}" if s.simulated else s.target
    mark = WINNER_MARK if s.target == best else " "
    tokens = s.completion_tokens
    token_cell = "—" if tokens is None else ("" if s.tokens_exact else "~") + f"{tokens.median:.0f}"
    row = [mark, label, f"{s.ok}/{runs}"]
    if s.ok == 0:
        return [*row, "failed: " + (failure or fmt.error_dict_line(s.error))]
    row += [
        _spread_text(s.figures.get("ttft_s"), _ttft, "s"),
        _spread_text(s.figures.get("decode_tps"), fmt.rate),
        fmt.rate(s.median("e2e_tps")),
        fmt.rate(s.median("server_tps")),
        token_cell,
    ]
    if compare:
        row += [
            ratio_text(s.decode_ratio_to_slowest, s.target == slowest_decode),
            ratio_text(s.ttft_ratio_to_slowest, s.target == slowest_ttft),
        ]
    return row


def _slowest(summaries: Sequence[TargetSummary], figure: str, highest: bool) -> str | None:
    scored = [(m, s.target) for s in summaries if (m := s.median(figure)) is not None]
    if len(scored) < 2:
        return None
    return (max(scored) if highest else min(scored))[1]


def _align(rows: list[list[str]]) -> list[str]:
    full = [r for r in rows if len(r) == len(rows[0])]
    widths = [max(len(r[i]) for r in full) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        if len(row) == len(widths):
            cells = [cell.ljust(widths[i]) for i, cell in enumerate(row)]
        else:
            cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])] + [row[-1]]
        lines.append("  ".join(cells).rstrip())
    return lines


def summary_table(result: BenchResult) -> str:
    """The race as a table: per target ok/runs, median TTFT and decode tok/s (min–max), e2e, server tok/s,
    tokens (exact, or `~` estimated) and "N.N× faster" than the slowest; the decode winner is starred (the TTFT
    winner when fewer than two targets have a decode figure: answers too short to time)."""
    plan = result.plan
    summaries = summarize(result.runs, plan.labels, result.simulated)
    judged_on = star_figure(summaries)
    best = winner(summaries, judged_on) if judged_on else None
    compare = judged_on is not None
    header = ["", "target", "ok", "TTFT", "decode tok/s", "e2e tok/s", "server tok/s", "tokens"]
    if compare:
        header += ["decode vs slowest", "TTFT vs slowest"]
    slow_decode = _slowest(summaries, "decode_tps", highest=False)
    slow_ttft = _slowest(summaries, "ttft_s", highest=True)
    rows = [header] + [
        _row(s, plan.runs, best, slow_decode, slow_ttft, compare, failure_text(result, s.target))
        for s in summaries
    ]
    mode = "concurrent" if plan.concurrent else "sequential"
    warm = f" after {plan.warmup} warm-up" + ("s" if plan.warmup != 1 else "") if plan.warmup else ", no warm-up"
    title = (f"race {result.race_id} · {len(plan.targets)} target{'s' if len(plan.targets) != 1 else ''} · "
             f"{plan.runs} run{'s' if plan.runs != 1 else ''} each{warm} · {mode} · max_tokens {plan.max_tokens} · "
             "temperature 0")
    notes = ["medians over successful runs, (min–max); decode tok/s excludes TTFT, e2e tok/s includes it; "
             "~ = estimated token count"]
    if best is not None:
        notes.append(f"{WINNER_MARK} fastest {FIGURE_NAMES[judged_on or '']}: {best}")
    elif compare:
        notes.append(f"no clear winner: the {FIGURE_NAMES[judged_on or '']} difference is within the runs' spread "
                     f"({NO_WINNER_RULE})")
    for s in summaries:
        if s.retried:
            notes.append(f"{s.target}: {s.retried} retried run(s) left out of the medians")
        if s.failed and s.ok:
            notes.append(f"{s.target}: {s.failed} run(s) failed ({fmt.error_dict_line(s.error)})")
        if s.ok and s.median("decode_tps") is None:
            notes.append(no_decode_text(s.target, compared=compare))
        if s.estimated_runs and not s.tokens_exact:
            notes.append(f"{s.target}: token counts estimated in {s.estimated_runs} run(s) (no usage from the server)")
    return "\n".join([title, "", *_align(rows), "", *notes]) + "\n"
