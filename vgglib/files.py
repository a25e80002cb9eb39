"""Files written once, whole: every JSON record, checkpoint and cache of the project goes
through :func:`atomic_write`, so a kill mid-write never leaves half a file behind."""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import torch


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write`` on a temporary file beside ``path``, then rename it over ``path``: a kill
    never leaves half a file, and concurrent writers (DDP ranks) each use their own."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    write(tmp)
    os.replace(tmp, path)


def save_tensor(path: Path, obj: object) -> None:
    """``torch.save`` atomically (checkpoints, cached posteriors and features)."""
    atomic_write(path, lambda tmp: torch.save(obj, tmp))


def write_json(path: Path, obj: object) -> None:
    """Write JSON atomically, sorted and indented so identical records give identical files."""
    atomic_write(path, lambda tmp: tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=list)))
