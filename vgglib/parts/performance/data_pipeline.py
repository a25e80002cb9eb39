"""Item 5 of the report: the data pipeline alone, images/s on one core.  Fashion-MNIST through
vgglib's BatchLoader at a profile, and ImageNet-sized JPEGs (made up on the spot, with
photo-like smooth content so they compress like photographs) through FolderImages and the
full profile's augmentation: decode, rescale to a jittered S, 224 crop, flip, colour shift."""
from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ...augment import Augmenter, BatchLoader
from ...images import FolderImages, ImageSet
from ...profiles import Profile
from ...stats import Stats, compute_stats
from .timing import median, seconds, section, table, threads

#: ILSVRC-2012's typical photo: 500×375 (width × height).
PHOTO_HW = (375, 500)


def photo(h: int, w: int, generator: torch.Generator) -> torch.Tensor:
    """A uint8 RGB (3, h, w) image of multi-scale noise, large blobs to fine texture plus grain,
    tuned so a 500×375 JPEG at quality 90 is about 100 KiB, like an ILSVRC-2012 photograph."""
    out = torch.zeros(1, 3, h, w)
    octaves = ((3, 1.0), (12, 0.5), (48, 0.25), (160, 0.15))
    for cells, weight in octaves:
        coarse = torch.rand(1, 3, cells, math.ceil(cells * w / h), generator=generator)
        out += weight * F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=False)
    out = out / sum(wt for _, wt in octaves) * 255 + 18 * torch.randn(1, 3, h, w, generator=generator)
    return out[0].clamp(0, 255).round().to(torch.uint8)


def write_jpegs(root: Path, n: int, seed: int = 0, quality: int = 90) -> None:
    """``n`` photo-like 500×375 JPEGs in two class folders under ``root`` (an ImageFolder tree)."""
    g = torch.Generator().manual_seed(seed)
    for i in range(n):
        folder = root / f"class{i % 2}"
        folder.mkdir(parents=True, exist_ok=True)
        rgb = photo(*PHOTO_HW, g).permute(1, 2, 0).numpy()
        Image.fromarray(np.ascontiguousarray(rgb)).save(folder / f"{i:05d}.jpg", quality=quality)


def loader_rate(loader: BatchLoader, batches: int, epoch: int) -> float:
    """Images/s of drawing ``batches`` batches of one epoch (decode and augmentation included)."""
    def run() -> None:
        for _, _batch in zip(range(batches), loader.epoch(epoch)):
            pass
    return batches * loader.batch_size / seconds(run)


def decode_rate(images: ImageSet) -> float:
    """Images/s of decoding every image of a file-backed set (no augmentation)."""
    return len(images) / seconds(lambda: images.load(range(len(images))))


def gpu_decode_rate(images: FolderImages) -> float:
    """Images/s of torchvision's batched nvJPEG decode on the GPU, file bytes already in memory."""
    from torchvision.io import decode_jpeg
    data = [torch.frombuffer(bytearray(Path(f).read_bytes()), dtype=torch.uint8) for f in images.paths]
    decode_jpeg(data, device="cuda")
    torch.cuda.synchronize()

    def run() -> None:
        decode_jpeg(data, device="cuda")
        torch.cuda.synchronize()
    return len(data) / seconds(run)


def section_5(p: Profile, train: ImageSet, stats: Stats, full: Profile, fmnist_batches: int, jpegs: int,
              repeats: int, gpu_speeds: dict[str, float]) -> dict:
    """Item 5 of the report: pipeline rates on one thread, and the cores a GPU at each of
    ``gpu_speeds`` (label → training images/s) needs to be fed from JPEGs."""
    started = time.perf_counter()
    fm_loader = BatchLoader(train, Augmenter(p.crop, (p.scale(256), p.scale(512)), stats), p.batch, seed=0)
    with tempfile.TemporaryDirectory() as tmp, threads(1):
        write_jpegs(Path(tmp), jpegs)
        folder = FolderImages(tmp)
        jpeg_stats = compute_stats(folder, max_images=32)
        augmenter = Augmenter(full.crop, (full.scale(256), full.scale(512)), jpeg_stats)
        batch = min(32, len(folder))
        jpeg_loader = BatchLoader(folder, augmenter, batch, seed=0)
        rates: dict[str, list[float]] = {"fmnist": [], "decode": [], "jpeg": []}
        for r in range(repeats):
            rates["fmnist"].append(loader_rate(fm_loader, fmnist_batches, r))
            rates["decode"].append(decode_rate(folder))
            rates["jpeg"].append(loader_rate(jpeg_loader, len(jpeg_loader), r))
        gpu = gpu_decode_rate(folder) if torch.cuda.is_available() else None
        mean_bytes = sum(Path(f).stat().st_size for f in folder.paths) / len(folder)
    rate = {k: median(v) for k, v in rates.items()}
    stages = {"fmnist": f"Fashion-MNIST, {p.name} profile: BatchLoader + Augmenter (S in "
                        f"[{p.scale(256)}, {p.scale(512)}], {p.crop} crop)",
              "decode": "500×375 JPEG: decode only (FolderImages.load)",
              "jpeg": f"500×375 JPEG: whole pipeline (decode, S in [{full.scale(256)}, {full.scale(512)}], "
                      f"{full.crop} crop, flip, colour shift)"}
    rows = [{"stage": stage, "images_per_s_per_core": round(rate[k], 1)} for k, stage in stages.items()]
    cores = [{"gpu_training_speed": label, "images_per_s": round(ips, 1),
              "cores_needed": math.ceil(ips / rate["jpeg"])} for label, ips in gpu_speeds.items()]
    notes = [f"One thread (torch.set_num_threads(1)), in the driver's process; median of {repeats} repeats. "
             f"{len(folder)} JPEGs of {PHOTO_HW[1]}×{PHOTO_HW[0]} photo-like noise at quality 90 "
             f"({mean_bytes / 1024:.0f} KiB each on average; ILSVRC-2012's average is about 110 KiB), "
             f"written to a temporary folder, so the page cache holds them: disk reads are not timed.",
             "Cores needed = GPU training speed ÷ whole-pipeline images/s per core, assuming the work splits "
             "evenly over DataLoader workers (BatchLoader(workers=N)).",
             "GPU decoding: vgglib decodes on the CPU (vgglib.data.decode_file); torchvision's "
             "decode_jpeg(list_of_bytes, device='cuda') (nvJPEG) is the route to move decoding off the CPU "
             + (f"and decoded {gpu:.0f} images/s here." if gpu is not None else "(not measured: no CUDA here).")]
    tables = [table("Pipeline throughput on one core", {"images_per_s_per_core": "images/s/core"}, rows),
              table("CPU cores a GPU needs, fed from JPEGs", {"images_per_s": "images/s", "cores_needed": "cores"},
                    cores)]
    return section(5, "Data pipeline alone, per core",
                   {"profile": p.name, "jpegs": len(folder), "repeats": repeats, "threads": 1,
                    "gpu_decode_images_per_s": None if gpu is None else round(gpu, 1)}, tables, notes, started)
