"""All layout lives in .tcss files (never in DEFAULT_CSS or inline CSS), and every .tcss file parses."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest
from textual.app import App
from textual.css.stylesheet import Stylesheet

import botticelli

PACKAGE = Path(botticelli.__file__).parent
ROOT = PACKAGE.parent.parent
TCSS = sorted(PACKAGE.rglob("*.tcss"))


def _class_css(path: Path) -> list[str]:
    """`Class.DEFAULT_CSS` / `Class.CSS` assignments in one module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                targets = item.targets if isinstance(item, ast.Assign) else []
                if isinstance(item, ast.AnnAssign):
                    targets = [item.target]
                found += [f"{path.name}: {node.name}.{t.id}" for t in targets
                          if isinstance(t, ast.Name) and t.id in ("DEFAULT_CSS", "CSS")]
    return found


def test_no_css_in_python_modules() -> None:
    offenders = [hit for path in sorted(PACKAGE.rglob("*.py")) for hit in _class_css(path)]
    assert offenders == [], "move these styles into a .tcss file"


@pytest.mark.parametrize("path", TCSS, ids=lambda p: p.name)
def test_stylesheet_parses(path: Path) -> None:
    stylesheet = Stylesheet(variables=App().get_css_variables())  # the theme's $variables
    stylesheet.read(path)
    stylesheet.parse()
    assert stylesheet.rules, f"{path.name} has no rules"


def test_stylesheets_are_packaged() -> None:
    assert {p.name for p in TCSS} >= {"botticelli.tcss", "race.tcss"}
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "**/*.tcss" in pyproject["tool"]["setuptools"]["package-data"]["botticelli"]
