"""A study: one profile, one run store, one data set, and every trained net and cached test
posterior the drivers of the paper's parts ask for.

A :class:`Study` trains a row through its init chain only when the store lacks it, and keeps
the test-set posteriors of every (net, method, Q) in that net's run directory, so multi-scale
averages, dense + multi-crop combinations and fusions of several nets never run a net twice."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from . import evaluate
from .arch import VGG
from .augment import Normalise
from .data import Splits
from .files import save_tensor
from .identity import version
from .noise import paired_se
from .profiles import Profile
from .progress import TableBar
from .results import provenance
from .runs import Row, RunStore
from .train import dataset_id, ensure


@dataclass
class Study:
    """Trained nets and their cached test posteriors at one profile."""

    profile: Profile
    store: RunStore
    splits: Splits
    seed: int = 0
    progress: bool = True
    bar: TableBar | None = None     # one progress bar over the table's epochs (vgglib.plan)
    _models: dict = field(default_factory=dict)

    @property
    def normalise(self) -> Normalise:
        """Mean-RGB subtraction with the training set's mean (§2.1)."""
        stats = self.store.stats(dataset_id(self.splits), self.splits.train)
        return Normalise(stats.mean)

    def net(self, row: str, seed: int | None = None) -> tuple[VGG, Path]:
        """The trained net of a row (trained now, with its chain, if the store lacks it)."""
        key = (row, self.seed if seed is None else seed)
        if key not in self._models:
            model, run = ensure(row, self.profile, self.store, self.splits, key[1], self.progress, self.bar)
            if self.profile.channels_last:
                model = model.to(memory_format=torch.channels_last)
            self._models[key] = (model.eval(), run)
        return self._models[key]

    def posteriors(self, row: str, method: str, q: int, seed: int | None = None) -> torch.Tensor:
        """Test-set posteriors of one net, one method, one paper-unit scale Q (cached on disk,
        keyed also by the test set's size and the version of the posteriors' computation)."""
        _, run = self.net(row, seed)
        q_px = self.profile.scale(q)
        cache = run / "posteriors" / f"test{len(self.splits.test)}-{method}-q{q_px}-v{version('posteriors')}.pt"
        if cache.exists():
            return torch.load(cache, weights_only=True)
        model = self._models[(row, self.seed if seed is None else seed)][0]
        post = evaluate.evaluate(model, self.splits.test, self.normalise, method, [q_px],
                                 batch_size=self.profile.eval_batch, progress=self.progress,
                                 autocast=self.profile.bf16)
        save_tensor(cache, post)
        return post

    def fused(self, rows: list[str] | tuple[str, ...], method: str, qs: list[int],
              seed: int | None = None) -> torch.Tensor:
        """Test posteriors of one net or a fusion of several (``method`` may join two with "+"),
        each averaged over the test scales ``qs`` (paper units), then over nets and methods."""
        return evaluate.combine(*[evaluate.multi_scale([self.posteriors(r, m, q, seed) for q in qs])
                                  for r in rows for m in method.split("+")])

    def scores(self, rows: list[str] | tuple[str, ...], method: str, qs: list[int],
               seed: int | None = None) -> dict:
        """Top-1/top-5 error of one net or a fusion of several, averaged over test scales."""
        errs = evaluate.errors(self.fused(rows, method, qs, seed), self.splits.test.labels)
        return {"top1": round(errs["top1"], 2), "top5": round(errs["top5"], 2), "Q": qs,
                "Q_px": [self.profile.scale(q) for q in qs]}

    def paired_se(self, a: tuple, b: tuple) -> float:
        """The paired standard error (points of top-1 error) of the difference between two
        evaluations on the same test images, each given as :meth:`fused`'s (rows, method, qs)."""
        labels = self.splits.test.labels
        return round(paired_se(evaluate.top1_hits(self.fused(*a), labels),
                               evaluate.top1_hits(self.fused(*b), labels)), 4)

    def runs(self) -> dict[str, str]:
        """The run (directory name: row, profile and key) of every classification net loaded,
        named as :meth:`training` names them: what :func:`vgglib.results.retrained_since`
        compares across records to find the stale ones."""
        return {(row if seed == self.seed else f"{row}#{seed}"): run.name
                for (row, seed), (_, run) in self._models.items()}

    def record(self, started: float, **extra) -> dict:
        """Provenance for a results file: the data set, the seed, and the training time of the
        nets used (recorded when each was trained, so a rerun on a warm store still shows it)."""
        return provenance(self.profile.name, started, dataset=dataset_id(self.splits),
                          data_root=self.splits.meta.get("root"), fingerprint=self.splits.fingerprint,
                          test_images=len(self.splits.test), seed=self.seed, **self.training(), **extra)

    def training(self, runs: dict[str, Path] | None = None) -> dict:
        """How each net used was trained, as its run recorded it when it finished: epochs, LR
        decays, what stopped it (the schedule, or the epoch cap while still improving) and its
        wall time; and their totals.  ``runs`` defaults to the study's classification nets."""
        runs = runs if runs is not None else {f"{row}#{seed}" if seed != self.seed else row: run
                                              for (row, seed), (_, run) in self._models.items()}
        per_net = {}
        for name, run in runs.items():
            done = self.store.done(run)
            per_net[name] = {"epochs": done["epochs"], "decays": done.get("decays"),
                             "stopped_by": done["stopped_by"], "train_s": round(done["wall_s"], 1)}
        return {"nets": len(per_net), "nets_train_s": round(sum(n["train_s"] for n in per_net.values()), 1),
                "training": per_net}


def scale_of(row: str) -> int | tuple[int, int]:
    """The training scale of a row, in paper units."""
    return Row.parse(row).scale
