"""The headless chat core: one engine under the TUI and the CLI (never imports Textual).

- `conversation`: `Conversation` (settings + exchanges), `ChatSettings`, `Exchange`, the parameter rules;
- `turn`: `Turn`, the turn runner: request → client → stream → typed `events` → recording;
- `network`: `NetworkThread`, the asyncio loop in its own thread where the TUI's turns run, and `TurnFeed`;
- `pool`: `ClientPool` (one client per profile) and `ModelCatalog` (each profile's chat models);
- `recording`: `SessionKeeper`, which records conversations into the session store and loads them back;
- `meters`: `SteppedMeter`, a speed meter with a fixed-step clock for reproducible screenshots.

Submodules are imported where used (`from botticelli.chat.turn import Turn`), so `botticelli --help` stays light.
"""
