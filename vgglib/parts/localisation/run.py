"""Paper Appendix A (Tables 8–10): which localisation nets each table trains, and how each
is tested — protocol 1 (true class, central crop) and protocol 2 (dense, top-5 classes,
greedy merge)."""
from __future__ import annotations

import time
from pathlib import Path

import torch

from ... import arch, evaluate
from ...box_data import BoxSet, LocSplits, loc_splits
from ...boxes import (
    centre_boxes,
    dense_predictions,
    error,
    hits,
    localiser_spec,
    merged_boxes,
    train_localiser,
    windows_alone,
)
from ...claims import Evidence
from ...noise import interval, paired_se, same_nets
from ...profiles import Profile
from ...runs import RunStore
from ...study import Study, scale_of
from .rows import CLASSIFIERS, DENSE_CLAIM, TABLE8_ROWS, TABLE8_S, TABLE9_ROWS


def localisation_data(study: Study) -> LocSplits:
    """The study's localisation data: ILSVRC boxes at ``full``, Fashion-MNIST canvases otherwise."""
    return loc_splits(study.profile, study.splits, study.seed)


def localiser_epochs(profile: Profile) -> int:
    """The localisers' epoch cap, a guard like every cap: the ``max_epochs`` of the profile's
    localisation section where it sets one, else the profile's own (localisers fine-tune at
    the paper's rate of 1e-3 from a trained net, and may need longer than the classification
    nets before their schedule ends them)."""
    return profile.section("localisation").max_epochs or profile.max_epochs


def localiser(study: Study, data: LocSplits, row: str, head: str, tune: str) -> tuple[arch.VGG, Path]:
    """The localisation net of a row (``D/256``, ``D/384``), trained from that row's
    classification net if the run store lacks it."""
    donor, donor_run = study.net(row)
    copied = tuple(n for n in donor.weight_layers() if n != "fc8")
    spec = localiser_spec(row, head, tune, study.profile, data, study.seed, study.store.key(donor_run),
                          copied, localiser_epochs(study.profile))
    model = train_localiser(spec, study.store, data, donor, study.splits, study.profile, study.progress)
    return model, study.store.root / spec.dirname


def _evidence(hit_a: torch.Tensor, hit_b: torch.Tensor) -> dict:
    """The stored evidence of a claim "a has the lower error than b": both errors and the
    paired noise of the two on the same test images."""
    return Evidence(round(error(hit_a), 2), round(error(hit_b), 2), *interval(same_nets(paired_se(hit_a, hit_b)))
                    ).to_record()


def _samples(data: BoxSet, n: int = 8) -> list[int]:
    """Which test images the figures show (the first few, so a reader can regenerate them)."""
    return list(range(min(n, len(data))))


def table8(study: Study, data: LocSplits | None = None) -> dict:
    """Table 8: SCR vs PCR and FC-only vs all-layer fine-tuning at S = 384, protocol 1
    (ground-truth class, central crop), with the paired claims and sample boxes."""
    started = time.time()
    data = data or localisation_data(study)
    test, q, show = data.test, study.profile.scale(TABLE8_S), _samples(data.test)
    rows, hit, pred, runs = {}, {}, {}, set()
    for name, (tune, head) in TABLE8_ROWS.items():
        model, run = localiser(study, data, f"D/{TABLE8_S}", head, tune)
        runs.add(run)
        boxes = centre_boxes(model, test, q, study.normalise, test.labels, study.profile.eval_batch,
                             study.profile.bf16)
        hit[name] = hits(boxes[:, None], test.labels[:, None], test)
        pred[name] = boxes[show].tolist()
        rows[name] = {"error": round(error(hit[name]), 2),
                      "training": RunStore.done(run)}
    claims = {"PCR beats SCR (fc6–fc7 fine-tuned)": _evidence(hit["FC1+FC2/PCR"], hit["FC1+FC2/SCR"]),
              "fine-tuning all layers beats fc6–fc7 only (PCR)": _evidence(hit["all/PCR"], hit["FC1+FC2/PCR"])}
    samples = {"index": show, "truth": [test.boxes[i][0].tolist() for i in show], "pred": pred}
    return {"rows": rows, "claims": claims, "samples": samples,
            "data": {"name": data.name, "max_epochs": localiser_epochs(study.profile), **data.meta},
            "provenance": study.record(started, loc_test_images=len(test), Q_px=q,
                                       localisers=study.training({run.name: run for run in runs}))}


def table9(study: Study, data: LocSplits | None = None, classifiers: tuple[str, ...] = CLASSIFIERS) -> dict:
    """Table 9: protocol 2 (dense, top-5 classes from the classification system, greedy
    merge) per test-scale set and fused over nets, against protocol 1 at S = 384."""
    started = time.time()
    data = data or localisation_data(study)
    test, p, norm = data.test, study.profile, study.normalise
    nets = [study.net(r)[0] for r in classifiers]
    post = evaluate.combine(*[evaluate.evaluate(net, test.images, norm, "dense",
                                                [p.scale(q) for q in evaluate.q_set(scale_of(r))],
                                                batch_size=p.eval_batch, autocast=p.bf16)
                              for net, r in zip(nets, classifiers)])
    k = min(5, post.shape[1])
    classes = torch.cat([post.topk(k, 1).indices, test.labels[:, None]], 1)   # top-5, then the true class
    stride = evaluate.dense_stride(nets[0].crop)
    dense, rows, hit, runs = {}, {}, {}, set()
    show = _samples(test)
    boxers = {row: localiser(study, data, row, "PCR", "all")                  # each net loaded once
              for row in sorted({row for parts in TABLE9_ROWS.values() for row, _ in parts})}
    for name, parts in TABLE9_ROWS.items():
        for row, q in parts:
            if (row, q) not in dense:
                model, run = boxers[row]
                runs.add(run)
                dense[(row, q)] = dense_predictions(model, nets, test, p.scale(q), norm, classes,
                                                    p.eval_batch, p.bf16)
        best = merged_boxes([dense[part] for part in parts])
        hit[name] = hits(best[:, :k], classes[:, :k], test)
        rows[name] = {"top5": round(error(hit[name]), 2),
                      "gt_class": round(error(hits(best[:, k:], classes[:, k:], test)), 2),
                      "Q": [q for _, q in parts], "Q_px": [p.scale(q) for _, q in parts],
                      "boxes_per_image": round(sum(len(b) for part in parts for b, _ in dense[part])
                                               / len(test), 1),
                      "sample_top1": best[show, 0].tolist()}
    centre = centre_boxes(boxers[f"D/{TABLE8_S}"][0], test, p.scale(TABLE8_S), norm, test.labels, p.eval_batch, p.bf16)
    hit_centre = hits(centre[:, None], test.labels[:, None], test)
    singles = min(("256/256", "384/352,384"), key=lambda r: error(hit[r]))
    fusion = "fusion 256/256 + 384/352,384"
    claims = {DENSE_CLAIM: _evidence(hit["384/384"], hit_centre),
              "several test scales beat one (S = 384)": _evidence(hit["384/352,384"], hit["384/384"]),
              "fusing two nets beats the better one": _evidence(hit[fusion], hit[singles])}
    alone = {row: windows_alone(model, test, p.scale(scale_of(row)), norm, p.eval_batch, p.bf16)
             for row, (model, _) in boxers.items()}
    return {"rows": rows, "claims": claims, "centre_crop_error": round(error(hit_centre), 2), "windows_alone": alone,
            "classification": {r: round(v, 2) for r, v in evaluate.errors(post, test.labels).items()},
            "classifiers": list(classifiers), "stride_px": stride,
            "samples": {"index": show, "truth": [test.boxes[i][0].tolist() for i in show],
                        "top1_class": classes[show, 0].tolist()},
            "data": {"name": data.name, "max_epochs": localiser_epochs(study.profile), **data.meta},
            "provenance": study.record(started, loc_test_images=len(test),
                                       localisers=study.training({run.name: run for run in runs}))}


def table10(study: Study, table9: dict) -> dict:
    """Table 10 is rendered from Table 9's record; its own record names the one it used."""
    return {"uses": {"table9": table9["provenance"]}, "provenance": study.record(time.time())}
