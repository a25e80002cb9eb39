"""Paper §4: what each of Tables 3–7 trains and evaluates, with every posterior cached.

A :class:`Study` binds a profile, a run store and a data set.  It trains a row through its
init chain only when the store lacks it, and keeps the test-set posteriors of every
(net, method, Q) in that net's run directory, so multi-scale averages, dense + multi-crop
combinations and fusions of several nets never run a net twice."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from . import evaluate, paper
from .arch import VGG
from .augment import Normalise
from .data import Splits
from .stats import cached_stats
from .profiles import Profile
from .results import provenance
from .runs import Row, RunStore
from .train import dataset_id, ensure

#: Table 3's rows (single test scale), Table 4's (multi-scale), and §4.1's shallow-net pair.
TABLE3_ROWS = tuple(paper.TABLE3)
TABLE4_ROWS = tuple(paper.TABLE4)
SHALLOW_ROWS = ("B/256", "B-5x5/256")
JITTERED = ("D/256-512", "E/256-512")


@dataclass
class Study:
    """Trained nets and their cached test posteriors at one profile."""

    profile: Profile
    store: RunStore
    splits: Splits
    seed: int = 0
    progress: bool = True
    _models: dict = field(default_factory=dict)

    @property
    def normalise(self) -> Normalise:
        """Mean-RGB subtraction with the training set's mean (§2.1)."""
        stats = cached_stats(self.splits.train, self.store.data_dir(dataset_id(self.splits)) / "stats.json")
        return Normalise(stats.mean)

    def net(self, row: str, seed: int | None = None) -> tuple[VGG, Path]:
        """The trained net of a row (trained now, with its chain, if the store lacks it)."""
        key = (row, self.seed if seed is None else seed)
        if key not in self._models:
            model, run = ensure(row, self.profile, self.store, self.splits, key[1], self.progress)
            if self.profile.channels_last:
                model = model.to(memory_format=torch.channels_last)
            self._models[key] = (model.eval(), run)
        return self._models[key]

    def posteriors(self, row: str, method: str, q: int, seed: int | None = None) -> torch.Tensor:
        """Test-set posteriors of one net, one method, one paper-unit scale Q (cached on disk)."""
        _, run = self.net(row, seed)
        q_px = self.profile.scale(q)
        cache = run / "posteriors" / f"test-{method}-q{q_px}.pt"
        if cache.exists():
            return torch.load(cache, weights_only=True)
        model = self._models[(row, self.seed if seed is None else seed)][0]
        post = evaluate.evaluate(model, self.splits.test, self.normalise, method, [q_px],
                                 batch_size=self.profile.eval_batch, progress=self.progress,
                                 autocast=self.profile.bf16)
        cache.parent.mkdir(exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        torch.save(post, tmp)
        tmp.replace(cache)
        return post

    def scores(self, rows: list[str] | tuple[str, ...], method: str, qs: list[int],
               seed: int | None = None) -> dict:
        """Top-1/top-5 error of one net or a fusion of several, averaged over test scales."""
        post = evaluate.combine(*[evaluate.multi_scale([self.posteriors(r, m, q, seed) for q in qs])
                                  for r in rows for m in method.split("+")])
        errs = evaluate.errors(post, self.splits.test.labels)
        return {"top1": round(errs["top1"], 2), "top5": round(errs["top5"], 2), "Q": qs,
                "Q_px": [self.profile.scale(q) for q in qs]}

    def record(self, started: float, **extra) -> dict:
        """Provenance for a results file: the data set, the seed, and the training time of the
        nets used (recorded when each was trained, so a rerun on a warm store still shows it)."""
        train_s = sum(json.loads((run / "done.json").read_text())["wall_s"] for _, run in self._models.values())
        return provenance(self.profile.name, started, dataset=dataset_id(self.splits),
                          test_images=len(self.splits.test), seed=self.seed,
                          nets=len(self._models), nets_train_s=round(train_s, 1), **extra)


def scale_of(row: str) -> int | tuple[int, int]:
    """The training scale of a row, in paper units."""
    return Row.parse(row).scale


def noise(study: Study, row: str = "A/256", seeds: int = 2) -> dict:
    """The same row trained with several seeds (single-scale dense): differences between
    rows smaller than this spread are not evidence either way."""
    q = evaluate.q_single(scale_of(row))
    return {"row": row, "seeds": {s: study.scores([row], "dense", [q], seed=s) for s in range(seeds)}}


def table3(study: Study) -> dict:
    """Table 3: dense evaluation at one test scale; §4.1's B vs shallow 5×5 (centre crop)."""
    started = time.time()
    rows = {r: study.scores([r], "dense", [evaluate.q_single(scale_of(r))]) for r in TABLE3_ROWS}
    shallow = {r: study.scores([r], "centre", [evaluate.q_single(scale_of(r))]) for r in SHALLOW_ROWS}
    return {"rows": rows, "shallow": shallow, "noise": noise(study), "provenance": study.record(started)}


def table4(study: Study) -> dict:
    """Table 4: dense evaluation averaged over three test scales, beside the single scale."""
    started = time.time()
    rows = {}
    for r in TABLE4_ROWS:
        s = scale_of(r)
        qs = list(evaluate.q_set(s))
        rows[r] = {"multi": study.scores([r], "dense", qs),
                   "single": study.scores([r], "dense", [evaluate.q_single(s)]),
                   "per_q": {q: study.scores([r], "dense", [q])["top1"] for q in qs}}
    return {"rows": rows, "noise": noise(study), "provenance": study.record(started)}


def table5(study: Study) -> dict:
    """Table 5: dense vs multi-crop vs both, for the jittered nets at Q = {Smin, mid, Smax}."""
    started = time.time()
    rows = {}
    for r in JITTERED:
        qs = list(evaluate.q_set(scale_of(r)))
        rows[r] = {m: study.scores([r], m, qs) for m in ("dense", "multi-crop", "dense+multi-crop")}
    return {"rows": rows, "noise": noise(study), "provenance": study.record(started)}


def table6(study: Study) -> dict:
    """Table 6: fusion by averaging posteriors: the 7-net submission (multi-scale dense) and
    the two jittered nets with dense, multi-crop and both."""
    started = time.time()
    def qs(r: str) -> list[int]:
        return list(evaluate.q_set(scale_of(r)))
    sub = evaluate.combine(*[evaluate.multi_scale([study.posteriors(r, "dense", q) for q in qs(r)])
                             for r in paper.SUBMISSION_NETS])
    errs = evaluate.errors(sub, study.splits.test.labels)
    rows = {"ILSVRC submission (7 nets), dense": {"top1": round(errs["top1"], 2),
                                                  "top5": round(errs["top5"], 2)}}
    singles = {r: study.scores([r], "dense", qs(r)) for r in (*paper.SUBMISSION_NETS, *JITTERED)}
    for method, name in (("dense", "dense"), ("multi-crop", "multi-crop"),
                         ("dense+multi-crop", "multi-crop & dense")):
        rows[f"D/256-512 + E/256-512, {name}"] = study.scores(list(JITTERED), method, qs(JITTERED[0]))
    return {"rows": rows, "singles": singles, "noise": noise(study), "provenance": study.record(started)}


def table7(study: Study) -> dict:
    """Table 7's inputs: the results of Tables 5 and 6 (cheap once those ran)."""
    started = time.time()
    return {"table5": table5(study), "table6": table6(study), "provenance": study.record(started)}


def training(study: Study, deep: str = "D/256") -> dict:
    """§3.1 at this profile: the learning curves of the init chain (A, then the deep net from
    A) beside the deep net trained from random init, and the deep net's test error."""
    started = time.time()
    rows = ("A/256", deep, f"{deep}:{study.profile.init}")
    curves = {}
    for row in rows:
        _, run = study.net(row)
        curves[row] = json.loads((run / "metrics.json").read_text())
    s = scale_of(deep)
    test = {row: study.scores([row], "dense", list(evaluate.q_set(s))) for row in rows[1:]}
    return {"curves": curves, "test": test, "provenance": study.record(started)}
