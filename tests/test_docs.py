"""The documentation stays in step with the code.

- docs/api.md documents exactly ``kolsim.__all__`` (one "### `name`" heading each);
- docs/scenarios.md names every scenario key and every pool column;
- every ```python block of docs/api.md runs.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import pytest

import kolsim
from kolsim.pool import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, TEXT_COLUMNS
from kolsim.scenario import _TABLE_KEYS

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

_HEADING = re.compile(r"^###\s+`([^`]+)`\s*$", re.MULTILINE)
_PYTHON_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def _read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def _code_spans(text: str) -> set[str]:
    """Everything written in backticks, e.g. `budget`."""
    return set(re.findall(r"`([^`\n]+)`", text))


def test_api_md_documents_exactly_all():
    documented = _HEADING.findall(_read("api.md"))
    assert len(documented) == len(set(documented)), "a name is documented twice in docs/api.md"
    assert set(documented) == set(kolsim.__all__), (
        f"missing from docs/api.md: {sorted(set(kolsim.__all__) - set(documented))}; "
        f"documented but not in kolsim.__all__: {sorted(set(documented) - set(kolsim.__all__))}")


def test_scenarios_md_names_every_scenario_key():
    spans = _code_spans(_read("scenarios.md"))
    missing = sorted({f"[{table}] {key}" if table else key
                      for table, keys in _TABLE_KEYS.items() for key in keys
                      if key not in spans})
    assert not missing, f"keys not documented (in backticks) in docs/scenarios.md: {missing}"


def test_scenarios_md_names_every_pool_column():
    spans = _code_spans(_read("scenarios.md"))
    columns = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS) | set(TEXT_COLUMNS)
    missing = sorted(columns - spans)
    assert not missing, f"pool columns not documented (in backticks) in docs/scenarios.md: {missing}"


def _api_blocks() -> list[tuple[int, str]]:
    text = _read("api.md")
    return [(text[:m.start()].count("\n") + 1, m.group(1)) for m in _PYTHON_BLOCK.finditer(text)]


def test_api_md_has_examples():
    # one example per public name at least (and the opening example)
    assert len(_api_blocks()) > len(kolsim.__all__)


@pytest.mark.parametrize("line,code", _api_blocks(), ids=lambda v: f"line{v}" if isinstance(v, int) else "")
def test_api_md_example_runs(line, code, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)  # examples use paths relative to the repository root
    matplotlib.use("Agg")
    namespace = {"__name__": f"docs_api_md_line_{line}"}
    try:
        exec(compile(code, f"docs/api.md:{line}", "exec"), namespace)
    finally:
        import matplotlib.pyplot as plt
        plt.close("all")
