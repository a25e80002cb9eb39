"""The paper's parts, one home each, built the same way: ``run.py`` holds the experiment drivers
(a study in, a JSON-ready record out), ``report.py`` turns records into the paper's tables and
claims, and the package's ``TABLES`` registers what ``python -m vgglib reproduce`` can compute.

Each part package exposes ``TABLES`` (a list of :class:`Table`), ``claims(results)`` and
``frames(results)``; parts use the shared engine and the method modules, never the reverse."""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from ..claims import Claim
    from ..results import ResultSet

#: The parts in the paper's (and the book's) order.
PARTS = ("architecture", "training", "classification", "localisation", "transfer")


@dataclass(frozen=True)
class Table:
    """One result file of the reproduction and how to compute it."""

    name: str                        # the result file's stem and the CLI's name: "table4"
    part: str                        # which part of the paper: "classification"
    title: str                       # as the book's page names it
    page: str                        # the notebook that renders it (notebooks/<page>.md)
    compute: Callable[..., dict]     # (study, **records of ``needs``) -> record
    needs: tuple[str, ...] = ()      # tables whose records it reads instead of recomputing them
    study: bool = True               # False: computed from code alone, no data or training
    transfer_root: bool = False      # True: takes the Appendix B targets' folder (full profile)
    optional: bool = False           # True: its page renders without it (a section says how to compute it)


def part(name: str) -> ModuleType:
    """A part's package, or an error naming the parts."""
    if name not in PARTS:
        raise ValueError(f"unknown part {name!r}; valid: {', '.join(PARTS)}")
    return importlib.import_module(f"{__name__}.{name}")


def tables() -> dict[str, Table]:
    """Every table of every part, by name, in the paper's order."""
    return {t.name: t for p in PARTS for t in part(p).TABLES}


def all_claims(results: ResultSet) -> list[Claim]:
    """Every claim of every part whose records exist, in the paper's order."""
    return [c for p in PARTS for c in part(p).claims(results)]


def arithmetic(claim: Claim) -> bool:
    """Whether a claim is arithmetic rather than experimental: its table is computed from the code
    alone (Table 2's parameter counts, §2.3's weights), so it holds by counting, not by training
    and testing nets; tallies of the paper's experimental claims leave it out."""
    return not tables()[claim.table].study


def all_frames(results: ResultSet) -> dict[str, pd.DataFrame]:
    """Every table of every part whose records exist, by file stem."""
    return {k: v for p in PARTS for k, v in part(p).frames(results).items()}
