"""Each configuration's training step against the machine's measured matrix-multiply peak of its
dtype, at the profile's size (and D at the paper's 224 pixels), as the profile trains (bf16
autocast where the hardware computes it, channels-last), on one ready batch: the step's
arithmetic, not its data."""
from __future__ import annotations

import torch

from .. import arch, lrn
from ..profiles import Profile, get_profile
from .throughput import step_fn
from .timing import median, seconds, table

#: Table 1's configurations, the ones the classification tables train.
CONFIGS = ("A", "A-LRN", "B", "C", "D", "E")


def train_flops(config: str, crop: int, **kw) -> int:
    """FLOPs of one training image: forward + backward ≈ 3 forward passes, 2 FLOPs a multiply-add.

    The backward pass computes the gradients of the inputs and of the weights, each a
    convolution as large as the forward one; only conv1_1's input gradient is skipped, so
    this slightly overstates the work (the floor it gives is slightly too high, never low)."""
    return 3 * 2 * arch.multiply_adds(config, crop, crop=crop, **kw)


def step_rate(config: str, crop: int, batch: int, steps: int, repeats: int, bf16: bool,
              channels_last: bool, **kw) -> float:
    """Median images/s of SGD steps of one net on one ready random batch (3 warm-up steps)."""
    torch.manual_seed(0)
    classes = kw.pop("num_classes", 10)
    model = arch.build(config, num_classes=classes, crop=crop, **kw)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, weight_decay=5e-4)
    step = step_fn(model, opt, bf16, channels_last)
    x, y = torch.randn(batch, 3, crop, crop), torch.randint(0, classes, (batch,))
    for _ in range(min(3, steps)):
        step(x, y)
    return median([steps * batch / seconds(lambda: [step(x, y) for _ in range(steps)]) for _ in range(repeats)])


def step_row(config: str, label: str, crop: int, batch: int, steps: int, repeats: int, bf16: bool,
             channels_last: bool, peaks: dict[str, float], **kw) -> dict:
    """One row: images/s, achieved GFLOP/s and its fraction of the peak (GFLOP/s) of the dtype
    the step runs in."""
    dtype = "bf16" if bf16 else "fp32"
    ips = step_rate(config, crop, batch, steps, repeats, bf16, channels_last, **kw)
    gflops = ips * train_flops(config, crop, **{k: v for k, v in kw.items() if k != "num_classes"}) / 1e9
    return {"config": config, "size": label, "dtype": dtype, "batch": batch, "images_per_s": round(ips, 1),
            "gflop_per_s": round(gflops, 1), "fraction_of_peak": round(gflops / peaks[dtype], 3)}


def step_table(p: Profile, configs: tuple[str, ...], steps: int, repeats: int, full_batch: int,
               full_steps: int, peaks: dict[str, float]) -> dict:
    """The step table of the limits section: each configuration at the profile's size, then D at 224 as the full
    profile trains it (full width, ``full_batch`` images, ``full_steps`` steps once), against the measured peaks."""
    rows = [step_row(c, f"{p.name}: {p.crop} px, width {p.width}", p.crop, p.batch, steps, repeats,
                     p.bf16, p.channels_last, peaks, width=p.width, fc_width=p.fc_width)
            for c in configs]
    if full_batch:
        full = get_profile("full")
        rows.append(step_row("D", "paper's: 224 px, full width", 224, full_batch, full_steps, 1, full.bf16,
                             full.channels_last, peaks, num_classes=1000))
    units = {"batch": "images", "images_per_s": "images/s", "gflop_per_s": "GFLOP/s",
             "fraction_of_peak": "× peak of its dtype"}
    return table("Training step against the measured matmul peak", units, rows)


def lrn_cost(p: Profile, batch: int, repeats: int) -> list[dict]:
    """The LRN layer of A-LRN alone, forward + backward on conv1's output at the profile's
    size: torch's LocalResponseNorm against vgglib's, in fp32 contiguous and bf16 channels-last."""
    rows = []
    c, side = arch.scaled(arch.BLOCK_WIDTHS[0], p.width), p.crop
    layers = {"torch.nn.LocalResponseNorm": torch.nn.LocalResponseNorm(
        lrn.LRN_SIZE, lrn.LRN_ALPHA * lrn.LRN_SIZE, lrn.LRN_BETA, lrn.LRN_K), "vgglib.arch.LRN": arch.LRN()}
    for name, layer in layers.items():
        for fmt, bf16 in (("fp32, contiguous", False), ("bf16 autocast, channels-last", True)):
            x = torch.randn(batch, c, side, side) * 10
            if bf16:
                x = x.to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
            x.requires_grad_()

            def once(layer=layer, x=x, bf16=bf16) -> None:
                with torch.autocast("cpu", torch.bfloat16, enabled=bf16):
                    y = layer(x)
                y.float().sum().backward()
            once()
            t = median([seconds(once) for _ in range(repeats)])
            rows.append({"layer": name, "format": fmt, "shape": f"{batch}×{c}×{side}×{side}",
                         "ms_forward_backward": round(1000 * t, 2)})
    return rows

