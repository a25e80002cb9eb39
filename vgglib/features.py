"""Paper Appendix B's method: very deep features of a frozen net, and linear SVMs on them.

A trained classification net, frozen, without its last FC layer, is a feature extractor: the
image is rescaled to smallest side Q, the net applied densely up to fc7, the map globally
average-pooled and averaged with the mirror image's vector.  Several Q are stacked or
averaged, two nets stacked (late fusion), the result L2-normalised and fed to a linear SVM
whose C is chosen on a validation split.  Protocols: VOC (multi-label, one-vs-rest, mean AP),
Caltech (3 seeded splits, mean class recall, mean ± std), VOC action (image vs image + box).

The target data sets, the paper's and the quick analogues, are in :mod:`vgglib.targets`.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from sklearn.svm import SVC

from .arch import VGG
from .augment import Normalise, rescale, seeded_generator
from .evaluate import batches, device_of, eval_mode, window_scores
from .files import save_tensor
from .identity import version
from .images import ImageSet
from .targets import VAL_FRACTION

AGGREGATIONS = ("average", "stack")
#: The SVM's C is chosen from this grid on a validation split.
C_GRID = (0.01, 0.1, 1.0, 10.0, 100.0)
CALTECH_SPLITS = 3


# --------------------------------------------------------------------------- features

def descriptors(model: VGG, images: ImageSet, q: int, normalise: Normalise, batch_size: int = 256,
                autocast: bool = False) -> torch.Tensor:
    """Appendix B's descriptor at one scale, float32 (N, fc7 width): fc7 activations of the
    dense net on the image at smallest side ``q``, globally average-pooled, averaged with the
    mirror image's; one pass over the whole image, positions as in dense testing
    (:func:`vgglib.evaluate.window_scores`)."""
    if q < model.crop:
        raise ValueError(f"dense features need Q ≥ the crop size {model.crop}, got Q={q}")
    device = device_of(model)
    out = torch.empty(len(images), model.classifier.fc7.out_features)

    def pooled(x: torch.Tensor) -> torch.Tensor:
        fc7 = window_scores(model, x, "fc7", autocast)[0]
        return fc7.mean(dim=(2, 3))

    with eval_mode(model):
        for idx, batch in batches(images, batch_size):
            x = normalise(rescale(batch, q)).to(device)
            out[idx] = ((pooled(x) + pooled(x.flip(-1))) / 2).cpu()
    return out


def aggregate(per_scale: Sequence[torch.Tensor], how: str) -> torch.Tensor:
    """One net's descriptors over scales: ``stack`` concatenates them (N, S·D), ``average``
    takes their mean (N, D); the paper's two choices."""
    if how not in AGGREGATIONS:
        raise ValueError(f"unknown aggregation {how!r}; valid: {', '.join(AGGREGATIONS)}")
    if not per_scale:
        raise ValueError("no scales to aggregate")
    return torch.cat(list(per_scale), 1) if how == "stack" else torch.stack(list(per_scale)).mean(0)


def l2_normalise(x: torch.Tensor) -> torch.Tensor:
    """Each row scaled to unit Euclidean length (an all-zero row stays zero)."""
    return x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)


def stacked(parts: Sequence[torch.Tensor]) -> torch.Tensor:
    """The SVM's input: descriptors stacked side by side (late fusion), then L2-normalised."""
    return l2_normalise(torch.cat(list(parts), 1))


class Extractor:
    """A frozen net as a feature extractor.  Each scale's descriptors are cached in the net's
    run directory as ``features/<data set>-q<px>-v<version>.pt``, so the key is (net run,
    data set, Q, the features' version) and
    any Q set, aggregation or SVM setting built from cached scales costs no forward pass."""

    def __init__(self, model: VGG, run: Path, normalise: Normalise, batch_size: int = 256,
                 autocast: bool = False):
        self.model, self.run, self.normalise = model, Path(run), normalise
        self.batch_size, self.autocast = batch_size, autocast
        self._loaded: dict[tuple[str, int], torch.Tensor] = {}   # read each cache file once

    def scale(self, images: ImageSet, name: str, q: int) -> torch.Tensor:
        """Descriptors of data set ``name`` at Q = ``q`` pixels, from the cache when there."""
        cache = self.run / "features" / f"{name}-q{q}-v{version('features')}.pt"
        if (name, q) not in self._loaded:
            if cache.exists():
                self._loaded[name, q] = torch.load(cache, weights_only=True)
            else:
                out = descriptors(self.model, images, q, self.normalise, self.batch_size, self.autocast)
                save_tensor(cache, out)
                self._loaded[name, q] = out
        out = self._loaded[name, q]
        if len(out) != len(images):
            raise RuntimeError(f"{cache} holds {len(out)} descriptors for {len(images)} images; "
                               f"the data set name {name!r} must identify its images")
        return out

    def features(self, images: ImageSet, name: str, qs: Sequence[int], how: str) -> torch.Tensor:
        """This net's descriptors at every Q of ``qs`` (pixels), stacked or averaged."""
        return aggregate([self.scale(images, name, q) for q in qs], how)


def describe(extractors: Sequence[Extractor], images: ImageSet, name: str, qs: Sequence[int],
             how: str) -> torch.Tensor:
    """The image descriptor: each net's aggregated over ``qs``, nets stacked, L2-normalised."""
    return stacked([e.features(images, name, qs, how) for e in extractors])


# --------------------------------------------------------------------------- metrics

def average_precision(scores: np.ndarray, positive: np.ndarray) -> float:
    """Non-interpolated AP, Σ (Rₙ − Rₙ₋₁)·Pₙ over the distinct score thresholds, tied scores
    ranked together (scikit-learn's definition; the VOC devkits interpolate precision)."""
    positive = np.asarray(positive, dtype=float)
    if positive.sum() == 0:
        return float("nan")
    order = np.argsort(-np.asarray(scores), kind="mergesort")
    s, y = np.asarray(scores)[order], positive[order]
    last = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]   # last rank of each group of ties
    tp = np.cumsum(y)[last]
    return float(np.sum(np.diff(np.r_[0.0, tp]) / tp[-1] * tp / (last + 1)))


def mean_ap(scores: np.ndarray, labels: np.ndarray) -> tuple[float, list[float]]:
    """Mean over classes of the AP, each class scored on its images not labelled −1; classes
    with no positive test image are left out of the mean (their AP is NaN)."""
    aps = []
    for k in range(labels.shape[1]):
        keep = labels[:, k] >= 0
        aps.append(average_precision(scores[keep, k], labels[keep, k] == 1))
    return float(np.nanmean(aps)), aps


def mean_class_recall(truth: np.ndarray, predicted: np.ndarray, classes: int) -> float:
    """The mean over classes of the share of each class's images predicted as it (Caltech's
    measure: classes with many test images weigh no more than the others)."""
    confusion = np.bincount(truth * classes + predicted, minlength=classes * classes).reshape(classes, classes)
    total = confusion.sum(1)
    have = total > 0
    return float(np.mean(np.diag(confusion)[have] / total[have]))


# --------------------------------------------------------------------------- SVM protocols

def _svm(c: float) -> SVC:
    """A linear SVM (hinge loss, L2 penalty; libsvm) given the Gram matrix of the descriptors,
    i.e. solved in its dual.  With far fewer training images than descriptor dimensions (up to
    2 nets × 5 scales × 4096 in the paper) that is the same classifier, many times faster than
    liblinear at large C, which matters when C is searched."""
    return SVC(C=c, kernel="precomputed")


def ovr_scores(k_train: np.ndarray, y_train: np.ndarray, k_test: np.ndarray, c: float) -> np.ndarray:
    """One-vs-rest linear SVM per class of a multi-label target: (M, K) decision values, given
    the Gram matrices train × train and test × train.  Images labelled −1 for a class are left
    out of its training; a class with one label value only scores 0."""
    out = np.zeros((len(k_test), y_train.shape[1]))
    for k in range(y_train.shape[1]):
        keep = y_train[:, k] >= 0
        if len(np.unique(y_train[keep, k])) == 2:
            svm = _svm(c).fit(k_train[np.ix_(keep, keep)], y_train[keep, k])
            out[:, k] = svm.decision_function(k_test[:, keep])
    return out


def _best(val: dict[float, float]) -> float:
    """The C with the best validation score (the smallest C among ties)."""
    return max(val, key=lambda c: (val[c], -c))


def _grams(x: torch.Tensor, fit: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Linear-kernel Gram matrices (float64): fitting images × themselves, test × fitting."""
    a = x[torch.as_tensor(fit)].double()
    return (a @ a.T).numpy(), (x[torch.as_tensor(test)].double() @ a.T).numpy()


def voc_protocol(x: torch.Tensor, labels: torch.Tensor, parts: dict[str, torch.Tensor],
                 c_grid: Sequence[float] = C_GRID) -> tuple[dict, np.ndarray]:
    """VOC: C chosen by the mAP on ``val`` of SVMs trained on ``train``, SVMs refitted on train +
    val, mAP (%) on ``test``.  Returns the summary and the test scores (M, K)."""
    y = labels.numpy()
    tr, va, te = (parts[k].numpy() for k in ("train", "val", "test"))
    fit = np.r_[tr, va]
    k_fit, k_test = _grams(x, fit, te)
    n = len(tr)
    val = {c: mean_ap(ovr_scores(k_fit[:n, :n], y[tr], k_fit[n:, :n], c), y[va])[0] for c in c_grid}
    best = _best(val)
    scores = ovr_scores(k_fit, y[fit], k_test, best)
    m, aps = mean_ap(scores, y[te])
    return {"mAP": round(100 * m, 2), "ap": [round(100 * a, 2) for a in aps], "C": best,
            "val_mAP": {str(c): round(100 * v, 2) for c, v in val.items()}}, scores


def caltech_splits(labels: torch.Tensor, n_train: int, n_test: int | None, splits: int = CALTECH_SPLITS,
                   seed: int = 0, val_fraction: float = VAL_FRACTION) -> list[dict[str, torch.Tensor]]:
    """Caltech's splits: per split and class, ``n_train`` random images for training, of which
    ``val_fraction`` are held out (``val``) to choose C, and up to ``n_test`` of the rest (all of
    them when None) for testing.  A seed fixes every split."""
    n_val = round(val_fraction * n_train)
    out = []
    for s in range(splits):
        g = seeded_generator(seed, s)
        part: dict[str, list[torch.Tensor]] = {"train": [], "val": [], "test": []}
        for k in labels.unique(sorted=True).tolist():
            idx = (labels == k).nonzero().flatten()
            if len(idx) <= n_train:
                raise ValueError(f"class {k} has {len(idx)} images; the protocol needs more than {n_train}")
            idx = idx[torch.randperm(len(idx), generator=g)]
            part["val"].append(idx[:n_val])
            part["train"].append(idx[n_val:n_train])
            part["test"].append(idx[n_train:n_train + n_test] if n_test else idx[n_train:])
        out.append({name: torch.cat(v) for name, v in part.items()})
    return out


def caltech_protocol(x: torch.Tensor, labels: torch.Tensor, splits: list[dict[str, torch.Tensor]],
                     c_grid: Sequence[float] = C_GRID) -> dict:
    """Caltech: per split, C chosen by the mean class recall on ``val`` of an SVM trained on
    ``train``, the SVM refitted on train + val; mean class recall (%) as mean ± std (n − 1).
    Multi-class by libsvm's one-vs-one voting."""
    y = labels.numpy()
    k = int(y.max()) + 1
    recalls, chosen = [], []
    for sp in splits:
        tr, va, te = (sp[p].numpy() for p in ("train", "val", "test"))
        fit = np.r_[tr, va]
        k_fit, k_test = _grams(x, fit, te)
        n = len(tr)
        val = {c: mean_class_recall(y[va], _svm(c).fit(k_fit[:n, :n], y[tr]).predict(k_fit[n:, :n]), k)
               for c in c_grid}
        best = _best(val)
        recalls.append(100 * mean_class_recall(y[te], _svm(best).fit(k_fit, y[fit]).predict(k_test), k))
        chosen.append(best)
    std = float(np.std(recalls, ddof=1)) if len(recalls) > 1 else 0.0
    return {"mean": round(float(np.mean(recalls)), 2), "std": round(std, 2),
            "splits": [round(r, 2) for r in recalls], "C": chosen}


def bootstrap_se(scores_a: np.ndarray, scores_b: np.ndarray, labels: np.ndarray, rounds: int = 200,
                 seed: int = 0) -> float:
    """The standard error (mAP points) of the mAP difference of two systems on the same test
    images, by resampling the images (paired bootstrap)."""
    g = np.random.default_rng(seed)
    diffs = []
    for _ in range(rounds):
        i = g.integers(0, len(labels), len(labels))
        diffs.append(mean_ap(scores_a[i], labels[i])[0] - mean_ap(scores_b[i], labels[i])[0])
    return 100 * float(np.std(diffs))


def split_se(a: Sequence[float], b: Sequence[float]) -> tuple[float, float]:
    """The standard error of the mean paired difference over Caltech splits, and its degrees of
    freedom (splits less one; one split measures no spread: 0 with infinite freedom)."""
    d = np.subtract(a, b)
    return (float(np.std(d, ddof=1)) / np.sqrt(len(d)), len(d) - 1) if len(d) > 1 else (0.0, math.inf)
