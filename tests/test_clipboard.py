"""The clipboard tool choice (faked PATH and display variables) and what the user is told (item 13)."""

from __future__ import annotations

from pathlib import Path

from botticelli.clipboard import ClipboardTool, copy_out, find_tool, run_tool
from helpers_clipboard import fake_tool


def test_no_tool_on_the_path_means_none(tmp_path: Path) -> None:
    assert find_tool({"PATH": str(tmp_path), "DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}) is None


def test_x11_tools_need_a_display_and_wayland_comes_first(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    for name in ("xclip", "xsel", "wl-copy"):
        fake_tool(bin_dir, name)
    assert find_tool({"PATH": str(bin_dir)}) is None
    tool = find_tool({"PATH": str(bin_dir), "DISPLAY": ":0"})
    assert tool is not None and tool.name == "xclip" and tool.argv[1:] == ("-selection", "clipboard", "-in")
    tool = find_tool({"PATH": str(bin_dir), "DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"})
    assert tool is not None and tool.name == "wl-copy"
    (bin_dir / "xclip").unlink()
    tool = find_tool({"PATH": str(bin_dir), "DISPLAY": ":0"})
    assert tool is not None and tool.name == "xsel"


def test_pbcopy_needs_no_display(tmp_path: Path) -> None:
    fake_tool(tmp_path, "pbcopy")
    tool = find_tool({"PATH": str(tmp_path)})
    assert tool is not None and tool.name == "pbcopy"


def test_the_tool_gets_the_text_and_the_user_is_told_which(tmp_path: Path) -> None:
    fake_tool(tmp_path, "xclip")
    confirmed, message = copy_out("héllo\nworld", "the last answer (11 characters)",
                                  {"PATH": str(tmp_path), "DISPLAY": ":0"})
    assert confirmed and message == "Copied the last answer (11 characters) with xclip."
    assert (tmp_path / "xclip.out").read_text(encoding="utf-8") == "héllo\nworld"


def test_without_a_tool_the_user_is_told_it_went_to_the_terminal_only(tmp_path: Path) -> None:
    confirmed, message = copy_out("x", "the last code block (1 line)", {"PATH": str(tmp_path)})
    assert not confirmed
    assert message.startswith("Sent the last code block (1 line) to the terminal's clipboard (OSC 52)")
    assert "Copied" not in message and "No wl-copy, xclip, xsel or pbcopy" in message


def test_a_failing_tool_is_reported_with_its_own_words(tmp_path: Path) -> None:
    fake_tool(tmp_path, "xsel", "sys.stderr.write('\\x1b[31mcannot open display\\n'); sys.exit(1)")
    confirmed, message = copy_out("x", "the last answer (1 characters)", {"PATH": str(tmp_path), "DISPLAY": ":0"})
    assert not confirmed and "xsel failed (cannot open display)" in message and "\x1b" not in message
    assert "OSC 52" in message


def test_a_hanging_tool_is_given_up_on(tmp_path: Path) -> None:
    tool = fake_tool(tmp_path, "xclip", "import time; time.sleep(30)")
    assert run_tool(ClipboardTool("xclip", (str(tool),)), "x", timeout=0.5) == "xclip did not answer within 0.5 s"
