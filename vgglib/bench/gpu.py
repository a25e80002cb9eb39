"""A prepared GPU check, one command for about six minutes of device time.  First the quick
profile's Table 4 nets, each trained a fixed number of epochs from an empty run store, and the
quick Table 4 and all records projected from them (:mod:`vgglib.bench.gpu_quick`).  Then net D
at the paper's size (224 px, batch 256), bf16 autocast and channels-last, eager and with
torch.compile, measured two ways:

- the step alone, on one random batch kept on the device: what the GPU can do;
- real training through :func:`vgglib.train.train` (the loop every table uses) from generated
  ImageNet-sized JPEGs, once for each data path of the ``decode`` profile setting (JPEGs decoded
  by CPU workers, or by nvJPEG on the device with the augmentation there): what it does when
  fed.  Validation is left out of the images/s (it is the loop's ``images_per_s``).

Each gives images/s, achieved TFLOP/s as a fraction of the device's measured bf16
matrix-multiply peak, the projected wall time of the paper's 74 ImageNet epochs, and peak
device memory.  Without CUDA it runs with tiny sizes, so the tests keep every line of it working.

    python -m vgglib.bench gpu --out out/bench          # on a GPU: writes results/quick/gpu.json too
    python -m vgglib.bench gpu --tiny --out /tmp/x      # anywhere: the same code on toy sizes

The quick nets read Fashion-MNIST (``--data`` where a machine without the network has a copy).
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from .. import arch
from ..data import profile_splits
from ..profiles import get_profile
from ..results import git_commit, utc_now
from ..runs import Row, RunSpec, RunStore, make_spec
from ..train import Classification, dataset_id, train
from .data_pipeline import write_jpegs
from .gpu_quick import quick_check
from .report import GPU_REPORT

IMAGENET_TRAIN = 1_281_167
PAPER_EPOCHS = 74


@dataclass(frozen=True)
class Sizes:
    """What one check runs: the net's size, the batch, and the generated JPEG folder."""

    crop: int
    batch: int
    width: float
    fc_width: int
    train_images: int    # generated training JPEGs (the loop's epoch)
    epochs: int          # the last one is measured: the first pays for warm-up and compilation
    steps: int           # step-only: timed steps after ``warmup``
    warmup: int
    peak_side: int
    peak_repeats: int


REAL = Sizes(crop=224, batch=256, width=1.0, fc_width=4096, train_images=256 * 12, epochs=3,
             steps=20, warmup=5, peak_side=8192, peak_repeats=50)
TINY = Sizes(crop=32, batch=8, width=1 / 16, fc_width=64, train_images=32, epochs=2,
             steps=2, warmup=1, peak_side=256, peak_repeats=2)


def sync(device: torch.device) -> None:
    """Wait for queued device work, so timings measure it."""
    if device.type == "cuda":
        torch.cuda.synchronize()


def matmul_peak(device: torch.device, n: int, repeats: int) -> float:
    """Measured bf16 matrix-multiply TFLOP/s: the ceiling the training step is compared to."""
    a = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    b = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    sync(device)
    t = time.perf_counter()
    for _ in range(repeats):
        a @ b
    sync(device)
    return 2 * n ** 3 * repeats / (time.perf_counter() - t) / 1e12


def train_throughput(model: torch.nn.Module, device: torch.device, batch: int, size: int,
                     steps: int, warmup: int) -> float:
    """Images/s of SGD steps on random data with bf16 autocast and channels-last."""
    opt = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(batch, 3, size, size, device=device).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 1000, (batch,), device=device)

    def step() -> None:
        with torch.autocast(device.type, torch.bfloat16):
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(warmup):
        step()
    sync(device)
    t = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    return steps * batch / (time.perf_counter() - t)


def peak_memory_gib(device: torch.device) -> float | None:
    """The device's peak allocated memory since the last reset (None on the CPU)."""
    return round(torch.cuda.max_memory_allocated(device) / 2 ** 30, 2) if device.type == "cuda" else None


class Compiled(Classification):
    """The classification task with the net compiled in place (``nn.Module.compile``): its
    weights, names and checkpoints stay those of the eager net."""

    def build(self, spec: RunSpec) -> arch.VGG:
        """The untrained (or chained) net, compiled."""
        model = super().build(spec)
        model.compile()
        return model


def fed_training(root: Path, sizes: Sizes, decode: str, compiled: bool, workers: int,
                 progress: bool = False) -> dict:
    """Train D/256 for ``sizes.epochs`` epochs on the JPEG tree at ``root`` through the loop
    every table uses, with the ``full`` profile at ``sizes`` and the data path ``decode``; the
    last epoch's images/s (data + step, without validation) and the device's peak memory."""
    p = get_profile("full").with_(dataset="folder", crop=sizes.crop, batch=sizes.batch, width=sizes.width,
                                  fc_width=sizes.fc_width, max_epochs=sizes.epochs, val_size=sizes.batch,
                                  workers=workers, decode=decode, bf16=True, channels_last=True,
                                  ckpt_every_steps=10 ** 9)
    splits = profile_splits(p, root)
    spec = make_spec(Row.parse("D/256"), p, dataset_id(splits), 0, None)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    with tempfile.TemporaryDirectory() as runs:
        store = RunStore(runs)
        task = (Compiled if compiled else Classification)(splits)
        train(spec, store, splits, p, progress=progress, task=task)
        metrics = json.loads((store.find(spec) / "metrics.json").read_text())
    return {"images_per_s": metrics[-1]["images_per_s"], "peak_memory_gib": peak_memory_gib(device)}


def figures(ips: float, flops_per_image: float, peak_tflops: float) -> dict:
    """Images/s with what follows from it: TFLOP/s, the fraction of peak, 74 epochs' hours."""
    tflops = ips * flops_per_image / 1e12
    return {"images_per_s": round(ips, 1), "tflops": round(tflops, 2),
            "fraction_of_peak": round(tflops / peak_tflops, 3),
            "projected_74_epochs_h": round(PAPER_EPOCHS * IMAGENET_TRAIN / ips / 3600, 1)}


def check(sizes: Sizes, compile_too: bool, decodes: tuple[str, ...], workers: int, quick_epochs: int = 2,
          data_root: str | None = None) -> dict:
    """The whole check at ``sizes``: the peak, the quick Table 4's nets and projection, the step
    alone, and training fed by each data path."""
    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    if cuda:
        torch.backends.cudnn.benchmark = True
    peak = matmul_peak(device, sizes.peak_side, sizes.peak_repeats)
    flops_per_image = 3 * 2 * arch.multiply_adds("D", sizes.crop, width=sizes.width, crop=sizes.crop,
                                                 fc_width=sizes.fc_width)
    report = {"device": torch.cuda.get_device_name(0) if cuda else "CPU (tiny sizes: a smoke run, "
              "not a measurement)", "tiny": sizes == TINY, "batch": sizes.batch, "size": sizes.crop,
              "matmul_bf16_peak_tflops": round(peak, 2), "train_flops_per_image": flops_per_image,
              "loader_workers": workers}
    if quick_epochs:
        report["quick"] = quick_check(sizes == TINY, quick_epochs, peak, data_root)
    modes = {"eager": False, "compile": True} if compile_too else {"eager": False}
    for name, compiled in modes.items():
        torch.manual_seed(0)
        model = arch.build("D", width=sizes.width, crop=sizes.crop, fc_width=sizes.fc_width).to(device)
        model = model.to(memory_format=torch.channels_last)
        if compiled:
            model = torch.compile(model)
        if cuda:
            torch.cuda.reset_peak_memory_stats(device)
        ips = train_throughput(model, device, sizes.batch, sizes.crop, sizes.steps, sizes.warmup)
        report[name] = {**figures(ips, flops_per_image, peak), "peak_memory_gib": peak_memory_gib(device)}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_jpegs(root / "train", sizes.train_images + sizes.batch)
        write_jpegs(root / "val", 2 * 2, seed=1)
        report["fed"] = {}
        for decode in decodes:
            for name, compiled in modes.items():
                fed = fed_training(root, sizes, decode, compiled, workers)
                report["fed"][f"{decode} decode, {name}"] = {
                    **figures(fed["images_per_s"], flops_per_image, peak),
                    "peak_memory_gib": fed["peak_memory_gib"],
                    "of_step_alone": round(fed["images_per_s"] / report[name]["images_per_s"], 3)}
    return report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``gpu`` subcommand's flags."""
    parser.add_argument("--tiny", action="store_true", help="toy sizes (forced when there is no CUDA)")
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile measurements")
    parser.add_argument("--decode", nargs="+", choices=("cpu", "device"), default=["cpu", "device"],
                        help="the data paths to train through (profile setting decode)")
    parser.add_argument("--workers", type=int, default=min(16, os.cpu_count() or 1),
                        help="loader processes for the CPU decode path")
    parser.add_argument("--quick-epochs", type=int, default=2,
                        help="epochs of each quick Table 4 net (0: skip the quick profile's part)")
    parser.add_argument("--data", default=None, help="Fashion-MNIST's folder (default: the profile's search path)")
    parser.add_argument("--out", default="out/bench")


def main(args: argparse.Namespace) -> None:
    """Run the check and write gpu.json (on a GPU also results/quick/gpu.json, the copy the book shows)."""
    tiny = args.tiny or not torch.cuda.is_available()
    report = check(TINY if tiny else REAL, not args.no_compile, tuple(args.decode), 0 if tiny else args.workers,
                   args.quick_epochs, args.data)
    report.update(commit=git_commit(), date=utc_now())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu.json").write_text(json.dumps(report, indent=2))
    if not tiny:
        GPU_REPORT.parent.mkdir(parents=True, exist_ok=True)
        GPU_REPORT.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
