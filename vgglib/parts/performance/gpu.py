"""A prepared GPU check: net D's training throughput at the paper's size (224 px, batch 256),
bf16 autocast and channels-last, eager and with torch.compile; the achieved TFLOP/s against
the device's measured bf16 matrix-multiply peak; and the projected wall time of the paper's
74 ImageNet epochs.  On a machine without CUDA it runs with tiny sizes so tests keep it working.

    python -m vgglib.parts.performance.gpu --out out/bench          # on a GPU: the real check, under 5 minutes
    python -m vgglib.parts.performance.gpu --tiny --out /tmp/x      # anywhere: the same code on toy sizes
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from ... import arch

IMAGENET_TRAIN = 1_281_167
PAPER_EPOCHS = 74


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help="toy sizes (forced when there is no CUDA)")
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile measurement")
    parser.add_argument("--out", default="out/bench")
    args = parser.parse_args()
    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    tiny = args.tiny or not cuda
    size, batch, width, fc = (32, 8, 1 / 16, 64) if tiny else (224, 256, 1.0, 4096)
    steps, warmup = (2, 1) if tiny else (20, 5)
    if cuda:
        torch.backends.cudnn.benchmark = True
    peak = matmul_peak(device, 256 if tiny else 8192, 2 if tiny else 50)
    flops_per_image = 3 * 2 * arch.multiply_adds("D", size, width=width, crop=size, fc_width=fc)
    report = {"device": torch.cuda.get_device_name(0) if cuda else "CPU (tiny sizes: a smoke run, "
              "not a measurement)", "tiny": tiny, "batch": batch, "size": size,
              "matmul_bf16_peak_tflops": round(peak, 2), "train_flops_per_image": flops_per_image}
    paths = {"eager": False} if args.no_compile else {"eager": False, "compile": True}
    for name, compiled in paths.items():
        torch.manual_seed(0)
        model = arch.build("D", width=width, crop=size, fc_width=fc).to(device)
        model = model.to(memory_format=torch.channels_last)
        if compiled:
            model = torch.compile(model)
        ips = train_throughput(model, device, batch, size, steps, warmup)
        tflops = ips * flops_per_image / 1e12
        report[name] = {"images_per_s": round(ips, 1), "tflops": round(tflops, 2),
                        "fraction_of_peak": round(tflops / peak, 3),
                        "projected_74_epochs_h": round(PAPER_EPOCHS * IMAGENET_TRAIN / ips / 3600, 1)}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
