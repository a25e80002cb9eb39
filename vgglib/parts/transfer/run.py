"""Paper Appendix B (Tables 11–12): which nets' features go to which target, with which test
scales and aggregation, and the claims each target tests."""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ... import evaluate
from ...claims import Evidence
from ...features import (
    AGGREGATIONS,
    C_GRID,
    Extractor,
    bootstrap_se,
    caltech_protocol,
    caltech_splits,
    describe,
    split_se,
    stacked,
    voc_protocol,
)
from ...noise import Noise, interval
from ...profiles import TransferSettings
from ...study import Study, scale_of
from ...targets import (
    BoxCrops,
    Target,
    caltech_target,
    canvas_target,
    digits_target,
    voc_action,
    voc_classification,
)
from .report import NOISE_KINDS
from .rows import AGGREGATION, FUSION, NETS, Q_SETS


def _settings(study: Study) -> TransferSettings:
    """The analogue targets' settings of the study's profile."""
    return study.profile.section("transfer")


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


def _evidence(a: float, b: float, se: float, kind: str, dof: float = math.inf) -> dict:
    """The stored evidence of a claim on a higher-is-better measure of a ``kind`` of target:
    both scores and the 95 % interval of the paired noise its protocol measures (standard
    error ``se`` with ``dof`` degrees of freedom)."""
    return Evidence(a, b, *interval(Noise(se, dof, NOISE_KINDS[kind]))).to_record()


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
    # Each net's descriptors at each scale, computed once (minutes each at quick) with a progress
    # bar; every aggregation and fusion below reads them from the cache.
    scales = [(e, q) for e in dict.fromkeys(e for ex in nets.values() for e in ex) for q in px]
    for e, q in tqdm(scales, desc=f"{target.name}: descriptors (net × Q)", unit="scale", disable=not study.progress):
        e.scale(target.images, target.name, q)
    feats = {(n, how): describe(ex, target.images, target.name, px, how) for n, ex in nets.items()
             for how in AGGREGATIONS}
    t1 = time.time()
    rows: dict[str, dict] = {n: {} for n in nets}
    scores = {}
    if target.kind == "voc":
        for (n, how), x in feats.items():
            rows[n][how], scores[(n, how)] = voc_protocol(x, target.labels, target.parts)
        y = target.labels[target.parts["test"]].numpy()

        def claim(a: tuple[str, str], b: tuple[str, str]) -> dict:
            return _evidence(rows[a[0]][a[1]]["mAP"], rows[b[0]][b[1]]["mAP"],
                             bootstrap_se(scores[a], scores[b], y), target.kind)
    else:
        splits = caltech_splits(target.labels, *target.per_class, seed=study.seed)
        for (n, how), x in feats.items():
            rows[n][how] = caltech_protocol(x, target.labels, splits)

        def claim(a: tuple[str, str], b: tuple[str, str]) -> dict:
            ra, rb = rows[a[0]][a[1]], rows[b[0]][b[1]]
            se, dof = split_se(ra["splits"], rb["splits"])
            return _evidence(ra["mean"], rb["mean"], se, target.kind, dof)
    main = AGGREGATION[target.kind]
    metric = "mAP" if target.kind == "voc" else "mean"
    better = max(("D", "E"), key=lambda n: rows[n][main][metric])
    claims = {"E ≥ D": claim(("E", main), ("D", main)),
              "D&E ≥ the better of D and E": claim((FUSION, main), (better, main))}
    if target.kind == "voc":
        claims["averaging no worse than stacking (D&E)"] = claim((FUSION, "average"), (FUSION, "stack"))
    else:
        claims["stacking beats averaging (D&E)"] = claim((FUSION, "stack"), (FUSION, "average"))
    out = {"kind": target.kind, "column": target.column, "label": target.meta["label"], "aggregation": main,
           "Q": list(qs), "Q_px": px, "rows": rows, "claims": claims, "data": target.meta,
           "features_s": round(t1 - t0, 1), "svm_s": round(time.time() - t1, 1)}
    out["per_scale"] = per_scale(target, nets[FUSION], px, splits if target.kind == "caltech" else None)
    if target.kind == "caltech":
        test = splits[0]["test"]
        out["embedding"] = _embedding(feats[(FUSION, "stack")][test], target.labels[test])
    return out


def per_scale(target: Target, extractors: list[Extractor], px: list[int],
              splits: list[dict[str, torch.Tensor]] | None = None) -> list[dict]:
    """The fused descriptor at each test scale alone (Q in pixels, and its mAP, or its mean class
    recall on Caltech's ``splits``): whether the scales carry different information, which is what
    stacking can use and averaging blurs (the measurement beside the aggregation claims).
    Each scale's descriptors are the cached ones, so this costs SVMs only."""
    out = []
    for q in px:
        x = describe(extractors, target.images, target.name, [q], "average")
        out.append({"Q_px": q, "score": voc_protocol(x, target.labels, target.parts)[0]["mAP"] if splits is None
                    else caltech_protocol(x, target.labels, splits)["mean"]})
    return out


def table11(study: Study, root: str | Path | None = None) -> dict:
    """Table 11: D, E and D&E features with a linear SVM on each target, every target with both
    scale aggregations (the paper's choice first), and the paper's claims with their noise."""
    started = time.time()
    ex = extractors(study)
    nets = {"D": [ex["D"]], "E": [ex["E"]], FUSION: [ex["D"], ex["E"]]}
    targets = {t.name: _evaluate_target(study, t, nets) for t in table11_targets(study, root)}
    source = {n: study.scores([row], "dense", list(evaluate.q_set(scale_of(row))))["top1"] for n, row in NETS.items()}
    return {"targets": targets, "nets": NETS, "c_grid": list(C_GRID), "source_top1": source,
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
    claims = {"adding the box helps": _evidence(rows["image and box"]["mAP"], rows["image only"]["mAP"],
                                                bootstrap_se(scores["image and box"], scores["image only"], y),
                                                target.kind)}
    return {"rows": rows, "claims": claims, "classes": target.classes, "nets": NETS, "Q": list(qs), "Q_px": px,
            "aggregation": how, "data": target.meta, "label": target.meta["label"],
            "features_s": round(t1 - t0, 1), "svm_s": round(time.time() - t1, 1),
            "provenance": study.record(started, transfer_images=len(target.labels))}
