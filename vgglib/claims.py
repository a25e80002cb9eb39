"""The paper's claims as data, and one verdict for all of them.

A claim compares two measured numbers — ``a``, the side the paper says is better (or no worse,
or equal), and ``b`` — with a direction, a noise and the paper's own pair.  Every table of the
reproduction states its claims this way, so the Claims page can list them all and a test can
check that each is encoded as the paper states it: fed the paper's numbers with zero noise,
every claim must hold.

Every verdict is a test on the interval gap ± noise, where ``gap`` is how much better ``a`` is
than ``b`` (``b − a`` for errors, ``a − b`` for scores such as mean AP) and ``noise`` the half
width of its 95 % interval (:mod:`vgglib.noise`), both taken at the two decimals they are shown
with, so that no verdict turns on float rounding:

- ``better``: *holds* when the interval lies above zero, *does not hold* when it lies below,
  else *inconclusive*.
- ``no worse``: *holds* when the interval lies at or above −margin (``a`` is worse by less than
  the margin, if at all), *does not hold* when it lies below −margin, else *inconclusive*.
- ``equal``: an equivalence test: *holds* only when the whole interval lies within ±margin,
  *does not hold* when it lies wholly outside, else *inconclusive* — so a large noise never
  makes equality hold.  The margin of the paper's experimental claims is relative
  (:data:`EQUIVALENCE` of the error compared with): the smallest effect the paper itself
  reports as real, so the paper's own pair is judged at its error level and ours at ours.

What a claim is judged on — ``a``, ``b`` and the noise between them, named — is one
:class:`Evidence`, whichever part measured it: a driver that can only measure it while it runs
(the paired noise of two nets needs their per-image results) stores it in its record with
:meth:`Evidence.to_record`, a report reads it back with :meth:`Evidence.from_record` or builds
it from a record's numbers, and every report makes its claims with :meth:`Claim.from_evidence`.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import pandas as pd

from . import paper
from .noise import LEVEL, t_quantile

HOLDS, FAILS, INCONCLUSIVE = "holds", "does not hold", "inconclusive"
VERDICTS = (HOLDS, INCONCLUSIVE, FAILS)
DIRECTIONS = ("better", "no worse", "equal")


def verdict(direction: str, a: float, b: float, noise: float = 0.0, higher_is_better: bool = False,
            margin: float = 0.0) -> str:
    """Holds, does not hold or inconclusive: does ``a`` stand to ``b`` as ``direction`` says,
    given the half width ``noise`` of the gap's interval and the claim's ``margin``?"""
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown claim direction {direction!r}; valid: {', '.join(DIRECTIONS)}")
    gap = a - b if higher_is_better else b - a
    low, high = round(gap - noise, 2), round(gap + noise, 2)
    if direction == "better":
        return HOLDS if low > 0 else FAILS if high < 0 else INCONCLUSIVE
    if direction == "no worse":
        return HOLDS if low >= -margin else FAILS if high < -margin else INCONCLUSIVE
    return HOLDS if -margin <= low and high <= margin else FAILS if low > margin or high < -margin else INCONCLUSIVE


def paper_effects() -> dict[str, float]:
    """The relative effects the paper reports as real improvements from depth in Table 4 (the
    gain of each deeper configuration over the next shallower one at the same S, as a share of
    the shallower one's error): what a claim of equality must be judged against."""
    out = {}
    for scale in ("256", "384", "256-512"):
        have = [c for c in "BCD" if f"{c}/{scale}" in paper.TABLE4]
        for shallow, deep in zip(have, have[1:]):
            b, a = paper.TABLE4[f"{shallow}/{scale}"][0], paper.TABLE4[f"{deep}/{scale}"][0]
            out[f"{deep} over {shallow} (S = {scale})"] = (b - a) / b
    return out


#: The margin of a claim that two nets are equal (or one no worse), as a share of the error it
#: is compared with: the smallest relative improvement the paper reports as real
#: (:func:`paper_effects`: C over B at S = 256, 0.5 of 28.2 points).  A smaller difference the
#: paper would not call a difference either.
EQUIVALENCE = min(paper_effects().values())


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
    def from_record(cls, stored: dict, noise_kind: str, dof: float = math.inf) -> Evidence:
        """The evidence a record stores: its ``noise`` is the half width of the gap's 95 % interval
        and ``noise_kind`` says how it was measured.  Records made before the noise model store
        only ``a``, ``b`` and two standard errors as ``noise`` (and perhaps ``strict``, which the
        claim's direction says): they take ``noise_kind``, the kind their driver measures, and
        their interval is read with the t quantile at ``dof``, the degrees of freedom of that
        kind (Caltech's splits: their number less one)."""
        if "noise_kind" in stored:
            return cls(stored["a"], stored["b"], stored["noise"], stored["noise_kind"])
        width = round(stored["noise"] / 2 * t_quantile(dof), 2)
        return cls(stored["a"], stored["b"], width, f"{noise_kind}, {LEVEL:.0%} interval")


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
    noise: float                # the half width of the gap's 95 % interval
    noise_kind: str             # how the noise was measured: "paired per image, 95 % interval", ...
    unit: str = "top-1 error (%)"
    higher_is_better: bool = False
    margin: float = 0.0         # in the units of the numbers, or with ``relative`` a share of b
    relative: bool = False
    weak: str = ""              # why our analogue is a weak test of it, if it is

    @classmethod
    def from_evidence(cls, id: str, section: str, statement: str, direction: str, evidence: Evidence,
                      paper: tuple[float, float] | None, **kw) -> Claim:
        """The claim ``id`` (its table is the id's first part) judged on ``evidence``; ``kw``:
        ``unit``, ``higher_is_better``, ``margin``, ``relative``, ``weak``."""
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
        return verdict(self.direction, *self.ours, self.noise, self.higher_is_better, self.margin_for(self.ours[1]))

    @property
    def paper_verdict(self) -> str | None:
        """The verdict on the paper's own pair with zero noise (must be ``holds``)."""
        if self.paper is None:
            return None
        return verdict(self.direction, *self.paper, 0.0, self.higher_is_better, self.margin_for(self.paper[1]))

    def margin_for(self, b: float) -> float:
        """The margin in the units of the numbers, for a pair whose second number is ``b``."""
        return round(self.margin * b, 2) if self.relative else self.margin

    def record(self) -> dict:
        """A flat row for ``claims.csv`` and the Claims page."""
        d = asdict(self)
        a, b = d.pop("ours")
        pa, pb = d.pop("paper") or (None, None)
        d.pop("relative")
        return {**d, "margin": self.margin_for(b), "ours_a": a, "ours_b": b, "paper_a": pa, "paper_b": pb,
                "verdict": self.verdict}


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


def rules() -> str:
    """How every verdict is reached, in one paragraph (Markdown) for the Claims page."""
    effects = paper_effects()
    effect = min(effects, key=effects.get)
    return ("A claim that one side is **better** holds when the whole interval of the gap lies on its side of "
            "zero and does not hold when it lies on the other; a claim that two nets are **equal** (or one "
            "**no worse**) is an equivalence test: it holds only when the whole interval lies within ± the "
            f"margin (above −margin), and does not hold when it lies wholly outside. The margin is the "
            f"smallest effect the paper itself reports as real, {EQUIVALENCE:.1%} of the error compared "
            f"({effect}, in Table 4), so the paper's own pair is judged at its error level and ours at ours; a "
            "large noise therefore never makes two numbers equal. Gaps and intervals are compared at the two "
            "decimals they are shown with.")
