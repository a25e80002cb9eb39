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
from .identity import evaluation_code_version
from .profiles import Profile
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
            model, run = ensure(row, self.profile, self.store, self.splits, key[1], self.progress)
            if self.profile.channels_last:
                model = model.to(memory_format=torch.channels_last)
            self._models[key] = (model.eval(), run)
        return self._models[key]

    def posteriors(self, row: str, method: str, q: int, seed: int | None = None) -> torch.Tensor:
        """Test-set posteriors of one net, one method, one paper-unit scale Q (cached on disk,
        keyed also by the test set's size and the evaluation code's version)."""
        _, run = self.net(row, seed)
        q_px = self.profile.scale(q)
        version = evaluation_code_version()
        cache = run / "posteriors" / f"test{len(self.splits.test)}-{method}-q{q_px}-{version}.pt"
        if cache.exists():
            return torch.load(cache, weights_only=True)
        model = self._models[(row, self.seed if seed is None else seed)][0]
        post = evaluate.evaluate(model, self.splits.test, self.normalise, method, [q_px],
                                 batch_size=self.profile.eval_batch, progress=self.progress,
                                 autocast=self.profile.bf16)
        save_tensor(cache, post)
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
        train_s = sum(self.store.done(run)["wall_s"] for _, run in self._models.values())
        return provenance(self.profile.name, started, dataset=dataset_id(self.splits),
                          data_root=self.splits.meta.get("root"), fingerprint=self.splits.fingerprint,
                          test_images=len(self.splits.test), seed=self.seed,
                          nets=len(self._models), nets_train_s=round(train_s, 1), **extra)


def scale_of(row: str) -> int | tuple[int, int]:
    """The training scale of a row, in paper units."""
    return Row.parse(row).scale
