"""Paper Appendix B: very deep features on other data sets with a linear SVM (Tables 11–12).

A trained classification net, frozen, without its last FC layer, is a feature extractor: the
image is rescaled to smallest side Q, the net applied densely up to fc7, the map globally
average-pooled and averaged with the mirror image's vector.  Several Q are stacked or
averaged, two nets stacked (late fusion), the result L2-normalised and fed to a linear SVM
whose C is chosen on a validation split.  Protocols: VOC (multi-label, one-vs-rest, mean AP),
Caltech (3 seeded splits, mean class recall, mean ± std), VOC action (image vs image + box).

The target data sets, the paper's and the quick analogues, are in :mod:`vgglib.transfer_data`.
"""
from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from sklearn.svm import SVC

from .arch import VGG
from .augment import Normalise, rescale, seeded_generator
from .images import ImageSet
from .evaluate import batches, bf16_autocast, device_of, eval_mode, pooled_window
from .experiments import Study
from .transfer_data import (SETTINGS, VAL_FRACTION, BoxCrops, Target, TransferSettings, canvas_target,
                            caltech_target, digits_target, voc_action, voc_classification)

#: The nets whose features the paper transfers: its two best ILSVRC models, D and E, the ones
#: it released, trained with scale jittering (§4).  Late fusion stacks both.
NETS = {"D": "D/256-512", "E": "E/256-512"}
FUSION = "D&E"
#: Test scales Q (paper units) and how they are combined, per protocol (Appendix B).  The paper
#: gives no Q for the action task; it is a VOC-2012 task, so it gets VOC's setting.
Q_SETS = {"voc": (256, 384, 512, 640, 768), "caltech": (256, 384, 512), "action": (256, 384, 512, 640, 768)}
AGGREGATION = {"voc": "average", "caltech": "stack", "action": "average"}
AGGREGATIONS = ("average", "stack")
#: The SVM's C is chosen from this grid on a validation split.
C_GRID = (0.01, 0.1, 1.0, 10.0, 100.0)
CALTECH_SPLITS = 3
#: Table 11's columns, in the paper's order (index into ``paper.TABLE11``'s tuples).
COLUMNS = ("VOC-2007", "VOC-2012", "Caltech-101", "Caltech-256")


# --------------------------------------------------------------------------- features

def descriptors(model: VGG, images: ImageSet, q: int, normalise: Normalise, batch_size: int = 256,
                autocast: bool = False) -> torch.Tensor:
    """Appendix B's descriptor at one scale, float32 (N, fc7 width): fc7 activations of the
    dense net on the image at smallest side ``q``, globally average-pooled, averaged with the
    mirror image's.  The centred window the pooling grid covers is used, as in dense testing."""
    if q < model.crop:
        raise ValueError(f"dense features need Q ≥ the crop size {model.crop}, got Q={q}")
    device = device_of(model)
    out = torch.empty(len(images), model.classifier.fc7.out_features)

    def pooled(x: torch.Tensor) -> torch.Tensor:
        with bf16_autocast(device, autocast):
            return model.score_map(x, upto="fc7").float().mean(dim=(2, 3))

    with eval_mode(model):
        for idx, batch in batches(images, batch_size):
            x = pooled_window(normalise(rescale(batch, q))).to(device)
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
    run directory as ``features/<data set>-q<px>.pt``, so the key is (net run, data set, Q) and
    any Q set, aggregation or SVM setting built from cached scales costs no forward pass."""

    def __init__(self, model: VGG, run: Path, normalise: Normalise, batch_size: int = 256,
                 autocast: bool = False):
        self.model, self.run, self.normalise = model, Path(run), normalise
        self.batch_size, self.autocast = batch_size, autocast
        self._loaded: dict[tuple[str, int], torch.Tensor] = {}   # read each cache file once

    def scale(self, images: ImageSet, name: str, q: int) -> torch.Tensor:
        """Descriptors of data set ``name`` at Q = ``q`` pixels, from the cache when there."""
        cache = self.run / "features" / f"{name}-q{q}.pt"
        if (name, q) not in self._loaded:
            if cache.exists():
                self._loaded[name, q] = torch.load(cache, weights_only=True)
            else:
                out = descriptors(self.model, images, q, self.normalise, self.batch_size, self.autocast)
                cache.parent.mkdir(parents=True, exist_ok=True)
                tmp = cache.with_name(f"{cache.name}.tmp{os.getpid()}")
                torch.save(out, tmp)
                tmp.replace(cache)
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


def bootstrap_noise(scores_a: np.ndarray, scores_b: np.ndarray, labels: np.ndarray, rounds: int = 200,
                    seed: int = 0) -> float:
    """Two standard errors (mAP points) of the mAP difference of two systems on the same test
    images, by resampling the images (paired bootstrap): smaller gaps are within noise."""
    g = np.random.default_rng(seed)
    diffs = []
    for _ in range(rounds):
        i = g.integers(0, len(labels), len(labels))
        diffs.append(mean_ap(scores_a[i], labels[i])[0] - mean_ap(scores_b[i], labels[i])[0])
    return round(200 * float(np.std(diffs)), 2)


def split_noise(a: Sequence[float], b: Sequence[float]) -> float:
    """Two standard errors of the mean paired difference over Caltech splits."""
    d = np.subtract(a, b)
    return round(2 * float(np.std(d, ddof=1)) / np.sqrt(len(d)), 2) if len(d) > 1 else 0.0


# --------------------------------------------------------------------------- Tables 11 and 12

def _settings(study: Study) -> TransferSettings:
    """The analogue settings of the study's profile (``quick``'s for a profile without its own)."""
    return SETTINGS.get(study.profile.name, SETTINGS["quick"])


def extractors(study: Study) -> dict[str, Extractor]:
    """Feature extractors of the study's nets D and E (trained now if the run store lacks them)."""
    out = {}
    for name, row in NETS.items():
        model, run = study.net(row)
        out[name] = Extractor(model, run, study.normalise, study.profile.eval_batch, study.profile.bf16)
    return out


def table11_targets(study: Study, root: str | Path | None = None) -> list[Target]:
    """Table 11's targets: VOC-2007/2012 and Caltech-101/256 under ``root`` for a study on
    ImageNet; otherwise the VOC-style canvases and the Caltech-style digits."""
    if study.splits.name == "imagenet":
        if root is None:
            raise ValueError("Table 11 on ImageNet-trained nets needs root=<folder holding VOCdevkit/, "
                             "101_ObjectCategories/ and 256_ObjectCategories/>")
        return [voc_classification(root, 2007, study.seed), voc_classification(root, 2012, study.seed),
                caltech_target(root, 101), caltech_target(root, 256)]
    s = _settings(study)
    return [canvas_target("voc", study.splits, s, study.seed), digits_target(s)]


def _claim(a: float, b: float, noise: float, strict: bool) -> dict:
    """A claim "a ≥ b" (or "a > b" when ``strict``) on a higher-is-better measure."""
    return {"a": a, "b": b, "noise": noise, "strict": strict}


def _embedding(x: torch.Tensor, labels: torch.Tensor, limit: int = 600) -> dict:
    """The first two principal components of (at most ``limit``) descriptors, for a figure."""
    z = x[:limit].double().numpy()
    z = z - z.mean(0)
    u, s, _ = np.linalg.svd(z, full_matrices=False)
    xy = u[:, :2] * s[:2]
    return {"xy": np.round(xy, 4).tolist(), "label": labels[:limit].tolist()}


def _evaluate_target(study: Study, target: Target, nets: dict[str, list[Extractor]]) -> dict:
    """Every net (D, E, D&E) with both aggregations on one target, and the paper's claims."""
    qs = Q_SETS[target.kind]
    px = [study.profile.scale(q) for q in qs]
    t0 = time.time()
    feats = {(n, how): describe(ex, target.images, target.name, px, how) for n, ex in nets.items()
             for how in AGGREGATIONS}
    t1 = time.time()
    rows: dict[str, dict] = {n: {} for n in nets}
    scores = {}
    if target.kind == "voc":
        for (n, how), x in feats.items():
            rows[n][how], scores[(n, how)] = voc_protocol(x, target.labels, target.parts)
        y = target.labels[target.parts["test"]].numpy()

        def claim(a: tuple[str, str], b: tuple[str, str], strict: bool) -> dict:
            return _claim(rows[a[0]][a[1]]["mAP"], rows[b[0]][b[1]]["mAP"],
                          bootstrap_noise(scores[a], scores[b], y), strict)
    else:
        splits = caltech_splits(target.labels, *target.per_class, seed=study.seed)
        for (n, how), x in feats.items():
            rows[n][how] = caltech_protocol(x, target.labels, splits)

        def claim(a: tuple[str, str], b: tuple[str, str], strict: bool) -> dict:
            ra, rb = rows[a[0]][a[1]], rows[b[0]][b[1]]
            return _claim(ra["mean"], rb["mean"], split_noise(ra["splits"], rb["splits"]), strict)
    main = AGGREGATION[target.kind]
    metric = "mAP" if target.kind == "voc" else "mean"
    better = max(("D", "E"), key=lambda n: rows[n][main][metric])
    claims = {"E ≥ D": claim(("E", main), ("D", main), False),
              "D&E ≥ the better of D and E": claim((FUSION, main), (better, main), False)}
    if target.kind == "voc":
        claims["averaging no worse than stacking (D&E)"] = claim((FUSION, "average"), (FUSION, "stack"), False)
    else:
        claims["stacking beats averaging (D&E)"] = claim((FUSION, "stack"), (FUSION, "average"), True)
    out = {"kind": target.kind, "column": target.column, "label": target.meta["label"], "aggregation": main,
           "Q": list(qs), "Q_px": px, "rows": rows, "claims": claims, "data": target.meta,
           "features_s": round(t1 - t0, 1), "svm_s": round(time.time() - t1, 1)}
    if target.kind == "caltech":
        test = splits[0]["test"]
        out["embedding"] = _embedding(feats[(FUSION, "stack")][test], target.labels[test])
    return out


def table11(study: Study, root: str | Path | None = None) -> dict:
    """Table 11: D, E and D&E features with a linear SVM on each target, every target with both
    scale aggregations (the paper's choice first), and the paper's claims with their noise."""
    started = time.time()
    ex = extractors(study)
    nets = {"D": [ex["D"]], "E": [ex["E"]], FUSION: [ex["D"], ex["E"]]}
    targets = {t.name: _evaluate_target(study, t, nets) for t in table11_targets(study, root)}
    return {"targets": targets, "nets": NETS, "c_grid": list(C_GRID),
            "provenance": study.record(started, transfer_images={n: t["data"]["images"] for n, t in targets.items()})}


def table12_target(study: Study, root: str | Path | None = None) -> Target:
    """Table 12's target: VOC-2012 action under ``root`` for a study on ImageNet, else the
    action-style canvases."""
    if study.splits.name == "imagenet":
        if root is None:
            raise ValueError("Table 12 on ImageNet-trained nets needs root=<folder holding VOCdevkit/VOC2012>")
        return voc_action(root, study.seed)
    return canvas_target("action", study.splits, _settings(study), study.seed)


def table12(study: Study, root: str | Path | None = None) -> dict:
    """Table 12: D&E features of the whole image against the whole image stacked with the
    given box, linear SVMs one-vs-rest, mean AP; and whether the box helps."""
    started = time.time()
    ex = extractors(study)
    both = [ex["D"], ex["E"]]
    target = table12_target(study, root)
    qs = Q_SETS["action"]
    px = [study.profile.scale(q) for q in qs]
    how = AGGREGATION["action"]
    t0 = time.time()
    image = [e.features(target.images, target.name, px, how) for e in both]
    box = [e.features(BoxCrops(target.images, target.boxes), f"{target.name}-box", px, how) for e in both]
    t1 = time.time()
    rows, scores = {}, {}
    for name, parts in (("image only", image), ("image and box", image + box)):
        rows[name], scores[name] = voc_protocol(stacked(parts), target.labels, target.parts)
    y = target.labels[target.parts["test"]].numpy()
    claims = {"adding the box helps": _claim(rows["image and box"]["mAP"], rows["image only"]["mAP"],
                                             bootstrap_noise(scores["image and box"], scores["image only"], y), True)}
    return {"rows": rows, "claims": claims, "classes": target.classes, "nets": NETS, "Q": list(qs), "Q_px": px,
            "aggregation": how, "data": target.meta, "label": target.meta["label"],
            "features_s": round(t1 - t0, 1), "svm_s": round(time.time() - t1, 1),
            "provenance": study.record(started, transfer_images=len(target.labels))}
