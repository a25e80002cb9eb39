"""Training-step throughput at a profile: vgglib's whole step (data pipeline included) against
the same net's model-only step on pre-made tensors.  The report's training throughput section,
and on its own (``python -m vgglib.bench throughput``) JSON and Markdown in out/bench/."""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from .. import arch
from ..augment import Augmenter, BatchLoader
from ..data import profile_splits
from ..images import ImageSet
from ..profiles import Profile, get_profile
from ..results import hardware
from ..stats import Stats, compute_stats
from .timing import section, table

#: The bar: vgglib's step with its data pipeline keeps at least this share of the model-only speed.
BAR = 0.9


def step_fn(model: arch.VGG, opt: torch.optim.Optimizer, bf16: bool, channels_last: bool):
    """One SGD step on a batch, with the profile's fast paths."""
    def step(x: torch.Tensor, y: torch.Tensor) -> None:
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast("cpu", torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return step


def measure(config: str, profile: str, steps: int, repeats: int) -> dict:
    """Median images/s of the model-only step and of vgglib's step with its data pipeline."""
    p = get_profile(profile)
    splits = profile_splits(p)
    return measure_with(config, p, splits.train, compute_stats(splits.train, max_images=5000), steps, repeats)


def measure_with(config: str, p: Profile, train: ImageSet, stats: Stats, steps: int, repeats: int) -> dict:
    """``measure`` on images and RGB statistics already loaded (the driver shares them)."""
    loader = BatchLoader(train, Augmenter(p.crop, (p.scale(256), p.scale(512)), stats), p.batch, seed=0)
    model = arch.build(config, num_classes=len(train.classes), width=p.width, crop=p.crop, fc_width=p.fc_width)
    if p.channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=p.lr, momentum=p.momentum, weight_decay=p.weight_decay)
    step = step_fn(model, opt, p.bf16, p.channels_last)
    x, y = next(loader.epoch(0))
    for _ in range(3):
        step(x, y)
    model_only, with_data = [], []
    for r in range(repeats):
        t = time.perf_counter()
        for _ in range(steps):
            step(x, y)
        model_only.append(steps * p.batch / (time.perf_counter() - t))
        batches = loader.epoch(r + 1)
        t = time.perf_counter()
        for _, (xb, yb) in zip(range(steps), batches):
            step(xb, yb)
        with_data.append(steps * p.batch / (time.perf_counter() - t))
    mo, wd = statistics.median(model_only), statistics.median(with_data)
    return {"config": config, "profile": p.name, "batch": p.batch, "model_only_img_s": round(mo, 1),
            "vgglib_step_img_s": round(wd, 1), "ratio": round(wd / mo, 3), "bar": BAR,
            "meets_bar": wd / mo >= BAR, "repeats": repeats, "steps_per_repeat": steps}


def training_throughput(p: Profile, train: ImageSet, stats: Stats, configs: tuple[str, ...], steps: int,
                        repeats: int) -> dict:
    """The report's training throughput section: ``measure_with`` for each configuration."""
    started = time.perf_counter()
    rows = [measure_with(c, p, train, stats, steps, repeats) for c in configs]
    units = {"batch": "images", "model_only_img_s": "images/s", "vgglib_step_img_s": "images/s",
             "ratio": "×", "bar": "×", "repeats": "count", "steps_per_repeat": "steps"}
    notes = [f"bf16 autocast {p.bf16}, channels-last {p.channels_last}, as the {p.name} profile trains; "
             f"the model-only step reuses one pre-made batch, vgglib's step draws every batch through "
             f"BatchLoader and Augmenter (jittered S in [{p.scale(256)}, {p.scale(512)}])."]
    return section("throughput", "Training throughput: vgglib's step with data against the model-only step",
                   {"profile": p.name, "configs": list(configs)},
                   [table(f"Median of {repeats} repeats of {steps} steps", units, rows)], notes, started)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``throughput`` subcommand's flags."""
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--configs", nargs="+", default=["A", "D", "E"])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default="out/bench")


def main(args: argparse.Namespace) -> None:
    """Measure each configuration and write throughput.json and throughput.md into ``--out``."""
    rows = [measure(c, args.profile, args.steps, args.repeats) for c in args.configs]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = {"hardware": hardware(), "torch": torch.__version__, "threads": torch.get_num_threads(),
              "throughput": rows}
    (out / "throughput.json").write_text(json.dumps(report, indent=2))
    lines = [f"# Training throughput ({args.profile} profile)", "", f"Hardware: {report['hardware']}, "
             f"torch {report['torch']}, {report['threads']} threads; median of {args.repeats} repeats.", "",
             "| config | model-only step (img/s) | vgglib step with data (img/s) | ratio | ≥ 0.9? |",
             "|---|---|---|---|---|"]
    lines += [f"| {r['config']} | {r['model_only_img_s']} | {r['vgglib_step_img_s']} | {r['ratio']} | "
              f"{'yes' if r['meets_bar'] else 'NO'} |" for r in rows]
    (out / "throughput.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
