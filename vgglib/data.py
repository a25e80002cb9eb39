"""Paper §3.1 data: the data sets (Fashion-MNIST, ILSVRC-2012, any image-folder tree, a tiny
synthetic set) as train / held-out validation / test splits of :mod:`vgglib.images` sets."""
from __future__ import annotations

import gzip
import hashlib
import math
import os
import re
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .identity import files_fingerprint, listing_fingerprint, tensor_fingerprint
from .images import IMAGE_EXTENSIONS, FileImages, FolderImages, ImageSet, Subset, TensorImages

#: Where Debian's ``dataset-fashion-mnist`` package puts the IDX files.
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
#: Where ``download_fashion_mnist`` (``python -m vgglib.fetch fashion-mnist``) puts them.
CACHE_FASHION_MNIST = Path.home() / ".cache" / "vgglib" / "fashion-mnist"
FASHION_MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                       "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
#: The canonical .gz files: the zalando repository, then the mirror its README links to.
FASHION_MNIST_URLS = ("https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
                      "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/")
#: SHA-256 of each file's IDX bytes once un-gzipped, so that zalando's .gz and Debian's
#: recompressed ones (dataset-fashion-mnist 0.0~git20200523, whence these sums) both verify.
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
DATASETS = ("fashion-mnist", "imagenet", "folder", "synthetic")


@dataclass
class Splits:
    """The three sets of an experiment: ``train``; ``val``, a held-out part of the training
    images that drives the learning-rate schedule (§3.1); ``test``, where results are reported."""

    train: ImageSet
    val: ImageSet
    test: ImageSet
    name: str
    meta: dict = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """A hash of the data's content (files or arrays): part of every run key, so changed
        images or labels never reuse a run.  Loaders record it; otherwise it is computed once."""
        if "fingerprint" not in self.meta:
            parts = "".join(images_fingerprint(s) for s in (self.train, self.val, self.test))
            self.meta["fingerprint"] = hashlib.sha256(parts.encode()).hexdigest()[:16]
        return self.meta["fingerprint"]


def images_fingerprint(images: ImageSet) -> str:
    """A hash of an image set's content: its tensors, or its files' listing and labels."""
    if isinstance(images, Subset):
        return images_fingerprint(images.parent) + tensor_fingerprint(images.indices)[:16]
    if isinstance(images, TensorImages):
        return tensor_fingerprint(images.images, images.labels)[:16]
    if isinstance(images, FileImages):
        return listing_fingerprint(getattr(images, "root", "/"), images.paths, images.labels.tolist())
    raise TypeError(f"cannot fingerprint a {type(images).__name__}; give its Splits a meta['fingerprint']")


def holdout(n: int, val_size: int | float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed seeded split of range(n): (train indices, held-out indices).

    ``val_size`` is a count, or a fraction of ``n`` when a float below 1."""
    k = round(val_size * n) if isinstance(val_size, float) and val_size < 1 else int(val_size)
    if not 0 <= k < n:
        raise ValueError(f"cannot hold out {val_size} of {n} training images")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return perm[k:], perm[:k]


def _limit(images: ImageSet, limit: int | None) -> ImageSet:
    """The first ``limit`` images (all of them when ``limit`` is None or 0)."""
    return images.subset(range(min(limit, len(images)))) if limit else images


# --------------------------------------------------------------------------- IDX / Fashion-MNIST

_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> torch.Tensor:
    """Parse an IDX file (LeCun's MNIST format), gzip-compressed or not, to a tensor."""
    path = Path(path)
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise ValueError(f"{path}: corrupt gzip stream ({e})") from e
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in _IDX_TYPES:
        raise ValueError(f"{path}: bad IDX magic number {data[:4].hex() or '(empty file)'}; "
                         f"expected 0000 then a type code {sorted(_IDX_TYPES)} and a rank")
    dtype, ndim = np.dtype(_IDX_TYPES[data[2]]), data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(data)} bytes, need {header})")
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    expected = header + math.prod(dims) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(f"{path}: truncated or oversized IDX body: dims {dims} need "
                         f"{expected} bytes, file has {len(data)}")
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    return torch.from_numpy(array.astype(dtype.newbyteorder("="), copy=True))


def _idx_path(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def find_fashion_mnist(root: str | Path | None = None) -> Path:
    """The folder holding Fashion-MNIST's four IDX files (plain or .gz).

    An explicit ``root`` (``--data``, ``DATA=``, a notebook's ``data_root``) is the only place
    searched, else ``$VGGLIB_DATA``, else Debian's ``/usr/share/datasets/fashion-mnist`` and the
    download cache ``~/.cache/vgglib/fashion-mnist``: a path the user names never falls back to
    another copy.  Each place is also searched as ``<place>/fashion-mnist`` and under
    torchvision's ``<place>/FashionMNIST/raw``."""
    env = os.environ.get("VGGLIB_DATA")
    base, named = ((Path(root), "the data folder given") if root is not None
                   else (Path(env), "$VGGLIB_DATA") if env else (DEBIAN_FASHION_MNIST, None))
    bases = [base] if named else [DEBIAN_FASHION_MNIST, CACHE_FASHION_MNIST]
    searched = [p for b in bases for p in (b, b / "fashion-mnist", b / "FashionMNIST" / "raw")]
    for folder in searched:
        if all(_idx_path(folder, name) for name in FASHION_MNIST_FILES):
            return folder
    if named:
        state = "does not exist" if not base.exists() else "holds no Fashion-MNIST IDX files"
        raise FileNotFoundError(
            f"{named}, {base}, {state} (looked for {FASHION_MNIST_FILES[0]}[.gz] and the other three "
            f"there and in fashion-mnist/, FashionMNIST/raw/); fix the path, or choose the data set "
            f"of an image-folder tree with --dataset folder")
    raise FileNotFoundError(
        "Fashion-MNIST not found: no folder holds all of "
        f"{', '.join(FASHION_MNIST_FILES)} (each optionally .gz). Searched:\n  "
        + "\n  ".join(map(str, searched))
        + "\nFixes: `apt-get install dataset-fashion-mnist` (Debian), or set VGGLIB_DATA to the "
        "folder holding the files, or run `python -m vgglib.fetch fashion-mnist` (it downloads).")


def verify_fashion_mnist_file(path: str | Path, name: str) -> None:
    """Raise ValueError, naming ``path``, unless its content (un-gzipped) is Fashion-MNIST's ``name``."""
    data = Path(path).read_bytes()
    try:
        data = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    except (OSError, EOFError):
        pass  # a corrupt stream: its hash below cannot match
    digest, expected = hashlib.sha256(data).hexdigest(), FASHION_MNIST_SHA256[name]
    if digest != expected:
        raise ValueError(f"{path}: checksum mismatch, SHA-256 {digest} is not that of Fashion-MNIST's "
                         f"{name} ({expected}); the file is corrupt or another data set")


def _download(url: str, dest: Path) -> None:
    """Copy ``url`` to ``dest`` with a tqdm progress bar."""
    from tqdm import tqdm
    with urllib.request.urlopen(url, timeout=60) as reply, open(dest, "wb") as out, \
            tqdm(total=int(reply.headers.get("Content-Length") or 0) or None, unit="B",
                 unit_scale=True, desc=url.rsplit("/", 1)[-1]) as bar:
        while chunk := reply.read(1 << 16):
            out.write(chunk)
            bar.update(len(chunk))


def download_fashion_mnist(dest: str | Path | None = None) -> Path:
    """Download Fashion-MNIST's four .gz files into ``dest`` (by default CACHE_FASHION_MNIST, where
    ``find_fashion_mnist`` looks) and return it. Each file is checked against its known SHA-256
    before it takes its final name, so ``dest`` never holds a corrupt file; intact ones are kept."""
    dest = Path(dest) if dest is not None else CACHE_FASHION_MNIST
    dest.mkdir(parents=True, exist_ok=True)
    for name in FASHION_MNIST_FILES:
        target, part = dest / f"{name}.gz", dest / f"{name}.gz.part"
        if target.is_file():
            try:
                verify_fashion_mnist_file(target, name)
                continue
            except ValueError:
                target.unlink()
        failures = []
        for base in FASHION_MNIST_URLS:
            try:
                _download(f"{base}{name}.gz", part)
                break
            except OSError as e:  # urllib.error.URLError included
                failures.append(f"{base}{name}.gz: {e}")
        else:
            raise OSError(f"could not download {name}.gz:\n  " + "\n  ".join(failures))
        try:
            verify_fashion_mnist_file(part, name)
        except ValueError:
            part.unlink()
            raise
        part.replace(target)
    return dest


def fashion_mnist(root: str | Path | None = None, val_size: int | float = 5000,
                  train_limit: int | None = None, test_limit: int | None = None,
                  seed: int = 0) -> Splits:
    """Fashion-MNIST (60K train, 10K test, 28×28 grey) with a fixed seeded held-out val split.

    ``train_limit`` / ``test_limit`` keep the first N of train (after the split) / of test;
    None or 0 keeps all."""
    folder = find_fashion_mnist(root)
    files = [_idx_path(folder, name) for name in FASHION_MNIST_FILES]
    parts = {kind: read_idx(f) for f, kind in zip(files, ("xtrain", "ytrain", "xtest", "ytest"))}
    for split in ("train", "test"):
        x, y = parts["x" + split], parts["y" + split]
        if x.dim() != 3 or x.dtype != torch.uint8 or y.shape != (x.shape[0],):
            raise ValueError(f"{folder}: {split} IDX files are not N×H×W uint8 images with N "
                             f"labels (got {tuple(x.shape)} and {tuple(y.shape)})")
    train_all = TensorImages(parts["xtrain"].unsqueeze(1), parts["ytrain"], FASHION_MNIST_CLASSES)
    test = TensorImages(parts["xtest"].unsqueeze(1), parts["ytest"], FASHION_MNIST_CLASSES)
    train_idx, val_idx = holdout(len(train_all), val_size, seed)
    train, test = _limit(train_all.subset(train_idx), train_limit), _limit(test, test_limit)
    return Splits(train, train_all.subset(val_idx), test, "fashion-mnist",
                  {"root": str(folder), "seed": seed, "val_size": len(val_idx),
                   "train_limit": train_limit, "test_limit": test_limit, "size": 28,
                   "fingerprint": files_fingerprint(files)})


# --------------------------------------------------------------------------- image folders

def _folder_splits(root: str | Path, name: str, test_dirs: tuple[str, ...],
                   val_size: int | float, seed: int, train_limit: int | None,
                   test_limit: int | None, train_dir: str = "train") -> Splits:
    root = Path(root)
    layout = f"{root}/train/<class>/<image> and {root}/{'|'.join(test_dirs)}/<class>/<image>"
    if not (root / train_dir).is_dir():
        found = sorted(p.name for p in root.iterdir()) if root.is_dir() else "nothing (no such folder)"
        raise FileNotFoundError(f"{name}: no {root}/train; found {found}; expected {layout}")
    test_dir = next((root / d for d in test_dirs if (root / d).is_dir()), None)
    if test_dir is None:
        raise FileNotFoundError(f"{name}: none of {', '.join(test_dirs)} under {root}; "
                                f"expected {layout}")
    loose = [f for f in os.listdir(test_dir) if f.lower().endswith(IMAGE_EXTENSIONS)]
    if loose:
        raise ValueError(f"{name}: {test_dir} holds {len(loose)} images directly (e.g. {loose[0]}); "
                         f"expected them sorted into class folders: {layout}")
    train_all = FolderImages(root / train_dir)
    test = FolderImages(test_dir, classes=train_all.classes)
    train_idx, val_idx = holdout(len(train_all), val_size, seed)
    fingerprint = hashlib.sha256((images_fingerprint(train_all) + images_fingerprint(test)).encode())
    return Splits(_limit(train_all.subset(train_idx), train_limit), train_all.subset(val_idx),
                  _limit(test, test_limit), name,
                  {"root": str(root), "test_dir": str(test_dir), "seed": seed,
                   "val_size": len(val_idx), "train_limit": train_limit, "test_limit": test_limit,
                   "fingerprint": fingerprint.hexdigest()[:16]})


def imagenet(root: str | Path, val_size: int | float = 10000, seed: int = 0,
             train_limit: int | None = None, test_limit: int | None = None, train_dir: str = "train") -> Splits:
    """ILSVRC-2012: ``root/train/<wnid>/*.JPEG`` → train + held-out val; ``root/val/<wnid>/`` → test.

    Limits as in ``fashion_mnist``."""
    splits = _folder_splits(root, "imagenet", ("val",), val_size, seed, train_limit, test_limit, train_dir)
    odd = [c for c in splits.train.classes if not re.fullmatch(r"n\d{8}", c)]
    if odd:
        raise ValueError(f"imagenet: class folders {odd[:5]} in {root}/train are not WordNet ids "
                         f"like n01440764; for other ImageFolder trees use load_dataset('folder')")
    return splits


def image_folder(root: str | Path, val_size: int | float = 0.1, seed: int = 0,
                 train_limit: int | None = None, test_limit: int | None = None, train_dir: str = "train") -> Splits:
    """Any ``root/train/<class>/`` + ``root/val/<class>/`` (or ``root/test/``) tree, e.g. Imagenette.

    ``val_size`` images (or that fraction) of train are held out; val (or test) → test."""
    return _folder_splits(root, "folder", ("val", "test"), val_size, seed, train_limit, test_limit, train_dir)


# --------------------------------------------------------------------------- synthetic

def synthetic(n_train: int = 256, n_val: int = 64, n_test: int = 64, size: int = 28,
              classes: int = 4, seed: int = 0, channels: int = 3) -> Splits:
    """A tiny deterministic learnable set for unit tests: class k is a bright bar at angle
    k·90°/(classes−1), randomly shifted, on a noisy background.

    Angles lie in [0°, 90°] so a horizontal flip (θ → 180° − θ) never turns one class into another."""
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    g = torch.Generator().manual_seed(seed)
    n = n_train + n_val + n_test
    labels = (torch.arange(n) % classes)[torch.randperm(n, generator=g)]
    theta = labels.float() * (math.pi / 2 / max(classes - 1, 1))
    shift = (torch.rand(n, generator=g) - 0.5) * (size / 3)
    ys, xs = torch.meshgrid(torch.arange(size) - (size - 1) / 2,
                            torch.arange(size) - (size - 1) / 2, indexing="ij")
    dist = (xs * torch.sin(theta)[:, None, None] - ys * torch.cos(theta)[:, None, None]
            - shift[:, None, None]).abs()
    bar = (dist < size / 10).float().unsqueeze(1)
    tint = 0.6 + 0.4 * torch.rand(n, channels, 1, 1, generator=g)
    noise = 20 * torch.randn(n, channels, size, size, generator=g)
    images = (40 + 180 * bar * tint + noise).clamp(0, 255).round().to(torch.uint8)
    names = [f"bar{round(math.degrees(t))}" for t in theta.unique().tolist()]
    full = TensorImages(images, labels, names)
    cuts = (range(n_train), range(n_train, n_train + n_val), range(n_train + n_val, n))
    train, val, test = (full.subset(c) for c in cuts)
    return Splits(train, val, test, "synthetic", {"seed": seed, "size": size, "channels": channels})


def load_dataset(name: str, root: str | Path | None = None, **kw) -> Splits:
    """Build the splits of a named data set: one of ``DATASETS``."""
    key = name.lower().replace("_", "-")
    if key == "fashion-mnist":
        return fashion_mnist(root, **kw)
    if key == "synthetic":
        return synthetic(**kw)
    if key in ("imagenet", "folder"):
        if root is None:
            raise ValueError(f"data set {name!r} needs root=<folder holding train/ and val/>")
        return (imagenet if key == "imagenet" else image_folder)(root, **kw)
    raise ValueError(f"unknown data set {name!r}; valid: {', '.join(DATASETS)}")


def profile_splits(profile, root: str | Path | None = None) -> Splits:
    """The splits a profile (``vgglib.profiles.Profile``) names: its ``dataset``, ``val_size``
    and ``train_limit`` / ``test_limit`` (0 = all); ``synthetic`` takes its sizes from them."""
    if profile.dataset == "synthetic":
        if root is not None:
            raise ValueError(f"data set 'synthetic' is generated, it reads no folder (got {root}); "
                             f"for a folder of images use --dataset folder")
        n_train = profile.train_limit or 256
        n_val = round(profile.val_size * n_train) if isinstance(profile.val_size, float) else profile.val_size
        return synthetic(n_train=n_train, n_val=n_val, n_test=profile.test_limit or 64)
    folders = {"train_dir": profile.train_folder} if profile.dataset in ("imagenet", "folder") else {}
    return load_dataset(profile.dataset, root, val_size=profile.val_size,
                        train_limit=profile.train_limit, test_limit=profile.test_limit, **folders)
