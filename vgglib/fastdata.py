"""The ImageNet training path made able to feed a GPU.

Two pieces, chosen by the profile: ``train_folder`` names the training folder under the data
root (``train``, or the one-off pre-resized copy ``train-s512`` that :func:`preresize` writes:
smallest side at most 512, the largest S, so no training draw needs more pixels), and
``decode`` ("cpu" or "device") says whether JPEGs are decoded by the loader's CPU workers or
on the training device by nvJPEG (torchvision's ``decode_jpeg(device="cuda")``), with the
rescale, crop, flip and colour shift then run there too.  On a machine without CUDA the
device path falls back to decoding on the CPU, with the same augmentation.

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
from .images import IMAGE_EXTENSIONS, FileImages, decode_file

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


def epoch_batches(loader: BatchLoader, epoch: int, device: torch.device, start_step: int,
                  decode: str) -> Iterator[tuple[torch.Tensor, ...]]:
    """The training loop's batches: on the device when the profile's ``decode`` is "device",
    the images are files and nvJPEG is there; else the loader's own (CPU) epoch."""
    if decode not in ("cpu", "device"):
        raise ValueError(f"profile setting decode must be 'cpu' or 'device', got {decode!r}")
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
