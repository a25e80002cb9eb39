"""Paper §4 (Tables 3–7): what each classification table trains and evaluates.

Every function takes a :class:`~vgglib.study.Study` and returns the table's result record
(JSON-ready), with its provenance; Table 7 is computed from Tables 5 and 6's records."""
from __future__ import annotations

import time

import torch

from ... import evaluate, paper
from ...box_data import loc_splits
from ...data import Splits
from ...noise import paired_se
from ...study import Study, scale_of
from .rows import (
    DIAGNOSIS_ROWS,
    FIT_IMAGES,
    FIT_ROWS,
    JITTERED,
    NOISE_ROWS,
    SHALLOW_PAIR,
    SHALLOW_ROWS,
    TABLE3_PAIRS,
    TABLE3_ROWS,
    TABLE4_ROWS,
    table4_pairs,
)


def noise(study: Study, rows: tuple[str, ...] = NOISE_ROWS, seeds: int | None = None) -> dict:
    """Each noise row trained with ``seeds`` seeds (None: the profile's ``noise_seeds``), tested
    single-scale and multi-scale dense: the reports pool their variance into the noise of every
    comparison of different nets."""
    seeds = study.profile.noise_seeds if seeds is None else seeds
    out = {}
    for row in rows:
        s = scale_of(row)
        out[row] = {"seeds": {seed: {"single": study.scores([row], "dense", [evaluate.q_single(s)], seed)["top1"],
                                     "multi": study.scores([row], "dense", list(evaluate.q_set(s)), seed)["top1"]}
                              for seed in range(seeds)}}
    return out


def table3(study: Study, rows: tuple[str, ...] = TABLE3_ROWS, method: str = "dense",
           seeds: int | None = None) -> dict:
    """Table 3: dense evaluation (or ``method``) at one test scale, of ``rows``; §4.1's B vs
    shallow 5×5 (centre crop).  The comparisons stored are those of Table 3 among ``rows``."""
    started = time.time()
    scored = {r: study.scores([r], method, [evaluate.q_single(scale_of(r))]) for r in rows}
    shallow = {r: study.scores([r], "centre", [evaluate.q_single(scale_of(r))]) for r in SHALLOW_ROWS}
    pairs = {f"{a} vs {b}": {"single": study.paired_se(single(a, method), single(b, method))}
             for a, b in TABLE3_PAIRS if a in rows and b in rows}
    a, b = SHALLOW_PAIR
    pairs[f"{a} vs {b}"] = {"centre": study.paired_se(single(a, "centre"), single(b, "centre"))}
    return {"rows": scored, "shallow": shallow, "pairs": pairs, "noise": noise(study, seeds=seeds),
            "provenance": study.record(started)}


def single(row: str, method: str = "dense") -> tuple[list[str], str, list[int]]:
    """A net tested at its single test scale, as :meth:`Study.fused` takes it."""
    return [row], method, [evaluate.q_single(scale_of(row))]


def multi(row: str, method: str = "dense", qs: list[int] | None = None) -> tuple[list[str], str, list[int]]:
    """A net tested at its three test scales (or at ``qs``), as :meth:`Study.fused` takes it."""
    return [row], method, list(qs or evaluate.q_set(scale_of(row)))


def table4(study: Study, rows: tuple[str, ...] = TABLE4_ROWS, scales: list[int] | None = None,
           method: str = "dense", seeds: int | None = None) -> dict:
    """Table 4: dense evaluation (or ``method``) averaged over each net's three test scales (or
    over ``scales`` for every net), beside its single scale; the error at each scale tested."""
    started = time.time()
    scored = {}
    for r in rows:
        s = scale_of(r)
        qs = list(scales or evaluate.q_set(s))
        single = [evaluate.q_single(s)]
        scored[r] = {"multi": study.scores([r], method, qs), "single": study.scores([r], method, single),
                     "per_q": {q: study.scores([r], method, [q])["top1"] for q in sorted({*qs, *single})},
                     "paired_se": study.paired_se(([r], method, qs), ([r], method, single))}
    pairs = {f"{a} vs {b}": {"multi": study.paired_se(multi(a, method, scales), multi(b, method, scales))}
             for a, b in table4_pairs() if a in rows and b in rows}
    return {"rows": scored, "pairs": pairs, "noise": noise(study, seeds=seeds), "provenance": study.record(started)}


def table5(study: Study, rows: tuple[str, ...] = JITTERED, scales: list[int] | None = None,
           seeds: int | None = None) -> dict:
    """Table 5: dense vs multi-crop vs both, for the jittered nets at Q = {Smin, mid, Smax} (or
    at ``scales``)."""
    started = time.time()
    scored = {}
    for r in rows:
        qs = list(scales or evaluate.q_set(scale_of(r)))
        scored[r] = {m: study.scores([r], m, qs) for m in ("dense", "multi-crop", "dense+multi-crop")}
        best = min(("dense", "multi-crop"), key=lambda m: scored[r][m]["top1"])
        scored[r]["paired_se"] = {
            "multi-crop vs dense": study.paired_se(([r], "multi-crop", qs), ([r], "dense", qs)),
            "combined vs best": study.paired_se(([r], "dense+multi-crop", qs), ([r], best, qs))}
    return {"rows": scored, "noise": noise(study, seeds=seeds), "provenance": study.record(started)}


def table6(study: Study, seeds: int | None = None) -> dict:
    """Table 6: fusion by averaging posteriors: the 7-net submission (multi-scale dense) and
    the two jittered nets with dense, multi-crop and both."""
    started = time.time()
    def qs(r: str) -> list[int]:
        return list(evaluate.q_set(scale_of(r)))
    labels = study.splits.test.labels
    sub = evaluate.combine(*[study.fused([r], "dense", qs(r)) for r in paper.SUBMISSION_NETS])
    errs = evaluate.errors(sub, labels)
    singles = {r: study.scores([r], "dense", qs(r)) for r in (*paper.SUBMISSION_NETS, *JITTERED)}

    def with_best(post: torch.Tensor, nets: tuple[str, ...], method: str) -> dict:
        """The fusion's best member tested as the fusion is (``method``), and the paired
        standard error of the two on the same images."""
        best = min(nets, key=lambda r: study.scores([r], method, qs(r))["top1"])
        member = study.fused([best], method, qs(best))
        return {"best_single": {"net": best, "top1": study.scores([best], method, qs(best))["top1"]},
                "paired_se": round(paired_se(evaluate.top1_hits(post, labels), evaluate.top1_hits(member, labels)), 4)}

    rows = {"ILSVRC submission (7 nets), dense": {"top1": round(errs["top1"], 2), "top5": round(errs["top5"], 2),
                                                  **with_best(sub, paper.SUBMISSION_NETS, "dense")}}
    for method, name in (("dense", "dense"), ("multi-crop", "multi-crop"),
                         ("dense+multi-crop", "multi-crop & dense")):
        rows[f"D/256-512 + E/256-512, {name}"] = {
            **study.scores(list(JITTERED), method, qs(JITTERED[0])),
            **with_best(study.fused(list(JITTERED), method, qs(JITTERED[0])), JITTERED, method)}
    order = sorted(paper.SUBMISSION_NETS, key=lambda r: singles[r]["top1"])
    return {"rows": rows, "singles": singles,
            "growing": grown_fusion(labels, {r: study.fused([r], "dense", qs(r)) for r in order}, singles),
            "noise": noise(study, seeds=seeds), "provenance": study.record(started)}


def grown_fusion(labels: torch.Tensor, posteriors: dict[str, torch.Tensor], singles: dict) -> list[dict]:
    """The fusion grown one net at a time in the order given (best single net first): each
    step's top-1 error shows which members help and which pull the average down (the
    measurement beside the claim that the 7-net fusion beats its best net)."""
    out, members = [], []
    for net, post in posteriors.items():
        members.append(post)
        out.append({"net": net, "single": singles[net]["top1"],
                    "fused": round(evaluate.errors(evaluate.combine(*members), labels)["top1"], 2)})
    return out


def table7(study: Study, table5: dict, table6: dict) -> dict:
    """Table 7 is rendered from Tables 5 and 6's records; its own record names the ones it used."""
    return {"uses": {"table5": table5["provenance"], "table6": table6["provenance"]},
            "provenance": study.record(time.time())}


def canvas_splits(study: Study) -> Splits:
    """Appendix A's canvases (one Fashion-MNIST item at 35–85 % of the canvas side, anywhere on
    it, among clutter) as a classification data set: unlike the 28-px items of Fashion-MNIST,
    whose size never varies, the object's scale varies here as it does in ImageNet's photos."""
    data = loc_splits(study.profile, study.splits, study.seed)
    return Splits(data.train.images, data.val.images, data.test.images, name=f"{data.name}-classes",
                  meta={**data.meta, "of": data.name})


def jitter_canvases(study: Study) -> dict:
    """Scale jittering against fixed S for D, trained and tested (multi-scale dense, as Table 4)
    on canvases where the object's size varies: a measured explanation for the jittering
    claims when they fail on Fashion-MNIST (whose 28-px items a larger S only up-samples)."""
    started = time.time()
    canvases = Study(study.profile, study.store, canvas_splits(study), study.seed, progress=study.progress)
    rows = {}
    for r in DIAGNOSIS_ROWS:
        s = scale_of(r)
        qs, single = list(evaluate.q_set(s)), [evaluate.q_single(s)]
        rows[r] = {"multi": canvases.scores([r], "dense", qs), "single": canvases.scores([r], "dense", single)}
    fixed = min(DIAGNOSIS_ROWS[:2], key=lambda r: rows[r]["multi"]["top1"])
    jittered = DIAGNOSIS_ROWS[2]
    se = canvases.paired_se(multi(jittered), multi(fixed))
    return {"rows": rows, "fixed": fixed, "paired_se": se, "data": canvases.splits.meta,
            "test_images": len(canvases.splits.test), "provenance": canvases.record(started)}


def training_fit(study: Study) -> dict:
    """Each net's top-1 error on images it was trained on (a seeded subset of the training
    split, unaugmented, dense at its single test scale as the validation during training is),
    beside its best validation error and its test error: whether a deeper net, or LRN, buys any
    fit at this scale, measured beside the depth and LRN claims where they fail."""
    started = time.time()
    train = study.splits.train
    pick = torch.randperm(len(train), generator=torch.Generator().manual_seed(study.seed))[:FIT_IMAGES]
    seen = train.subset(pick)
    p, rows = study.profile, {}
    for r in FIT_ROWS:
        model, run = study.net(r)
        q = evaluate.q_single(scale_of(r))
        post = evaluate.evaluate(model, seen, study.normalise, "dense", [p.scale(q)], batch_size=p.eval_batch,
                                 progress=study.progress, autocast=p.bf16)
        rows[r] = {"Q": q, "Q_px": p.scale(q), "train_top1": round(evaluate.topk_error(post, seen.labels, 1), 2),
                   "val_top1": round(study.store.done(run)["best_val_top1_err"], 2),
                   "test_top1": study.scores([r], "dense", [q])["top1"]}
    return {"rows": rows, "train_images": len(seen), "provenance": study.record(started)}
