"""What the optimizer benchmarks share: one measured run in a child process, and how a
figure that may be missing is printed."""

from __future__ import annotations

import json
import subprocess
import sys


def run_child(script: str, *args, timeout: float) -> dict:
    """``script --one ARGS`` in a fresh interpreter (clean peak memory; a stuck solver cannot
    take the benchmark down): the JSON of its last output line, or ``{"error": ...}``."""
    cmd = [sys.executable, script, "--one", *map(str, args)]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish in {timeout:.0f} s"}
    if r.returncode != 0:
        return {"error": (r.stderr.strip().splitlines() or ["failed"])[-1][:300]}
    return json.loads(r.stdout.strip().splitlines()[-1])


def fmt(v, spec=".2f", none="–"):
    return none if v is None else format(v, spec)
