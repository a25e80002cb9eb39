"""The compute floor of a table, the arithmetic it runs divided by this machine's measured
matrix-multiply peak, so a table's wall time can be read as a multiple of what the hardware
needs at the least.

The work is every training step of every net the table trains (its init chain and its noise
seeds included), every per-epoch validation pass, and every test evaluation (method × Q), each
at the profile's crop, width, batch and dtype.  Epochs are the ones a run actually ran when
the run store holds it (``done.json``), else the profile's cap.  Training counts 3 forward
passes per image (``steps.train_flops``); evaluation counts what ``vgglib.evaluate`` runs,
by torch's FLOP counter on one image, so it follows whatever dense evaluation becomes.
Data loading, start-up and the book have no arithmetic floor: they are all overhead."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from .. import arch, evaluate
from ..augment import Normalise
from ..images import TensorImages
from ..plan import table_nets
from ..profiles import Profile
from ..runs import Row, RunStore, resolved
from .steps import train_flops

#: (train images before the validation hold-out, test images, image (channels, h, w)) per data set.
DATASETS = {"fashion-mnist": (60_000, 10_000, (1, 28, 28)), "imagenet": (1_281_167, 50_000, (3, 375, 500))}


@dataclass(frozen=True)
class Work:
    """One piece of a table's arithmetic: what runs, on how many images, in which dtype."""

    part: str          # "train", "validation" or "test"
    net: str           # the row and seed, e.g. "A/256 seed 1"
    what: str          # e.g. "12 epochs (run store)", "dense Q=37 px"
    flops: float
    dtype: str         # "bf16" or "fp32": which peak it divides by


def stored_epochs(runs: Path | None, row: str, profile: str, seed: int) -> int | None:
    """Epochs the newest completed run of (row, profile, seed) in a run store ran, or None."""
    if runs is None or not runs.is_dir():
        return None
    found = []
    for spec_file in runs.glob("*/spec.json"):
        spec, done = json.loads(spec_file.read_text()), spec_file.parent / "done.json"
        if (spec["row"], spec["profile"], spec["seed"]) == (row, profile, seed) and done.exists():
            found.append((done.stat().st_mtime, RunStore.done(spec_file.parent)["epochs"]))
    return max(found)[1] if found else None


def eval_flops(model: arch.VGG, image: torch.Tensor, method: str, q: int, flip: bool, bf16: bool) -> float:
    """FLOPs ``vgglib.evaluate`` spends on one image (uint8, (C, h, w)) at Q pixels."""
    images = TensorImages(image[None], torch.zeros(1, dtype=torch.long), ["x"])
    with FlopCounterMode(display=False) as counter:
        evaluate.evaluate(model, images, Normalise((128.0,) * 3), method, [q], flip=flip, autocast=bf16)
    return float(counter.get_total_flops())


def table_work(table: str, p: Profile, runs: Path | None = None) -> list[Work]:
    """Every piece of arithmetic ``table`` runs at profile ``p`` (epochs from ``runs`` when it
    holds the nets, else the profile's caps)."""
    n_all, n_test, shape = DATASETS[p.dataset]
    n_val = p.val_size
    n_train = min(n_all - n_val, p.train_limit or n_all)
    n_test = min(n_test, p.test_limit or n_test)
    dtype = "bf16" if p.bf16 else "fp32"
    image = torch.full(shape, 128, dtype=torch.uint8)
    size = dict(width=p.width, fc_width=p.fc_width, num_classes=10 if p.dataset == "fashion-mnist" else 1000)
    steps = n_train // p.batch
    work, counted = [], {}
    for (row, seed), tests in table_nets(table, p.noise_seeds).items():
        r = Row.parse(row)
        name = f"{row} seed {seed}"
        epochs = stored_epochs(runs, row, p.name, seed)
        source = "run store" if epochs is not None else "profile cap"
        epochs = epochs if epochs is not None else resolved(r, p)[1]
        work.append(Work("train", name, f"{epochs} epochs ({source})",
                         epochs * steps * p.batch * train_flops(r.config, p.crop, **size), dtype))
        model = arch.build(r.config, crop=p.crop, **size)
        q_val = p.scale(evaluate.q_single(r.scale))
        key = (r.config, "dense", q_val, False)
        counted.setdefault(key, eval_flops(model, image, "dense", q_val, False, p.bf16))
        work.append(Work("validation", name, f"dense Q={q_val} px, {epochs} epochs",
                         epochs * n_val * counted[key], dtype))
        for method, qs in tests.items():
            for q in sorted(qs):
                key = (r.config, method, p.scale(q), True)
                counted.setdefault(key, eval_flops(model, image, method, p.scale(q), True, p.bf16))
                work.append(Work("test", name, f"{method} Q={p.scale(q)} px", n_test * counted[key], dtype))
    return work


def floor_summary(work: list[Work], peaks: dict[str, float]) -> dict:
    """The floor in seconds (FLOPs / peak GFLOP/s of each piece's dtype), by part and in all."""
    items = [{**asdict(w), "floor_s": w.flops / (peaks[w.dtype] * 1e9)} for w in work]
    by_part: dict[str, float] = {}
    for it in items:
        by_part[it["part"]] = by_part.get(it["part"], 0.0) + it["floor_s"]
    return {"floor_s": round(sum(by_part.values()), 1), "tflop": round(sum(w.flops for w in work) / 1e12, 2),
            "by_part_s": {k: round(v, 1) for k, v in by_part.items()}, "peaks_gflop_s": peaks,
            "items": [{**it, "floor_s": round(it["floor_s"], 2)} for it in items]}
