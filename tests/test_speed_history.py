"""Speed history on a seeded store: known figures give known percentiles, windows and sources select the
right answers, damaged rows do no harm, and `botticelli speed` prints them as a table, JSON, CSV and charts."""

from __future__ import annotations

import argparse
import csv
import io
import json
from datetime import UTC, datetime

import pytest

from botticelli.commands import speed as command
from botticelli.history import Window, load, parse_since, percentile, series, summarize
from botticelli.history.races import list_races, load_race
from botticelli.sessions import SessionStore
from helpers_speed import Answer, seed_answers, seed_race

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
GROQ = "groq:llama-3.1-8b-instant"
HF = "hf:meta-llama/Llama-3.3-70B-Instruct:cerebras"
EVIL = "\x1b]52;c;cHduZWQ=\x07\x1b[2J"


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="botticelli")
    command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["speed", *argv])
    return args.run(args)


@pytest.fixture
def store() -> SessionStore:
    """Groq: TTFT 0.1..1.0 s and decode 100..1000 tok/s, ten answers on Dec 3; HF: two answers on Dec 4 (one
    estimated), one rate-limited and one cancelled; a race on Dec 4; an old groq answer on Nov 1."""
    with SessionStore.open() as db:
        answers = [
            Answer(GROQ, f"2026-12-03T10:{i:02d}:00Z", ttft_s=i / 10, decode_tps=100.0 * i) for i in range(1, 11)
        ]
        answers += [
            Answer(GROQ, "2026-11-01T09:00:00Z", ttft_s=9.0, decode_tps=1.0),
            Answer(HF, "2026-12-04T08:00:00Z", ttft_s=0.5, decode_tps=2000.0),
            Answer(HF, "2026-12-04T09:00:00Z", ttft_s=0.7, decode_tps=1000.0, exact=False),
            Answer(HF, "2026-12-04T09:30:00Z", error="rate_limit"),
            Answer(HF, "2026-12-04T09:40:00Z", ttft_s=0.3, decode_tps=5.0, finish="cancelled"),
        ]
        seed_answers(db, answers)
        seed_race(db, "race1", "2026-12-04T11:00:00Z", "Explain caches",
                  [("demo:demo-fast", 1, 0.1, 900.0), ("demo:demo-slow", 1, 0.5, 60.0),
                   ("demo:demo-fast", 2, 0.3, 700.0), ("demo:demo-slow", 2, None, None)])
        yield db


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([5.0], 99) == 5.0
    assert percentile([0.1 * i for i in range(1, 11)], 90) == pytest.approx(0.91)
    with pytest.raises(ValueError):
        percentile([], 50)


def test_known_figures_give_known_percentiles(store: SessionStore) -> None:
    history = load(store, Window(since=datetime(2026, 12, 1, tzinfo=UTC), source="chat"))
    groq, hf = summarize(history.samples)
    assert groq.target == GROQ and groq.count == groq.ok == 10  # the November answer is outside the window
    assert groq.ttft_s == pytest.approx({"p50": 0.55, "p90": 0.91, "p99": 0.991})
    assert groq.decode_tps == pytest.approx({"p50": 550.0, "p90": 910.0})
    assert groq.tokens_exact and groq.estimated == 0
    assert hf.count == 4 and hf.ok == 2 and hf.errors == {"rate_limit": 1} and hf.cancelled == 1
    assert hf.decode_tps == pytest.approx({"p50": 1500.0, "p90": 1900.0})  # the cancelled answer is left out
    assert hf.estimated == 1 and not hf.tokens_exact
    assert hf.cost_usd is None and "cost_usd" not in hf.to_dict()


def test_sources_targets_and_windows(store: SessionStore) -> None:
    everything = load(store, Window())
    assert len(everything.samples) == 19 and everything.targets()[0] == "demo:demo-fast"
    races = load(store, Window(source="race"))
    assert {s.source for s in races.samples} == {"race"} and len(races.samples) == 4
    slow = summarize(races.samples)[1]
    assert slow.target == "demo:demo-slow" and slow.errors == {"timeout": 1} and slow.ok == 1
    by_profile = load(store, Window(targets=("hf",)))
    assert {s.target for s in by_profile.samples} == {HF}
    exact = load(store, Window(targets=(GROQ, "demo:demo-fast")))
    assert {s.target for s in exact.samples} == {GROQ, "demo:demo-fast"} and len(exact.samples) == 13
    assert [s.at for s in exact.samples] == sorted(s.at for s in exact.samples)
    assert load(store, Window(targets=("groq:llama",))).samples == []  # a model prefix is not a match
    assert not load(store, Window(), limit=19).truncated


def test_the_newest_samples_are_kept_when_capped(store: SessionStore) -> None:
    newest = load(store, Window(), limit=3)
    assert newest.truncated
    assert [s.at for s in newest.samples] == ["2026-12-04T11:00:00Z"] * 3


def test_series_by_day(store: SessionStore) -> None:
    buckets = series(load(store, Window(since=datetime(2026, 12, 1, tzinfo=UTC))).samples, "day")
    assert [(b.start, b.target) for b in buckets] == [
        ("2026-12-03", GROQ), ("2026-12-04", "demo:demo-fast"), ("2026-12-04", "demo:demo-slow"), ("2026-12-04", HF),
    ]
    assert buckets[0].ttft_band == pytest.approx({"p10": 0.19, "p50": 0.55, "p90": 0.91})
    assert buckets[0].to_dict()["day"] == "2026-12-03"
    hours = series(load(store, Window(targets=(HF,))).samples, "hour")
    assert [b.start for b in hours] == ["2026-12-04T08", "2026-12-04T09"]


def test_parse_since() -> None:
    assert parse_since("7d", NOW) == datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert parse_since("90m", NOW) == datetime(2026, 12, 4, 10, 30, tzinfo=UTC)
    assert parse_since("2026-12-01") == datetime(2026, 12, 1, tzinfo=UTC)
    for bad in ("yesterday", "7x", "-3d", "99999999d"):
        with pytest.raises(ValueError):
            parse_since(bad, NOW)


def test_damaged_rows_are_unknown_not_a_crash(store: SessionStore) -> None:
    session = store.create_session()
    for stats in ('{"ttft_s": "fast", "decode_tps": -3}', "not json", '{"ttft_s": 1e400}', "[1, 2]"):
        store._conn.execute(
            "INSERT INTO messages (session_id, seq, role, content, profile, model, finish_reason, stats, created_at)"
            " VALUES (?, (SELECT coalesce(max(seq), 0) + 1 FROM messages WHERE session_id = ?), 'assistant', '',"
            " 'bad', 'm', 'stop', ?, '2026-12-04T10:00:00Z')",
            (session.id, session.id, stats),
        )
    store._conn.execute(
        "INSERT INTO bench_runs (race_id, created_at, prompt, target, run, stats, error)"
        " VALUES ('broken', '2026-12-04T10:00:00Z', 'p', 'bad:m', 1, '{\"decode_tps\": \"x\"}', '{\"kind\": \"a b\"}')"
    )
    (bad,) = summarize(load(store, Window(targets=("bad",))).samples)
    assert bad.count == 5 and bad.ok == 4 and bad.errors == {"error": 1}
    assert bad.ttft_s is None and bad.decode_tps is None
    race = load_race(store, "broken")
    assert race is not None and race.runs[0].error == {"kind": "error", "message": ""}


def test_stored_races_read_back(store: SessionStore) -> None:
    seed_race(store, "race2", "2026-12-04T11:30:00Z", "Other", [("a:x", 1, 0.2, 100.0), ("b:y", 1, 0.1, 300.0)])
    newest, older = list_races(store)
    assert newest.race_id == "race2" and newest.targets == ("a:x", "b:y") and newest.winner == "b:y"
    assert older.prompt == "Explain caches" and older.targets == ("demo:demo-fast", "demo:demo-slow")
    assert older.runs_per_target == 2 and older.winner == "demo:demo-fast"
    fast = older.summaries[0]
    assert fast.median("decode_tps") == 800.0 and fast.ok == 2
    assert load_race(store, "nope") is None


def test_cli_table(store: SessionStore, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("--since", "2026-12-01", "--source", "chat") == 0
    heading, header, groq, hf, note = capsys.readouterr().out.splitlines()
    assert heading.startswith("speed history · since 2026-12-01 00:00 UTC · chat answers · 14 answers")
    assert header.split()[:4] == ["TARGET", "N", "OK", "TTFT"]
    assert groq.split()[:9] == [GROQ, "10", "10", "550ms", "910ms", "991ms", "550", "910", "100"]
    assert hf.split()[:9] == [HF, "4", "2", "600ms", "680ms", "698ms", "~1,500", "~1,900", "~100"]
    assert hf.endswith("rate_limit 1, cancelled 1")
    assert note.startswith("~ decode speed partly from estimated token counts") and "1 of the answers" in note


def test_cli_json_csv_and_by_day(store: SessionStore, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("--since", "all", "--target", GROQ, "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["window"] == {"since": None, "until": None, "source": "all", "targets": [GROQ]}
    (groq,) = data["targets"]
    assert groq["count"] == 11 and groq["ttft_s"]["p50"] == pytest.approx(0.6) and groq["tokens_exact"] is True

    assert cli("--since", "all", "--source", "race", "--csv") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["target"] for r in rows] == ["demo:demo-fast", "demo:demo-slow"]
    assert rows[0]["decode_p50_tps"] == "800.0" and rows[1]["errors"] == "timeout=1"

    assert cli("--since", "all", "--target", HF, "--by", "hour", "--json") == 0
    series_items = json.loads(capsys.readouterr().out)["series"]
    assert [(i["hour"], i["count"]) for i in series_items] == [("2026-12-04T08", 1), ("2026-12-04T09", 3)]

    assert cli("--since", "all", "--by", "day") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[:2] == ["DAY", "TARGET"] and lines[2].startswith("2026-11-01  " + GROQ)


def test_cli_shows_cost_only_when_stored(capsys: pytest.CaptureFixture[str]) -> None:
    with SessionStore.open() as db:
        seed_answers(db, [Answer(GROQ, "2026-12-04T08:00:00Z", extra={"cost_usd": 0.0012, "cost_estimated": False}),
                          Answer(GROQ, "2026-12-04T08:01:00Z", extra={"cost_usd": 0.0030, "cost_estimated": False}),
                          Answer(HF, "2026-12-04T08:02:00Z", extra={"cost_usd": 0.5, "cost_estimated": True}),
                          Answer(HF, "2026-12-04T08:03:00Z", extra={"cost_usd": "free"})])
    assert cli("--since", "all") == 0
    header, groq, hf = capsys.readouterr().out.splitlines()[1:4]
    assert header.endswith("COST $") and groq.endswith(" 0.0042") and hf.endswith(" ~0.5000")
    assert cli("--since", "all", "--json") == 0
    groq_item, hf_item = json.loads(capsys.readouterr().out)["targets"]
    assert groq_item["cost_usd"] == pytest.approx(0.0042) and groq_item["cost_estimated"] is False
    assert hf_item["cost_usd"] == pytest.approx(0.5) and hf_item["cost_estimated"] is True


def test_cli_plot_draws_three_charts(store: SessionStore, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("--since", "all", "--plot") == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out  # not a terminal: no colours
    assert "decode tok/s, higher is faster" in out and "TTFT (s), lower is faster" in out
    assert "TTFT (s): how many answers" in out and GROQ in out


def test_cli_errors_are_one_line(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    assert cli("--since", "lately") == 2
    assert capsys.readouterr().err.strip() == (
        "error: --since: 'lately' is not a window: use 30m, 24h, 7d, 2w or a date like 2026-12-01"
    )
    assert cli() == 0
    captured = capsys.readouterr()
    assert "0 answers" in captured.out and "no measured answers in this window" in captured.err
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "sessions.db").write_bytes(b"not a database at all")
    assert cli() == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "not a sessions database" in err


def test_target_names_are_printed_without_escapes(capsys: pytest.CaptureFixture[str]) -> None:
    with SessionStore.open() as db:
        seed_answers(db, [Answer(f"evil:m{EVIL}", "2026-12-04T08:00:00Z")])
    assert cli("--since", "all") == 0
    assert "\x1b" not in capsys.readouterr().out
    assert cli("--since", "all", "--plot") == 0
    assert "\x1b" not in capsys.readouterr().out



def test_until_is_included(store: SessionStore) -> None:
    window = Window(until=datetime(2026, 12, 3, 10, 5, tzinfo=UTC), targets=(GROQ,))
    assert [s.at for s in load(store, window).samples][-2:] == ["2026-12-03T10:04:00Z", "2026-12-03T10:05:00Z"]
    assert len(load(store, window).samples) == 6  # November, then 10:01 to 10:05


def test_a_published_figure_is_drawn_as_a_reference_line(store: SessionStore) -> None:
    import plotext as plt

    from botticelli.history.charts import built, draw_over_time

    buckets = series(load(store, Window(targets=(GROQ,))).samples, "day")
    assert draw_over_time(plt, buckets, "decode_tps", [GROQ], {GROQ: {"decode_tps": 1200.0}}) == 1
    assert f"{GROQ} published" in plt.uncolorize(built(plt, 100, 20))
    assert draw_over_time(plt, buckets, "decode_tps", [GROQ]) == 1
    assert "published" not in plt.uncolorize(built(plt, 100, 20))


def test_published_figures_from_the_hf_router_models_list(fixtures_dir) -> None:
    from botticelli.history.reference import references_from_models

    payload = json.loads((fixtures_dir / "hf_router_models_sample.json").read_text(encoding="utf-8"))
    refs = references_from_models("huggingface", payload)
    assert refs["huggingface:deepseek-ai/DeepSeek-R1:together"] == pytest.approx(
        {"decode_tps": 48.25, "ttft_s": 0.2205})
    assert "huggingface:deepseek-ai/DeepSeek-R1:deepinfra" not in refs  # status "error": no figures
    hostile = {"data": [{"id": "m", "providers": [
        {"provider": "p", "throughput": "fast", "first_token_latency_ms": -5},
        {"provider": "q", "throughput": float("nan"), "first_token_latency_ms": 120},
        "not a provider", {"provider": 7, "throughput": 10}]}, "junk", {"id": 3}]}
    assert references_from_models("hf", hostile) == {"hf:m:q": {"ttft_s": 0.12}}
    assert references_from_models("hf", ["not", "a", "body"]) == {}
