"""The Textual TUI. `APP_CSS` is the stylesheet of the app and of every widget outside the race screen."""

from pathlib import Path

APP_CSS = Path(__file__).with_name("botticelli.tcss")
