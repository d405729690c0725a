"""Load sweeps: how a target holds up under concurrency or a request rate, measured as serving benchmarks do.

Never imports Textual: `botticelli load` and the TUI's Load screen are two faces of this package. Modules:
`schedule` (levels, arrivals, request lengths), `metrics` (per-request records to a level's figures: the one
definition of every load metric, see "Load metrics" in docs/ARCHITECTURE.md), `health` (the client's own
event-loop lag and CPU), `share` (one process's streams and records), `runner` (LoadPlan, LoadRunner,
SweepResult), `workers` (the `--workers` process side), `report` (table, JSON, CSV), `store` (sweeps kept in
the data folder), `quota` (last known rate limits and the confirmation guard), `chart` (the curves, plotext).
"""
