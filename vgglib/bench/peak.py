"""This machine's ceiling: the FLOP/s of a large matrix multiply in bf16 and in fp32, measured
in the same process as whatever is compared to it (a peak from another run or another machine
would compare two machines, not two programs)."""
from __future__ import annotations

import time

import torch

from .timing import threads

#: Side of the square matrices: large enough that the multiply is compute-bound on a CPU.
SIDE = 4096
DTYPES = {"bf16": torch.bfloat16, "fp32": torch.float32}


def sync(device: torch.device) -> None:
    """Wait for queued device work, so timings measure it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_peak(dtype: torch.dtype, side: int = SIDE, repeats: int = 3,
                device: torch.device | str = "cpu") -> float:
    """GFLOP/s of ``side``×``side`` matrix multiplies (2·side³ FLOPs each), best of ``repeats``
    after one warm-up: the best, not the median, because a peak is what the hardware can do."""
    device = torch.device(device)
    a = torch.randn(side, side, device=device).to(dtype)
    b = torch.randn(side, side, device=device).to(dtype)
    a @ b
    sync(device)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        sync(device)
        best = min(best, time.perf_counter() - t)
    return 2 * side ** 3 / best / 1e9


def peaks(side: int = SIDE, repeats: int = 3, n_threads: int | None = None, bf16: bool = True) -> dict[str, float]:
    """{"bf16": GFLOP/s, "fp32": GFLOP/s} on the CPU at ``n_threads`` (None: torch's setting); fp32
    alone unless ``bf16``: where training runs in fp32 the bf16 peak divides nothing, and where bf16
    is emulated (AVX2-only CPUs) one multiply of this size takes minutes on one thread."""
    with threads(n_threads):
        return {name: round(matmul_peak(dtype, side, repeats), 1) for name, dtype in DTYPES.items()
                if bf16 or name == "fp32"}
