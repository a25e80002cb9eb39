"""Shared pieces of the benchmark sections: timing, thread settings and the report's shape
(the report holds sections in a fixed order; a section holds tables; a table holds rows and the
unit of every numeric column)."""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch

#: The report's sections, in order, by their key in bench.json (the keys the book's page reads).
SECTIONS = ("throughput", "torchvision", "fast_paths", "eval_cost", "pipeline", "memory", "limits")


def seconds(fn: Callable[[], object]) -> float:
    """Wall time of one call of ``fn``, in seconds."""
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def median(values: list[float]) -> float:
    """The median, the figure every section reports for its repeats."""
    return statistics.median(values)


@contextmanager
def threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` intra-op threads (None: unchanged), restoring the setting after."""
    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def table(caption: str, units: dict[str, str], rows: list[dict]) -> dict:
    """One table of a section: ``units`` names the unit of each numeric column."""
    return {"caption": caption, "units": units, "rows": rows}


def section(key: str, title: str, settings: dict, tables: list[dict], notes: list[str],
            started: float) -> dict:
    """The report's section ``key`` (one of SECTIONS), with its settings, notes and wall time; its
    title is numbered by the section's place in the report, so bench.md reads in order."""
    number = SECTIONS.index(key) + 1
    return {"title": f"{number}. {title}", "settings": settings, "tables": tables, "notes": notes,
            "elapsed_s": round(time.perf_counter() - started, 1)}
