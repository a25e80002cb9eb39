"""The paper's claims as data, and one verdict for all of them.

A claim compares two measured numbers — ``a``, the side the paper says is better (or no worse,
or equal), and ``b`` — with a direction, a noise and the paper's own pair.  Every table of the
reproduction states its claims this way, so the Claims page can list them all and a test can
check that each is encoded as the paper states it: fed the paper's numbers with zero noise,
every claim must hold.

Directions (``gap`` is how much better ``a`` is than ``b``: ``b − a`` for errors, ``a − b``
for scores such as mean AP):

- ``better``: *holds* when gap > noise, *does not hold* when gap < −noise, else *inconclusive*.
- ``no worse``: *holds* when gap ≥ 0, *does not hold* when gap < −noise, else *inconclusive*
  (``a`` is worse, but by less than the noise).
- ``equal``: *holds* when |gap| ≤ max(margin, noise), *does not hold* when
  |gap| > margin + noise, else *inconclusive*; ``margin`` is the claim's own tolerance, in the
  units of its numbers (the paper's "saturates" allows the 0.3 points by which E trails D).

What a claim is judged on — ``a``, ``b`` and the noise between them, named — is one
:class:`Evidence`, whichever part measured it: a driver that can only measure it while it runs
(the paired noise of two nets needs their per-image results) stores it in its record with
:meth:`Evidence.to_record`, a report reads it back with :meth:`Evidence.from_record` or builds
it from a record's numbers, and every report makes its claims with :meth:`Claim.from_evidence`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

HOLDS, FAILS, INCONCLUSIVE = "holds", "does not hold", "inconclusive"
VERDICTS = (HOLDS, INCONCLUSIVE, FAILS)
DIRECTIONS = ("better", "no worse", "equal")


def verdict(direction: str, a: float, b: float, noise: float = 0.0, higher_is_better: bool = False,
            margin: float = 0.0) -> str:
    """Holds, does not hold or inconclusive: does ``a`` stand to ``b`` as ``direction`` says?"""
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown claim direction {direction!r}; valid: {', '.join(DIRECTIONS)}")
    gap = a - b if higher_is_better else b - a
    if direction == "better":
        return HOLDS if gap > noise else FAILS if gap < -noise else INCONCLUSIVE
    if direction == "no worse":
        return HOLDS if gap >= 0 else FAILS if gap < -noise else INCONCLUSIVE
    return HOLDS if abs(gap) <= max(margin, noise) else FAILS if abs(gap) > margin + noise else INCONCLUSIVE


@dataclass(frozen=True)
class Evidence:
    """Our two numbers for a claim — ``a``, the side the paper says is better, and ``b`` — and
    the noise its verdict allows, with the kind of that noise in words."""

    a: float
    b: float
    noise: float
    noise_kind: str

    def to_record(self) -> dict[str, float | str]:
        """The evidence as a driver stores it in a JSON record."""
        return asdict(self)

    @classmethod
    def from_record(cls, stored: dict, noise_kind: str) -> Evidence:
        """The evidence a record stores.  Records that store only ``a``, ``b`` and ``noise``
        (and perhaps ``strict``, which the claim's direction says) take ``noise_kind``, the
        kind of noise their driver measures; a stored kind comes first."""
        return cls(stored["a"], stored["b"], stored["noise"], stored.get("noise_kind", noise_kind))


@dataclass(frozen=True)
class Claim:
    """One claim of the paper, tested on one pair of our numbers."""

    id: str                     # stable, e.g. "table4/multi-scale/D-256"
    table: str                  # result file it comes from: "table4"
    section: str                # the paper's section: "§4.2"
    statement: str              # in words, naming a and b
    direction: str              # better | no worse | equal
    ours: tuple[float, float]   # (a, b) as measured
    paper: tuple[float, float] | None  # (a, b) as published; None where the paper gives no pair
    noise: float                # the noise the verdict allows
    noise_kind: str             # which noise: "seed spread (A/256, 2 seeds)", "paired, 2 s.e.", ...
    unit: str = "top-1 error (%)"
    higher_is_better: bool = False
    margin: float = 0.0
    weak: str = ""              # why our analogue is a weak test of it, if it is

    @classmethod
    def from_evidence(cls, id: str, section: str, statement: str, direction: str, evidence: Evidence,
                      paper: tuple[float, float] | None, **kw) -> Claim:
        """The claim ``id`` (its table is the id's first part) judged on ``evidence``; ``kw``:
        ``unit``, ``higher_is_better``, ``margin``, ``weak``."""
        return cls(id=id, table=id.split("/")[0], section=section, statement=statement, direction=direction,
                   ours=(evidence.a, evidence.b), paper=paper, noise=evidence.noise, noise_kind=evidence.noise_kind,
                   **kw)

    @property
    def evidence(self) -> Evidence:
        """What the claim is judged on."""
        return Evidence(*self.ours, self.noise, self.noise_kind)

    @property
    def verdict(self) -> str:
        """Our verdict, allowing the claim's noise."""
        return verdict(self.direction, *self.ours, self.noise, self.higher_is_better, self.margin)

    @property
    def paper_verdict(self) -> str | None:
        """The verdict on the paper's own pair with zero noise (must be ``holds``)."""
        if self.paper is None:
            return None
        return verdict(self.direction, *self.paper, 0.0, self.higher_is_better, self.margin)

    def record(self) -> dict:
        """A flat row for ``claims.csv`` and the Claims page."""
        d = asdict(self)
        a, b = d.pop("ours")
        pa, pb = d.pop("paper") or (None, None)
        return {**d, "ours_a": a, "ours_b": b, "paper_a": pa, "paper_b": pb, "verdict": self.verdict}


def frame(claims: list[Claim]) -> pd.DataFrame:
    """Claims as a table: one row each, in the order given."""
    return pd.DataFrame([c.record() for c in claims])


def tally(verdicts: pd.Series | list[str]) -> dict[str, int]:
    """How many claims hold, are inconclusive and do not hold."""
    values = list(verdicts)
    return {v: values.count(v) for v in VERDICTS}


def summary(verdicts: pd.Series | list[str]) -> str:
    """One sentence counting the verdicts of some claims."""
    t = tally(verdicts)
    total = sum(t.values())
    claim = "claim" if total == 1 else "claims"
    return (f"Of {total} {claim} of the paper tested here, {t[HOLDS]} hold, {t[INCONCLUSIVE]} are "
            f"inconclusive (the gap is inside the noise) and {t[FAILS]} do not hold at this scale.")
