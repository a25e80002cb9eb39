"""The behaviour suite: what each kind of stored computation computes, measured on tiny
deterministic runs through every path a profile uses, against committed reference values.

Run keys carry an explicit version per kind (:data:`vgglib.identity.VERSIONS`), not a hash of
source text, so a refactor retrains nothing.  This suite is what keeps that honest: a change
that moves a kind's outputs fails it, naming the version to bump, until the version is bumped
and the reference recorded anew.

- classifier: augmentation at a fixed and a jittered S (crops, flips, colour shift), the dropout
  masks, both initialisations, and the training runs of the init chain (A, then B from A's
  layers, B at S = 384 from B/256, B jittered from B/384), Glorot's and the normal init, the
  validation that drives the plateau schedule, a run stopped and resumed, and one step in
  bf16 with channels-last;
- posteriors: dense, multi-crop and centre-crop test posteriors, with and without flips, at
  two test scales, of a fixed seeded net (so training changes do not move them);
- features: Appendix B's descriptors of that net at two scales, averaged and stacked;
- localiser: Appendix A's canvases and boxes, a localiser trained from the fixed net, and its
  central-crop and dense boxes with the greedy merge.

    python -m vgglib.behaviour            # check; exit status 1 naming each kind that moved
    python -m vgglib.behaviour --write    # record the reference (after bumping a version)
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch

from . import arch, boxes, evaluate, features
from .augment import Augmenter, Normalise, seeded_generator
from .box_data import canvas_splits
from .data import Splits, profile_splits
from .dropout import SampleDropout, sample_dropout
from .files import write_json
from .identity import VERSIONS
from .profiles import LocalisationSettings, Profile, get_profile
from .runs import Row, RunStore, make_spec
from .stats import compute_stats
from .train import Classification, dataset_id, ensure, train

#: The committed reference values, one entry per kind: its version and its probes' values.
REFERENCE = Path(__file__).with_name("behaviour.json")
#: How far a probe may move, relative to the sum of its values' magnitudes, and stay the same
#: behaviour: float rounding differs between CPUs (AVX-512, AMX), far more in bf16.
RTOL = 1e-4
RTOL_BF16 = 3e-2
#: The tiny profile every probe runs at: the smoke profile's engine on generated images.
TINY = dict(dataset="synthetic", width=1 / 16, fc_width=16, batch=16, max_epochs=3, max_epochs_finetune=2,
            val_size=32, train_limit=96, test_limit=32, ckpt_every_steps=2, patience=1, workers=0)
#: The init chain and the two initialisations from scratch.
ROWS = ("A/256", "B/256", "B/384", "B/256-512", "A/256:glorot", "A/256:normal")

Probe = dict[str, float]


def tiny_profile() -> Profile:
    """The smoke profile shrunk to seconds, with a localisation section of a few canvases."""
    smoke = get_profile("smoke")
    return smoke.with_(**TINY, localisation=LocalisationSettings(lr=1e-3, max_epochs=2, canvas=48, train=32,
                                                                  val=16, test=16, clutter=1))


def summary(values: torch.Tensor | list[float], rtol: float = RTOL) -> Probe:
    """A tensor in three numbers that any change of its values moves: their sum, the sum of their
    magnitudes (the scale a tolerance is relative to) and a sum weighted by a fixed cosine."""
    x = torch.as_tensor(values, dtype=torch.float64).flatten()
    mix = torch.cos(torch.arange(len(x), dtype=torch.float64) * 0.7)
    return {"sum": x.sum().item(), "abs": x.abs().sum().item(), "mix": (x * mix).sum().item(), "rtol": rtol}


def weights(model: torch.nn.Module) -> torch.Tensor:
    """All of a net's parameters in one vector."""
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def _augmentation(splits: Splits, p: Profile) -> dict[str, Probe]:
    stats = compute_stats(splits.train)
    norm = Normalise(stats.mean)
    images = splits.train.load(list(range(32)))[0]
    out = {}
    for name, scale in (("fixed S", p.scale(256)), ("jittered S", (p.scale(256), p.scale(512)))):
        aug = Augmenter(p.crop, scale, stats, norm)
        out[f"augment, {name}"] = summary(aug(images, aug.sample(len(images), seeded_generator(0, 1))))
    return out


def _dropout() -> Probe:
    layer = SampleDropout(0.5, slot=6).train()
    with sample_dropout(layer, [3, 5, 8, 13]):
        out = layer(torch.ones(4, 64))
    return summary(out)


def _init(p: Profile) -> dict[str, Probe]:
    out = {}
    for init in ("glorot", "normal"):
        torch.manual_seed(0)
        net = arch.build("D", num_classes=4, width=p.width, crop=p.crop, fc_width=p.fc_width, init=init,
                         std=p.init_std)
        out[f"init, {init}"] = summary(weights(net))
    return out


class _StopOnce(Classification):
    """Classification that raises once, at its ``at``-th training step: a run stopped mid-epoch."""

    def __init__(self, splits: Splits, parent: arch.VGG | None, at: int):
        super().__init__(splits, parent)
        self.at, self.calls = at, 0

    def loss(self, output: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.calls == self.at:
            raise KeyboardInterrupt
        return super().loss(output, labels)


def _training(splits: Splits, p: Profile, root: Path) -> dict[str, Probe]:
    store, out = RunStore(root / "runs"), {}
    for row in ROWS:
        model, run = ensure(row, p, store, splits, progress=False)
        metrics = json.loads((run / "metrics.json").read_text())
        out[f"train {row}: weights"] = summary(weights(model))
        out[f"train {row}: loss, validation error, rate"] = summary(
            [m[k] for m in metrics for k in ("train_loss", "val_top1_err", "lr")])
    resumed = RunStore(root / "resumed")
    spec = make_spec(Row.parse("A/256"), p, dataset_id(splits), 0, None)
    try:
        train(spec, resumed, splits, p, progress=False, task=_StopOnce(splits, None, at=9))
    except KeyboardInterrupt:
        pass
    out["train A/256 stopped and resumed: weights"] = summary(weights(train(spec, resumed, splits, p,
                                                                           progress=False)))
    fast = p.with_(bf16=True, channels_last=True, max_epochs=1)
    model, run = ensure("A/256", fast, RunStore(root / "bf16"), splits, progress=False)
    loss = json.loads((run / "metrics.json").read_text())[0]["train_loss"]
    out["train A/256 in bf16, channels-last: loss"] = summary([loss], RTOL_BF16)
    return out


def fixed_net(p: Profile, classes: int) -> arch.VGG:
    """A seeded untrained net A with a sharpened last layer (posteriors far from uniform, never
    saturated): what the evaluation probes test, so that no change to training moves them."""
    torch.manual_seed(0)
    net = arch.build("A", num_classes=classes, width=p.width, crop=p.crop, fc_width=p.fc_width, init="glorot")
    with torch.no_grad():
        net.weight_layers()["fc8"].weight.mul_(3)
    return net.eval()


def _posteriors(splits: Splits, p: Profile, net: arch.VGG, norm: Normalise) -> dict[str, Probe]:
    out = {}
    for q in (p.scale(256), p.scale(384)):
        for method in ("dense", "multi-crop", "centre"):
            post = evaluate.evaluate(net, splits.test, norm, method, [q], batch_size=p.eval_batch, progress=False)
            out[f"{method}, Q = {q} px"] = summary(post.log())
        out[f"dense without flips, Q = {q} px"] = summary(
            evaluate.dense_posteriors(net, splits.test, q, norm, flip=False, batch_size=p.eval_batch).log())
    return out


def _features(splits: Splits, p: Profile, net: arch.VGG, norm: Normalise, root: Path) -> dict[str, Probe]:
    extractor = features.Extractor(net, root / "features-net", norm, p.eval_batch)
    qs = [p.scale(256), p.scale(384)]
    return {f"descriptors, {how}": summary(features.describe([extractor], splits.test, "test", qs, how))
            for how in ("average", "stack")}


def _localiser(splits: Splits, p: Profile, net: arch.VGG, norm: Normalise, root: Path) -> dict[str, Probe]:
    data = canvas_splits(splits, p.localisation, seed=0)
    out = {"canvases": summary(data.test.images.load(list(range(len(data.test))))[0]),
           "canvas boxes": summary(torch.cat(data.test.boxes))}
    copied = tuple(n for n in net.weight_layers() if n != "fc8")
    spec = boxes.localiser_spec("A/256", "PCR", "all", p, data, 0, "fixed-net", copied, p.localisation.max_epochs)
    model = boxes.train_localiser(spec, RunStore(root / "localisers"), data, net, splits, p)
    out["localiser weights"] = summary(weights(model))
    q, labels = p.scale(256), data.test.labels
    out["central-crop boxes"] = summary(boxes.centre_boxes(model, data.test, q, norm, labels, p.eval_batch))
    top = torch.stack([labels, (labels + 1) % len(data.test.images.classes)], 1)
    dense = boxes.dense_predictions(model, [net], data.test, q, norm, top, p.eval_batch)
    out["dense boxes and scores"] = summary(torch.cat([torch.cat([b.flatten(), s.flatten()]) for b, s in dense]))
    out["merged boxes"] = summary(boxes.merged_boxes([dense]))
    return out


def measure(kinds: tuple[str, ...] = tuple(VERSIONS)) -> dict[str, dict[str, Probe]]:
    """The probes of ``kinds`` by kind, from a fresh run store, on one thread (so that sums
    add up in one order)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root, p = Path(tmp), tiny_profile()
            splits = profile_splits(p)
            net = fixed_net(p, len(splits.train.classes))
            norm = Normalise(compute_stats(splits.train).mean)
            probes: dict[str, Callable[[], dict[str, Probe]]] = {
                "classifier": lambda: {**_augmentation(splits, p), "dropout masks": _dropout(), **_init(p),
                                       **_training(splits, p, root)},
                "posteriors": lambda: _posteriors(splits, p, net, norm),
                "features": lambda: _features(splits, p, net, norm, root),
                "localiser": lambda: _localiser(splits, p, net, norm, root)}
            return {kind: probes[kind]() for kind in kinds}
    finally:
        torch.set_num_threads(threads)


def _moved(now: Probe, then: Probe) -> bool:
    tol = max(now["rtol"], then["rtol"]) * max(then["abs"], 1e-12)
    return any(not math.isclose(now[k], then[k], rel_tol=0.0, abs_tol=tol) for k in ("sum", "abs", "mix"))


def check(measured: dict[str, dict[str, Probe]], reference: dict,
          versions: dict[str, int] | None = None) -> list[str]:
    """What is wrong, one line per kind: outputs that moved without a version bump (naming the
    version to bump), or a reference recorded at another version than the code's."""
    versions, problems = versions or VERSIONS, []
    for kind, probes in measured.items():
        ref = reference.get(kind)
        write = "record the reference with `python -m vgglib.behaviour --write`"
        if ref is None or ref["version"] != versions[kind]:
            at = "no" if ref is None else f"version {ref['version']}'s"
            problems.append(f"{kind}: the reference holds {at} values and the code is at version "
                            f"{versions[kind]}: {write}")
            continue
        moved = sorted(set(probes) ^ set(ref["probes"])) + sorted(
            name for name in set(probes) & set(ref["probes"]) if _moved(probes[name], ref["probes"][name]))
        if moved:
            problems.append(f"{kind}: outputs moved without a version bump ({'; '.join(moved)}): bump "
                            f"VERSIONS[{kind!r}] in vgglib/identity.py (to {versions[kind] + 1}), then {write}")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Check the suite against the reference, or record the reference."""
    parser = argparse.ArgumentParser(prog="python -m vgglib.behaviour", description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="record the measured values as the reference")
    parser.add_argument("--kinds", nargs="+", choices=list(VERSIONS), default=list(VERSIONS),
                        help="check only these kinds (--write always records every kind)")
    args = parser.parse_args(argv)
    measured = measure() if args.write else measure(tuple(args.kinds))
    if args.write:
        write_json(REFERENCE, {kind: {"version": VERSIONS[kind], "probes": probes}
                               for kind, probes in measured.items()})
        print(f"recorded {sum(map(len, measured.values()))} probes in {REFERENCE}")
        return 0
    problems = check(measured, json.loads(REFERENCE.read_text()) if REFERENCE.exists() else {})
    for line in problems:
        print(line, file=sys.stderr)
    if not problems:
        print(f"behaviour unchanged: {sum(map(len, measured.values()))} probes within tolerance")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
