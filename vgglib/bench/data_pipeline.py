"""The report's data pipeline section: the pipeline alone, images/s on one core.  Fashion-MNIST
through vgglib's BatchLoader at a profile, and ImageNet-sized JPEGs (made up on the spot, with
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

from ..augment import Augmenter, BatchLoader
from ..fastdata import preresize
from ..images import FileImages, FolderImages, ImageSet
from ..profiles import Profile
from ..stats import Stats, compute_stats
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


def write_jpegs(root: Path, n: int, seed: int = 0, quality: int = 90, photo_hw: tuple[int, int] = PHOTO_HW) -> None:
    """``n`` photo-like JPEGs (500×375 unless ``photo_hw`` says otherwise) in two class folders
    under ``root`` (an ImageFolder tree)."""
    g = torch.Generator().manual_seed(seed)
    for i in range(n):
        folder = root / f"class{i % 2}"
        folder.mkdir(parents=True, exist_ok=True)
        rgb = photo(*photo_hw, g).permute(1, 2, 0).numpy()
        Image.fromarray(np.ascontiguousarray(rgb)).save(folder / f"{i:05d}.jpg", quality=quality)


def loader_rate(loader: BatchLoader, batches: int, epoch: int) -> float:
    """Images/s of drawing ``batches`` batches of one epoch (decode and augmentation included)."""
    def run() -> None:
        for _, _batch in zip(range(batches), loader.epoch(epoch)):
            pass
    return batches * loader.batch_size / seconds(run)


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


def read_rate(images: FileImages) -> float:
    """Images/s of reading every file's bytes: the CPU's share of the device decode path
    (``decode = "device"``), where nvJPEG decodes and the augmentation runs on the GPU."""
    return len(images) / seconds(lambda: [Path(f).read_bytes() for f in images.paths])


def host_work(p: Profile, train: ImageSet, stats: Stats, steps: int, repeats: int) -> dict:
    """The host work of one training step at the profile, in ms (median of ``repeats`` runs of
    ``steps`` steps): its batch from the loader's own load-then-augment path and from the copy
    held resident on the training device (what the loop uses for a set in memory), and its
    dropout masks by the counter hash against the per-sample random generators it replaced."""
    from ..augment import seeded_generator
    from ..dropout import keep_mask
    from ..fastdata import Resident

    loader = BatchLoader(train, Augmenter(p.crop, (p.scale(256), p.scale(512)), stats), p.batch, seed=0)
    resident, order = Resident.of(train, torch.device("cpu")), loader.order(0)
    keys = loader.sample_keys(0, 0)
    slots = (6, 7)

    def generators() -> None:   # the masks as they were drawn before: one torch.Generator per sample and layer
        for slot in slots:
            torch.stack([torch.rand(p.fc_width, generator=seeded_generator(int(k), slot)) for k in keys])

    work = {"batch: the loader's own (load, then augment)": lambda i: loader.batch(0, i, order),
            "batch: resident on the training device": lambda i: loader.batch(0, i, order, resident),
            "dropout masks: a generator per sample (replaced)": lambda i: generators(),
            "dropout masks: counter hash on the device": lambda i: [keep_mask(keys, s, (p.fc_width,), p.dropout)
                                                                   for s in slots]}
    rows = []
    for name, fn in work.items():
        fn(0)
        ms = median([seconds(lambda fn=fn: [fn(i) for i in range(steps)]) / steps * 1000 for _ in range(repeats)])
        rows.append({"host work": name, "ms_per_step": round(ms, 3)})
    return table(f"The training step's host work at {p.name} (batch {p.batch}, {p.crop}-px crops, "
                 f"fc width {p.fc_width})", {"ms_per_step": "ms/step"}, rows)


#: The photo sizes the section measures (height, width): ILSVRC-2012's typical 500×375, and a larger
#: one, 1000×750, where the one-off pre-resized copy (smallest side 512) has pixels to save.
PHOTO_SIZES = {"500×375": PHOTO_HW, "1000×750": (750, 1000)}


def pipeline_per_core(p: Profile, train: ImageSet, stats: Stats, full: Profile, fmnist_batches: int, jpegs: int,
                      repeats: int, gpu_speeds: dict[str, float]) -> dict:
    """The report's data pipeline section: pipeline rates on one thread, for each data path of the full
    profile (CPU decode from ``train/``, CPU decode from the pre-resized ``train-s512/``, device
    decode), and the cores a GPU at each of ``gpu_speeds`` (label → training images/s) needs."""
    started = time.perf_counter()
    host = host_work(p, train, stats, fmnist_batches, repeats)
    ms = [r["ms_per_step"] for r in host["rows"]]
    fm_loader = BatchLoader(train, Augmenter(p.crop, (p.scale(256), p.scale(512)), stats), p.batch, seed=0)
    rows = [{"data path": f"Fashion-MNIST, {p.name} profile", "photos": f"{p.crop}-px crops",
             "images_per_s_per_core": round(median([loader_rate(fm_loader, fmnist_batches, r)
                                                    for r in range(repeats)]), 1)}]
    gpu, sizes_kib = None, {}
    with tempfile.TemporaryDirectory() as tmp, threads(1):
        for label, hw in PHOTO_SIZES.items():
            root = Path(tmp) / label
            write_jpegs(root / "train", jpegs, photo_hw=hw)
            preresize(root / "train", root / "train-s512", progress=False)
            paths = {"CPU decode, train/": FolderImages(root / "train"),
                     "CPU decode, pre-resized train-s512/": FolderImages(root / "train-s512")}
            sizes_kib[label] = sum(Path(f).stat().st_size for f in paths["CPU decode, train/"].paths) / jpegs / 1024
            jpeg_stats = compute_stats(paths["CPU decode, train/"], max_images=32)
            augmenter = Augmenter(full.crop, (full.scale(256), full.scale(512)), jpeg_stats)
            for name, folder in paths.items():
                loader = BatchLoader(folder, augmenter, min(32, len(folder)), seed=0)
                rows.append({"data path": name, "photos": label, "images_per_s_per_core": round(
                    median([loader_rate(loader, len(loader), r) for r in range(repeats)]), 1)})
            rows.append({"data path": "device decode (the CPU reads the files)", "photos": label,
                         "images_per_s_per_core": round(median([read_rate(paths["CPU decode, train/"])
                                                               for _ in range(repeats)]), 1)})
            if torch.cuda.is_available() and gpu is None:
                gpu = gpu_decode_rate(paths["CPU decode, train/"])
    cores = [{"data path": r["data path"], "photos": r["photos"],
              **{label: math.ceil(ips / r["images_per_s_per_core"]) for label, ips in gpu_speeds.items()}}
             for r in rows[1:]]
    notes = [f"One thread (torch.set_num_threads(1)), in the driver's process; median of {repeats} repeats. "
             f"{jpegs} JPEGs of each size, photo-like noise at quality 90 ("
             + ", ".join(f"{k}: {v:.0f} KiB" for k, v in sizes_kib.items())
             + " on average; ILSVRC-2012's average is about 110 KiB), in a temporary folder, so the page "
               "cache holds them: disk reads are not timed. Whole pipeline: decode, rescale to S in "
             f"[{full.scale(256)}, {full.scale(512)}], {full.crop} crop, flip, colour shift.",
             "The pre-resized copy is `python -m vgglib.fastdata train train-s512` (smallest side 512, the "
             "largest S; a smaller image is copied byte for byte), chosen by the profile setting "
             "train_folder; decode = \"device\" moves decoding and augmentation to the GPU (nvJPEG), leaving "
             "the CPU to read files.",
             "Cores needed = GPU training speed ÷ images/s per core, assuming the work splits evenly over "
             "DataLoader workers (BatchLoader(workers=N)).",
             f"Host work per step: on a GPU the resident path leaves the host only the draws; on this CPU it "
             f"takes {ms[1]:.2f} ms a batch against the loader's own {ms[0]:.2f} ms (the loop uses it on both), "
             f"and the counter-hash masks {ms[3]:.2f} ms against {ms[2]:.2f} ms for a generator per sample.",
             "GPU decoding (nvJPEG, batched, bytes in memory): "
             + (f"{gpu:.0f} images/s here." if gpu is not None else "not measured: no CUDA here.")]
    tables = [table("Pipeline throughput on one core, per data path", {"images_per_s_per_core": "images/s/core"},
                    rows),
              table("CPU cores a GPU needs, per data path", {k: "cores" for k in gpu_speeds}, cores), host]
    return section("pipeline", "Data pipeline alone, per core",
                   {"profile": p.name, "jpegs": jpegs, "repeats": repeats, "threads": 1,
                    "gpu_decode_images_per_s": None if gpu is None else round(gpu, 1)}, tables, notes, started)
