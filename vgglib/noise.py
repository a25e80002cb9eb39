"""The noise a claim's verdict allows: one model, written once, used by every part.

Every verdict reads the interval gap ± t·se (two-sided 95 %, Student's t at the degrees of
freedom the standard error was estimated with).  The standard error depends on what is compared:

- the *same* nets on the same test images (multi- against single-scale, multi-crop against
  dense, a fusion against its members, two localisers' boxes): the paired standard error of the
  per-image difference, :func:`same_nets`;
- two *different* nets: that paired standard error combined with the training noise of each,
  the variance of a net's error over training seeds pooled over every row trained with several
  seeds (:func:`pooled_seed_variance`), with Welch–Satterthwaite's degrees of freedom,
  :func:`between_nets`.  Where a record holds no per-image pairing of the two nets (records made
  before the drivers stored it), the unpaired standard error of two error rates stands in for
  the paired one (:func:`unpaired_se`): an upper bound, since two nets tend to err on the same
  images.

The functions at the end read these from the records and give each claim its half width and
the kind of its noise in words."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import levene
from scipy.stats import t as student_t

# --------------------------------------------------------------------------- the noise model

#: The confidence of every interval a verdict reads: two-sided 95 %.
LEVEL = 0.95
#: How much wider than the others one row's seed spread is when the page states what the
#: equal-spread test can find at the record's seeds: three times, a spread that matters to the
#: pooled figure yet one a handful of seeds barely shows.
SPREAD_RATIO = 3.0


@dataclass(frozen=True)
class Noise:
    """The uncertainty of one gap between two measured numbers: its standard error, the degrees
    of freedom that standard error was estimated with (``inf``: as good as known), and how it
    was computed, in words.  A verdict reads the interval gap ± :attr:`half_width`."""

    se: float
    dof: float
    kind: str

    @property
    def half_width(self) -> float:
        """Half the two-sided :data:`LEVEL` interval: the t quantile at ``dof`` times ``se``."""
        return t_quantile(self.dof) * self.se


def t_quantile(dof: float, level: float = LEVEL) -> float:
    """The two-sided ``level`` quantile of Student's t with ``dof`` degrees of freedom (the
    normal's at infinite ``dof``): 1.96 at ∞, 2.78 at 4, 4.30 at 2."""
    if dof <= 0:
        raise ValueError(f"degrees of freedom must be > 0, got {dof}")
    return float(student_t.ppf(0.5 + level / 2, dof))


def paired_se(hit_a: Sequence[bool] | np.ndarray, hit_b: Sequence[bool] | np.ndarray) -> float:
    """The standard error (points) of the difference of two error rates on the same images, from
    the per-image differences of their hits."""
    d = np.asarray(hit_b, dtype=float) - np.asarray(hit_a, dtype=float)
    return 100.0 * float(d.std(ddof=1)) / np.sqrt(len(d)) if len(d) > 1 else 0.0


def unpaired_se(error_a: float, error_b: float, n: int) -> float:
    """The standard error (points) of the difference of two error rates (%) on ``n`` images as if
    their mistakes were independent: an upper bound on the paired one when two nets tend to err
    on the same images, for records that hold no per-image pairing."""
    pa, pb = error_a / 100, error_b / 100
    return 100.0 * float(np.sqrt((pa * (1 - pa) + pb * (1 - pb)) / n))


def pooled_seed_variance(seeded: dict[str, list[float]]) -> tuple[float, int]:
    """The variance (points²) of a net's error over training seeds, pooled over every row trained
    with several seeds (each row's squared deviations from its own mean), and its degrees of
    freedom (seeds minus one, summed over rows)."""
    squares, dof = 0.0, 0
    for values in seeded.values():
        if len(values) > 1:
            x = np.asarray(values, dtype=float)
            squares += float(((x - x.mean()) ** 2).sum())
            dof += len(x) - 1
    return (squares / dof if dof else 0.0), dof


def equal_spread_p(seeded: dict[str, list[float]]) -> float:
    """The p value of Brown–Forsythe's test that every row trained with several seeds spreads
    alike over them, the assumption :func:`pooled_seed_variance` makes.  Deviations are taken
    from each row's median, so one diverged seed sways it less than Bartlett's test, which
    assumes normal errors.  Rows need three seeds (two deviate equally from their median, which
    leaves the test nothing to compare); NaN with fewer than two such rows."""
    rows = [np.asarray(v, dtype=float) for v in seeded.values() if len(v) > 2]
    if len(rows) < 2:
        return math.nan
    if all(np.ptp(r) == 0 for r in rows):
        return 1.0
    return float(levene(*rows, center="median").pvalue)


def equal_spread_power(seeds: Sequence[int], ratio: float, draws: int = 2000, seed: int = 0) -> float:
    """How often :func:`equal_spread_p` rejects at 5 % when one of the rows (with ``seeds[i]``
    seeds each) spreads ``ratio`` times wider than the others: the fraction of ``draws``
    simulated records, normal errors, in which it does.  At ``ratio = 1`` that is the test's
    size; above, its power, which at a handful of seeds is low, so a large p is then weak
    evidence that the rows spread alike and the page must say how weak.  The widest row is the
    one with most seeds, the case the test finds most easily."""
    g = np.random.default_rng(seed)
    counts = sorted(seeds)
    scales = [1.0] * (len(counts) - 1) + [ratio]
    hits = sum(equal_spread_p({str(i): list(g.normal(0.0, s, n)) for i, (n, s) in enumerate(zip(counts, scales))})
               < 1 - LEVEL for _ in range(draws))
    return hits / draws


def same_nets(se: float, kind: str = "paired per image") -> Noise:
    """The noise of a comparison of the same nets on the same images (multi- against single-scale,
    multi-crop against dense, a fusion against its members): the paired standard error alone."""
    return Noise(se, math.inf, kind)


def between_nets(se: float, seed_variance: float, seed_dof: int, kind: str = "paired per image") -> Noise:
    """The noise of a comparison of two different nets: the standard error of their difference on
    these test images combined with the training noise of each (the pooled seed variance, twice),
    with Welch–Satterthwaite's degrees of freedom (the test images' term as good as known)."""
    training = 2 * seed_variance
    total = se ** 2 + training
    dof = math.inf if training == 0 or seed_dof == 0 else total ** 2 / (training ** 2 / seed_dof)
    return Noise(math.sqrt(total), dof, f"{kind} + seed variance ({seed_dof} dof)")


# --------------------------------------------------------------------------- read from the records

#: The kind of a same-net comparison's noise, as pages name it.
PAIRED = "paired per image"


def interval(noise: Noise) -> tuple[float, str]:
    """A noise as a claim holds it: the half width of its 95 % interval, as shown (two decimals),
    and its kind in words."""
    dof = "" if math.isinf(noise.dof) else f", t at {noise.dof:.0f} dof"
    return round(noise.half_width, 2), f"{noise.kind}, {LEVEL:.0%} interval{dof}"


def stored_se(value: dict, key: str | None = None) -> float:
    """The paired standard error a record stores beside a comparison: ``paired_se``, or from
    records made before the noise model, ``paired`` (two standard errors); with ``key``, the
    entry of that name in a record that stores several comparisons."""
    new = "paired_se" in value
    stored = value["paired_se" if new else "paired"]
    stored = stored if key is None else stored[key]
    return stored if new else stored / 2


def paired(value: dict) -> tuple[float, str]:
    """The noise of a comparison of the same nets on the same images that a record stores."""
    return interval(same_nets(stored_se(value)))


def seeded_rows(result: dict, measure: str = "single") -> dict[str, list[float]]:
    """Each seeded row of a classification record (``noise``): its error over the seeds, tested
    single- or multi-scale."""
    return {row: [s[measure] for s in v["seeds"].values()] for row, v in result["noise"].items()}


def seed_variance(result: dict, measure: str = "single") -> tuple[float, int]:
    """The pooled seed variance of a classification record's seeded rows (``noise``), tested
    single- or multi-scale, and its degrees of freedom."""
    return pooled_seed_variance(seeded_rows(result, measure))


def between(result: dict, a: str, b: str, error_a: float, error_b: float, measure: str = "single",
            pairs: dict | None = None) -> tuple[float, str]:
    """The noise of a comparison of two different nets ``a`` and ``b`` (their errors as compared):
    the paired standard error the record stores for the pair in ``pairs`` (default: the record's
    ``pairs``, keyed ``"a vs b"``), else the unpaired bound on its test images, with the pooled
    seed variance of ``result`` tested the same way (``measure``)."""
    stored = (result.get("pairs", {}) if pairs is None else pairs).get(f"{a} vs {b}", {})
    if measure in stored:
        se, kind = stored[measure], PAIRED
    else:
        se = unpaired_se(error_a, error_b, result["provenance"]["test_images"])
        kind = "unpaired bound (no per-image pairing stored)"
    seeded = "multi" if measure == "multi" else "single"     # a centre-crop test: the single-scale spread
    return interval(between_nets(se, *seed_variance(result, seeded), kind))


def model_sentence(result: dict | None = None) -> str:
    """The noise model in one paragraph (Markdown), for the Claims page and every table page;
    with a classification record, the pooled seed spread it measures, single- and multi-scale,
    each row's own, and Brown–Forsythe's test that the rows spread alike."""
    text = (f"Every verdict reads the {LEVEL:.0%} interval of the gap, ± t·s.e. (Student's t at the degrees of "
            "freedom of the standard error). Two evaluations of the **same nets** on the same test images (multi- "
            "against single-scale, multi-crop against dense, a fusion against its members) differ by the "
            "paired standard error of their per-image results. Two **different nets** differ by that too and "
            "by the training noise of each: the variance of a net's error over training seeds, pooled over "
            "every row trained with several seeds (Welch–Satterthwaite's degrees of freedom); where a record "
            "stores no per-image pairing of the two nets, the unpaired standard error of two error rates, an "
            "upper bound, stands in for the paired one.")
    if result and result.get("noise"):
        spread, alike = [], []
        for measure in ("single", "multi"):
            variance, dof = seed_variance(result, measure)
            spread.append(f"{math.sqrt(variance):.2f} points tested {measure}-scale")
            p = equal_spread_p(seeded_rows(result, measure))
            alike += [] if math.isnan(p) else [f"{p:.2g} {measure}-scale"]
        text += (f" In this record the seed spread (standard deviation, {', '.join(result['noise'])} pooled, "
                 f"{dof} degrees of freedom) is {' and '.join(spread)}; row by row (single- / multi-scale, "
                 f"seeds): {row_spreads(result)}. The pooled figure assumes every row spreads alike")
        if alike:
            counts = [len(v) for v in seeded_rows(result).values() if len(v) > 2]
            power = equal_spread_power(counts, SPREAD_RATIO)
            share = f"{power:.0%} of" if power >= 0.005 else "none of"
            text += (f": Brown–Forsythe's test of that (less swayed by one diverged seed than Bartlett's) gives "
                     f"p = {' and '.join(alike)}. At these seeds it finds one row {SPREAD_RATIO:g} times wider "
                     f"than the others in {share} the simulated records, so a large p is "
                     f"{'weak' if power < 0.8 else 'fair'} evidence that the rows spread alike.")
        else:
            text += "."
    return text


def row_spreads(result: dict) -> str:
    """Each seeded row's own seed spread (standard deviation, points), single- and multi-scale,
    with its number of seeds: the figures the pooled spread averages, so a page can show where
    the rows disagree."""
    parts = []
    single, multi = seeded_rows(result, "single"), seeded_rows(result, "multi")
    for row in single:
        sd = [float(np.std(v[row], ddof=1)) if len(v[row]) > 1 else math.nan for v in (single, multi)]
        parts.append(f"{row} {sd[0]:.2f} / {sd[1]:.2f} ({len(single[row])})")
    return ", ".join(parts)
