"""The report's memory section.  The peak resident memory of a short training run at a profile
(measured in a fresh child process, so nothing else the driver did counts), and the activation
memory of full-size net D, counted from its architecture and measured with autograd's
saved-tensor hooks, then the per-GPU batch that fits on 80 and 141 GiB devices."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from .. import arch
from ..augment import Augmenter, BatchLoader
from ..data import profile_splits
from ..profiles import get_profile
from ..stats import compute_stats
from .throughput import step_fn
from .timing import section, table

MIB = 2 ** 20
GIB = 2 ** 30
#: Total device memory nvidia-smi reports for the "80 GB" (H100/A100) and "141 GB" (H200) GPUs, in MiB.
GPUS_MIB = {"H100 80GB (81,559 MiB)": 81559, "H200 141GB (143,771 MiB)": 143771}
#: Bytes of weights + gradients + SGD momentum per parameter, all fp32.
STATE_BYTES_PER_PARAM = 3 * 4


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM, Linux).  Not ru_maxrss: Linux carries the
    parent's peak across fork and exec into it, so a child would report the driver's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / MIB
    raise OSError("no VmHWM in /proc/self/status: peak RSS needs Linux")


def rss_child(profile: str, steps: int) -> dict:
    """Peak RSS (MiB) after setting up a training run of D at ``profile`` and after ``steps`` steps."""
    p = get_profile(profile)
    splits = profile_splits(p)
    stats = compute_stats(splits.train, max_images=5000)
    loader = BatchLoader(splits.train, Augmenter(p.crop, (p.scale(256), p.scale(512)), stats), p.batch, seed=0)
    model = arch.build("D", num_classes=len(splits.train.classes), width=p.width, crop=p.crop, fc_width=p.fc_width)
    if p.channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=p.lr, momentum=p.momentum, weight_decay=p.weight_decay)
    step = step_fn(model, opt, p.bf16, p.channels_last)
    setup = peak_rss_mib()
    for _, (x, y) in zip(range(steps), loader.epoch(0)):
        step(x, y)
    peak = peak_rss_mib()
    return {"setup_rss": round(setup, 1), "peak_rss": round(peak, 1), "training_growth": round(peak - setup, 1)}


def peak_rss(profile: str, steps: int) -> dict:
    """``rss_child`` run in a fresh Python process, which prints its result as JSON."""
    child = f"import json; from {__name__} import rss_child; print(json.dumps(rss_child({profile!r}, {steps})))"
    out = subprocess.run([sys.executable, "-c", child], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def analytic(config: str, crop: int, act_bytes: int, num_classes: int = 1000) -> dict:
    """Bytes per image that a training step saves for backward, counted from the plan: every
    layer's output (the input image, each conv output kept by its in-place ReLU, each pool
    output, fc6/fc7 outputs and their dropout outputs) at ``act_bytes`` per value, plus the
    bookkeeping autograd also keeps: max-pool indices (int64), dropout masks (bool) and the
    fp32 log-soft-max of the loss."""
    h = crop
    outputs, indices, masks = 3 * crop * crop, 0, 0
    for layer in arch.plan(config, num_classes=num_classes, crop=crop):
        if layer.kind == "conv":
            outputs += layer.out_ch * h * h
        elif layer.kind == "pool":
            h //= 2
            outputs += layer.out_ch * h * h
            indices += layer.out_ch * h * h
        elif layer.kind == "fc" and layer.name != "fc8":
            outputs += 2 * layer.out_ch
            masks += layer.out_ch
    return {"layer_outputs": outputs * act_bytes, "bookkeeping": indices * 8 + masks + num_classes * 4}


def saved_bytes(model: torch.nn.Module, x: torch.Tensor, bf16: bool) -> int:
    """Bytes of the distinct storages autograd saves in one training forward (weights excluded)."""
    params = {q.untyped_storage().data_ptr() for q in model.parameters()}
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        s = t.untyped_storage()
        if s.data_ptr() not in params:
            seen[s.data_ptr()] = s.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), \
            torch.autocast("cpu", torch.bfloat16, enabled=bf16):
        loss = F.cross_entropy(model(x), torch.zeros(len(x), dtype=torch.long))
    del loss
    return sum(seen.values())


def measured(model: arch.VGG, batches: tuple[int, int], bf16: bool) -> dict:
    """Saved bytes per image and batch-independent saved bytes (e.g. bf16 weight copies), from
    the difference of two small batches: saved(b) = fixed + b × per_image."""
    torch.manual_seed(0)
    a, b = batches
    sa = saved_bytes(model, torch.randn(a, 3, model.crop, model.crop), bf16)
    sb = saved_bytes(model, torch.randn(b, 3, model.crop, model.crop), bf16)
    per_image = (sb - sa) / (b - a)
    return {"per_image": per_image, "fixed": sa - a * per_image}


def memory_footprint(profile: str, rss_steps: int, batches: tuple[int, int], target_batch: int) -> dict:
    """The report's memory section: peak RSS of a short run, D's activations at 224 and the batch that fits."""
    started = time.perf_counter()
    rss = peak_rss(profile, rss_steps)
    torch.manual_seed(0)
    model = arch.build("D", num_classes=1000).train()
    params = arch.count_params("D")
    state = params * STATE_BYTES_PER_PARAM
    act_rows, fit_rows = [], []
    for name, bf16, nbytes in (("fp32", False, 4), ("bf16 autocast", True, 2)):
        count = analytic("D", 224, nbytes)
        m = measured(model, batches, bf16)
        analytic_image = count["layer_outputs"] + count["bookkeeping"]
        act_rows.append({"dtype": name, "layer_outputs_per_image": round(count["layer_outputs"] / MIB, 2),
                         "analytic_per_image": round(analytic_image / MIB, 2),
                         "measured_per_image": round(m["per_image"] / MIB, 2),
                         "measured_fixed": round(m["fixed"] / MIB, 1),
                         f"analytic_batch_{target_batch}": round(target_batch * analytic_image / GIB, 2),
                         f"measured_batch_{target_batch}":
                             round((m["fixed"] + target_batch * m["per_image"]) / GIB, 2)})
        for gpu, mib in GPUS_MIB.items():
            room = mib * MIB - state - m["fixed"]
            fit_rows.append({"gpu": gpu, "dtype": name, "state": round(state / GIB, 2),
                             "max_batch": int(room // m["per_image"]),
                             f"activations_at_{target_batch}": round(target_batch * m["per_image"] / GIB, 2)})
    tables = [table(f"Peak resident memory of {rss_steps} training steps of D at the {profile} profile",
                    {"setup_rss": "MiB", "peak_rss": "MiB", "training_growth": "MiB"}, [rss]),
              table("Activation memory of full-size D at 224 (saved for backward)",
                    {"layer_outputs_per_image": "MiB/image", "analytic_per_image": "MiB/image",
                     "measured_per_image": "MiB/image", "measured_fixed": "MiB",
                     f"analytic_batch_{target_batch}": "GiB", f"measured_batch_{target_batch}": "GiB"}, act_rows),
              table("Per-GPU batch that fits (weights + gradients + momentum + saved activations)",
                    {"state": "GiB", "max_batch": "images", f"activations_at_{target_batch}": "GiB"}, fit_rows)]
    notes = [f"Peak RSS: the peak resident memory (VmHWM) of a fresh child process, after importing torch, "
             f"loading the data and building D and its optimiser (setup), and after {rss_steps} training steps "
             f"(peak). Not ru_maxrss, which on Linux inherits the parent's peak across fork and exec.",
             "Analytic: the layer outputs autograd keeps for net D (input image, 13 conv outputs, 5 pool "
             "outputs, fc6/fc7 and their dropout outputs) at 4 (fp32) or 2 (bf16) bytes per value, plus max-pool "
             "indices (int64), dropout masks and the loss's fp32 log-soft-max.",
             f"Measured: every distinct storage autograd saves in one training forward "
             f"(torch.autograd.graph.saved_tensors_hooks), weights excluded, on the CPU at batches {batches[0]} "
             f"and {batches[1]}; the per-image cost is their difference, and what does not grow with the batch "
             f"('fixed': under bf16 autocast the bf16 copies of the weights) is added once.",
             f"Fits: (device memory as nvidia-smi reports it − {params / 1e6:.1f} M parameters × 12 bytes of "
             f"fp32 weights, gradients and SGD momentum − fixed) ÷ measured bytes per image. An upper bound: "
             f"the CUDA context, cuDNN workspaces, the gradient of the activations in flight during backward "
             f"and allocator fragmentation take a few GiB more."]
    return section("memory", "Memory", {"profile": profile, "rss_steps": rss_steps, "batches": list(batches),
                                        "target_batch": target_batch}, tables, notes, started)
