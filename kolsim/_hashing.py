"""Content hashes of a scenario and of a pool, for provenance."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pandas as pd

from .scenario import Scenario


def pool_hash(pool, digits: int = 16) -> str:
    """SHA-256 of a pool's validated table (not its file's formatting), first ``digits`` hex digits."""
    csv = pool.frame.to_csv(index=False, lineterminator="\n")
    return hashlib.sha256(csv.encode()).hexdigest()[:digits]


def _plain(obj):
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        if hasattr(obj, "frame") and isinstance(obj.frame, pd.DataFrame):  # a Pool
            return {"pool_sha256": pool_hash(obj, 64)}
        return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)
                if f.name not in ("source", "notices")}
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 of the scenario's content (not its file name or formatting), first 16 hex digits."""
    text = json.dumps(_plain(scenario), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
