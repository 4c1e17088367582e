from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

import kolsim

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))


@pytest.fixture(autouse=True)
def _run_from_root(monkeypatch):
    """Doc examples and tests use paths relative to the repository root."""
    monkeypatch.chdir(ROOT)


def scenario_from_toml(text: str, tmp_path: Path | None = None, name: str = "s.toml"):
    """Parse scenario text through the same loader users hit."""
    if tmp_path is None:
        return kolsim.parse_scenario(tomllib.loads(text), source=name)
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return kolsim.load_scenario(p)


@pytest.fixture
def root() -> Path:
    return ROOT
