"""The layering docs/design.md promises holds in the code.

The "Layers" table of docs/design.md gives every module a layer; every import of every module
(at the top or inside a function) must go to a lower layer, every module must be in the table,
and only the modules the module map says open files call ``open`` or write to the file system.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "kolsim"


def _layers() -> dict[str, int]:
    text = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    section = text.split("### Layers", 1)[1].split("### Module map", 1)[0]
    out: dict[str, int] = {}
    for m in re.finditer(r"^\| (\d+) \| ([^|]+) \|", section, re.MULTILINE):
        for name in re.findall(r"`([^`]+)`", m.group(2)):
            assert name not in out, f"{name} is in two layers"
            out[name] = int(m.group(1))
    return out


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) or "kolsim"


def _imports(path: Path) -> set[str]:
    """Every kolsim module ``path`` imports, as names relative to the package (``optimize.verify``)."""
    me = _module(path)
    package = me if path.name == "__init__.py" else (me.rsplit(".", 1)[0] if "." in me else "")
    if me == "kolsim":
        package = ""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".") if package else []
            base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
            if node.module:
                found.add(".".join(base + [node.module]))
            else:
                found.update(".".join(base + [a.name]) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "kolsim":
            found.add(node.module[len("kolsim."):] if "." in node.module else "kolsim")
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "kolsim":
                    found.add(a.name[len("kolsim."):] if "." in a.name else "kolsim")
    return {_known(name) for name in found} - {me}


def _known(name: str) -> str:
    """A module name as the table lists it: a function imported from a package is its package."""
    layers = _layers()
    while name not in layers and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer():
    layers = _layers()
    missing = sorted(_module(p) for p in MODULES if _module(p) not in layers)
    assert not missing, f"modules not in docs/design.md's Layers table: {missing}"
    gone = sorted(set(layers) - {_module(p) for p in MODULES})
    assert not gone, f"the Layers table names modules that do not exist: {gone}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _module(p))
def test_imports_only_go_to_lower_layers(path):
    layers = _layers()
    me = _module(path)
    upward = sorted(f"{name} (layer {layers[name]})" for name in _imports(path)
                    if name in layers and layers[name] >= layers[me])
    assert not upward, f"{me} (layer {layers[me]}) imports from its own layer or above: {upward}"


#: Modules that open files, and why (the module map of docs/design.md says the same).
OPENS_FILES = {
    "io": "a user's files, in and out",
    "optimize.export": "PuLP's model file, in a private temporary directory",
    "engines._common": "/proc/meminfo, for the memory available",
    "optimize.backends": "/dev/null, where HiGHS's banner goes",
    "cli": "/dev/null, for stdout after a broken pipe",
}
_PATH_CALLS = {"write_text", "write_bytes", "mkdir", "unlink", "rmtree", "touch"}
_MODULE_CALLS = {"os": {"open", "rename", "replace", "remove", "unlink", "mkdir", "makedirs", "rmdir"},
                 "shutil": {"rmtree", "move", "copy", "copyfile"},
                 "tempfile": {"mkstemp", "mkdtemp", "TemporaryDirectory", "NamedTemporaryFile"}}


def _file_calls(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Name) and f.id == "open":
            out.add("open")
        elif isinstance(f, ast.Attribute):
            owner = f.value.id if isinstance(f.value, ast.Name) else None
            if owner in _MODULE_CALLS and f.attr in _MODULE_CALLS[owner]:
                out.add(f"{owner}.{f.attr}")
            elif f.attr in _PATH_CALLS:
                out.add(f.attr)
    return out


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _module(p))
def test_only_the_file_modules_touch_files(path):
    if _module(path) in OPENS_FILES:
        return
    calls = sorted(_file_calls(path))
    assert not calls, f"{_module(path)} calls {calls}: files are io's (docs/design.md, module map)"


def test_the_file_modules_are_the_ones_that_do():
    """The list above is not wider than needed: each of its modules does open something."""
    by_name = {_module(p): p for p in MODULES}
    assert all(_file_calls(by_name[name]) for name in OPENS_FILES)


def test_nothing_imports_the_package_surface_but_the_cli():
    """kolsim/__init__.py is the top: a module importing it would call back upstream."""
    users = sorted(_module(p) for p in MODULES if "kolsim" in _imports(p) and _module(p) != "kolsim")
    assert users == ["cli"], users
