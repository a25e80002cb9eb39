"""The noise model, tested by simulation: verdicts on two simulated nets whose true gap and seed
variance are known come out as often as a referee would accept (no training: per-image
correctness is drawn, with the noise estimated exactly as the reports estimate it)."""
import math

import numpy as np
import pytest
from scipy.stats import norm

from vgglib import noise
from vgglib.claims import FAILS, HOLDS, INCONCLUSIVE, verdict
from vgglib.parts.classification.rows import NOISE_ROWS, NOISE_SEEDS

#: A quick-profile comparison of two nets on Fashion-MNIST's test set: their error, how alike
#: their mistakes are (the correlation of a latent per-image difficulty), and the spread of a
#: net's error over training seeds (the pooled spread of today's seeded rows is 0.14 points).
IMAGES, ERROR, LIKENESS, SEED_SD = 10_000, 0.085, 0.7, 0.14
DRAWS = 2000


def simulate(gap: float, draws: int = DRAWS, seed: int = 0) -> tuple[np.ndarray, list[noise.Noise]]:
    """The measured gap (points; positive: net a errs less) and its noise in each of ``draws``
    repetitions of the experiment: two nets trained once each (seed effects drawn), tested on
    the same images (mistakes drawn per image, alike through a shared difficulty), with the seed
    variance estimated from the noise rows' seeds as the records measure it."""
    g = np.random.default_rng(seed)
    error_a = ERROR - gap / 200 + g.normal(0, SEED_SD / 100, draws)
    error_b = ERROR + gap / 200 + g.normal(0, SEED_SD / 100, draws)
    difficulty = g.standard_normal((draws, IMAGES))
    wrong = [math.sqrt(LIKENESS) * difficulty + math.sqrt(1 - LIKENESS) * g.standard_normal((draws, IMAGES))
             > norm.ppf(1 - e)[:, None] for e in (error_a, error_b)]
    gaps = 100 * (wrong[1].mean(1) - wrong[0].mean(1))
    out = []
    for i in range(draws):
        seeded = {row: list(ERROR * 100 + g.normal(0, SEED_SD, NOISE_SEEDS)) for row in NOISE_ROWS}
        variance, dof = noise.pooled_seed_variance(seeded)
        out.append(noise.between_nets(noise.paired_se(wrong[0][i], wrong[1][i]), variance, dof))
    return gaps, out


def verdicts(direction: str, gaps: np.ndarray, noises: list[noise.Noise], margin: float = 0.0) -> dict[str, float]:
    """The share of each verdict over the draws."""
    found = [verdict(direction, 0.0, gap, n.half_width, margin=margin) for gap, n in zip(gaps, noises)]
    return {v: found.count(v) / len(found) for v in (HOLDS, INCONCLUSIVE, FAILS)}


@pytest.fixture(scope="module")
def width() -> float:
    """One noise-width: the true standard deviation of the measured gap between two nets."""
    gaps, _ = simulate(0.0, seed=1)
    return float(gaps.std())


def test_better_with_no_true_gap_is_rarely_decided(width):
    share = verdicts("better", *simulate(0.0, seed=2))
    assert share[HOLDS] + share[FAILS] <= 0.05


def test_better_with_a_gap_of_three_noise_widths_mostly_holds(width):
    share = verdicts("better", *simulate(3 * width, seed=3))
    assert share[HOLDS] >= 0.80 and share[FAILS] == 0.0


def test_equal_at_the_margin_is_rarely_decided_and_far_outside_it_mostly_fails(width):
    margin = 2 * width
    at_margin = verdicts("equal", *simulate(margin, seed=4), margin=margin)
    assert at_margin[HOLDS] + at_margin[FAILS] <= 0.05
    outside = verdicts("equal", *simulate(margin + 3 * width, seed=5), margin=margin)
    assert outside[FAILS] >= 0.80 and outside[HOLDS] == 0.0


def test_the_estimated_noise_matches_the_true_spread_of_the_gap(width):
    _, noises = simulate(0.0, draws=400, seed=6)
    assert np.median([n.se for n in noises]) == pytest.approx(width, rel=0.1)


def test_t_quantiles_widen_small_samples():
    assert noise.t_quantile(math.inf) == pytest.approx(1.96, abs=0.01)
    assert noise.t_quantile(2) == pytest.approx(4.30, abs=0.01)
    assert noise.between_nets(0.3, 0.0, 0).dof == math.inf
    few = noise.between_nets(0.0, 0.02, 4)
    assert few.dof == pytest.approx(4) and few.half_width == pytest.approx(noise.t_quantile(4) * math.sqrt(0.04))


def test_seed_variance_is_pooled_over_every_seeded_row():
    variance, dof = noise.pooled_seed_variance({"D/256": [8.46, 8.49, 8.51], "D/256-512": [10.51, 10.87, 10.81],
                                                "one seed": [9.0]})
    assert dof == 4
    assert variance == pytest.approx((0.00127 + 0.0744) / 4, rel=0.01)
