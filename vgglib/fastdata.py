"""The ImageNet training path made able to feed a GPU.

Two pieces, chosen by the profile: ``train_folder`` names the training folder under the data
root (``train``, or the one-off pre-resized copy ``train-s512`` that :func:`preresize` writes:
smallest side at most 512, the largest S, so no training draw needs more pixels), and
``decode`` ("cpu" or "device") says whether JPEGs are decoded by the loader's CPU workers or
on the training device by nvJPEG (torchvision's ``decode_jpeg(device="cuda")``), with the
rescale, crop, flip and colour shift then run there too.  On a machine without CUDA the
device path falls back to decoding on the CPU, with the same augmentation.

A third piece needs no setting: a data set held in memory (Fashion-MNIST, the canvases) is
kept resident on the training device, and each step gathers its batch, rescales, crops, flips
and colour-shifts it there (:func:`resident_batches`).  Only the step's draws (a few numbers
per image, from the CPU generator that fixes them) cross to the device, without a wait, so a
GPU is never held up by the host; on a CPU it is the same arithmetic as loading each batch.

    python -m vgglib.fastdata /data/imagenet/train /data/imagenet/train-s512   # resumable
"""
from __future__ import annotations

import argparse
import os
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path

import torch
from tqdm import tqdm

from .augment import BatchLoader
from .images import IMAGE_EXTENSIONS, FileImages, ImageSet, Subset, TensorImages, decode_file

#: The largest training scale S of the paper (§3.1): a copy at this smallest side loses nothing.
PRESIZE_SMALLEST = 512
PRESIZE_QUALITY = 95


def preresize(src: str | Path, dst: str | Path, smallest: int = PRESIZE_SMALLEST,
              quality: int = PRESIZE_QUALITY, progress: bool = True) -> int:
    """Copy an image folder tree, shrinking every image whose smallest side exceeds
    ``smallest`` to that side (Lanczos, JPEG at ``quality``); smaller images are copied byte
    for byte.  Resumable: files already in ``dst`` are kept (each is written to a temporary
    name and renamed, so a killed run leaves no half file).  Returns the files written now."""
    from PIL import Image

    src, dst = Path(src), Path(dst)
    files = sorted(p for p in src.rglob("*") if p.is_file() and p.name.lower().endswith(IMAGE_EXTENSIONS))
    written = 0
    for path in tqdm(files, desc=f"pre-resize to {smallest}", unit="image", disable=not progress, mininterval=2):
        out = dst / path.relative_to(src)
        if out.exists():
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".part")
        with Image.open(path) as im:
            w, h = im.size
            if min(w, h) <= smallest:
                shutil.copyfile(path, tmp)
            else:
                size = (smallest, round(h * smallest / w)) if w <= h else (round(w * smallest / h), smallest)
                im.convert("RGB").resize(size, Image.LANCZOS).save(tmp, "JPEG", quality=quality)
        os.replace(tmp, out)
        written += 1
    return written


def decode_batch(paths: list[str], device: torch.device) -> list[torch.Tensor]:
    """Decode JPEG files to uint8 RGB (3, H, W) tensors on ``device``: one batched nvJPEG call
    on a GPU; on the CPU (or if nvJPEG refuses a file) vgglib's CPU decoder, then a copy."""
    if device.type == "cuda":
        from torchvision.io import ImageReadMode, decode_jpeg
        data = [torch.frombuffer(bytearray(Path(p).read_bytes()), dtype=torch.uint8) for p in paths]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                return decode_jpeg(data, mode=ImageReadMode.RGB, device=device)
        except RuntimeError:
            pass
    return [decode_file(p).to(device) for p in paths]


def device_batches(loader: BatchLoader, epoch: int, device: torch.device | str,
                   start_step: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The batches of ``loader.epoch(epoch)``, decoded and augmented on ``device``: the same
    images and the same draws (seeds), so the same crops as the CPU path up to decoder rounding."""
    if not isinstance(loader.images, FileImages):
        raise ValueError("the device data path reads JPEG files: its images must be a FileImages/FolderImages")
    device = torch.device(device)
    order = loader.order(epoch)
    for step in range(start_step, loader.steps_per_epoch):
        idx, geometry = loader.draw(epoch, step, order)
        images = decode_batch([loader.images.paths[i] for i in idx.tolist()], device)
        yield loader.augmenter(images, geometry), loader.images.labels[idx].to(device)


def in_memory(images: ImageSet) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The (N, C, H, W) uint8 pixels and labels of a set held in memory (a ``TensorImages`` or
    a subset of one), with C as stored (1 for grey); None for a set read from files."""
    if isinstance(images, TensorImages):
        return images.images, images.labels
    if isinstance(images, Subset):
        parent = in_memory(images.parent)
        if parent is not None:
            return parent[0][images.indices], parent[1][images.indices]
    return None


class Resident(TensorImages):
    """An in-memory training set copied once to the training device, with its labels: what
    :meth:`BatchLoader.batch` loads from in place of the set itself."""

    def __init__(self, pixels: torch.Tensor, labels: torch.Tensor, classes: list[str], device: torch.device):
        super().__init__(pixels.to(device), labels.to(device), classes)
        self.device = device

    @classmethod
    def of(cls, images: ImageSet, device: torch.device) -> Resident | None:
        """``images`` held on ``device`` when they are in memory (:func:`in_memory`), else None."""
        held = in_memory(images)
        return None if held is None else cls(*held, images.classes, device)

    def load(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images ``idx`` as (B, 3, H, W) uint8 on the device (grey repeated to RGB, as a view),
        and labels; the indices cross to the device without waiting."""
        idx = torch.as_tensor(idx).to(self.device, non_blocking=True)
        return self.images[idx].expand(-1, 3, -1, -1), self.labels[idx]


def resident_batches(loader: BatchLoader, epoch: int, resident: Resident,
                     start_step: int = 0) -> Iterator[tuple[torch.Tensor, ...]]:
    """The batches of ``loader.epoch(epoch)`` from an in-memory set held on the device: the same
    images and draws, so the same pixels, as the loader's own epoch on the CPU."""
    order = loader.order(epoch)
    for step in range(start_step, loader.steps_per_epoch):
        yield loader.batch(epoch, step, order, resident)


def epoch_batches(loader: BatchLoader, epoch: int, device: torch.device, start_step: int,
                  decode: str, resident: Resident | None = None) -> Iterator[tuple[torch.Tensor, ...]]:
    """The training loop's batches: from ``resident`` (an in-memory set on the device) when
    given; decoded on the device when the profile's ``decode`` is "device", the images are files
    and nvJPEG is there; else the loader's own (CPU) epoch."""
    if decode not in ("cpu", "device"):
        raise ValueError(f"profile setting decode must be 'cpu' or 'device', got {decode!r}")
    if resident is not None:
        return resident_batches(loader, epoch, resident, start_step)
    if decode == "device" and isinstance(loader.images, FileImages) and cuda_decode_available():
        return device_batches(loader, epoch, device, start_step)
    return loader.epoch(epoch, start_step)


def cuda_decode_available() -> bool:
    """True when a GPU and torchvision's nvJPEG decoder are both there."""
    if not torch.cuda.is_available():
        return False
    try:
        from torchvision.io import decode_jpeg  # noqa: F401
    except ImportError:
        return False
    return True


def main() -> None:
    """Pre-resize a training folder from the command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("src")
    parser.add_argument("dst")
    parser.add_argument("--smallest", type=int, default=PRESIZE_SMALLEST)
    parser.add_argument("--quality", type=int, default=PRESIZE_QUALITY)
    args = parser.parse_args()
    print(f"{preresize(args.src, args.dst, args.smallest, args.quality)} images written to {args.dst}")


if __name__ == "__main__":
    main()
