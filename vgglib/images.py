"""Image sets behind one interface, in memory or files on disk (paper §3.1's data).

Every set yields uint8 RGB images (3, H, W) on the 0–255 scale, so one pipeline serves
ILSVRC-2012 JPEGs and 28×28 grey Fashion-MNIST items alike."""
from __future__ import annotations

import os
import re
import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

#: File endings FolderImages reads, compared case-insensitively.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")

Indices = Sequence[int] | torch.Tensor

def _as_index(indices: Indices) -> torch.Tensor:
    return torch.as_tensor(indices, dtype=torch.int64).reshape(-1)


class ImageSet(ABC):
    """Labelled uint8 RGB images, loaded by index: ``load(idx) -> (images, labels)``.

    ``uniform`` sets (all images one size) return images stacked as (B, 3, H, W);
    others return a list of (3, H, W) tensors."""

    classes: list[str]

    @abstractmethod
    def __len__(self) -> int: ...

    @property
    @abstractmethod
    def labels(self) -> torch.Tensor:
        """All labels, int64 (N,), without decoding any image."""

    @abstractmethod
    def load(self, indices: Indices) -> tuple[list[torch.Tensor] | torch.Tensor, torch.Tensor]:
        """Images ``indices`` as uint8 RGB, with their int64 labels."""

    @property
    def uniform(self) -> bool:
        """True when every image has the same size, so ``load`` returns one tensor."""
        return False

    def subset(self, indices: Indices) -> ImageSet:
        """The images ``indices`` of this set, in that order, as a new set."""
        return Subset(self, indices)


class Subset(ImageSet):
    """A view of some images of another set (used for held-out splits of file sets)."""

    def __init__(self, parent: ImageSet, indices: Indices):
        self.parent = parent
        self.indices = _as_index(indices)
        self.classes = parent.classes

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def labels(self) -> torch.Tensor:
        return self.parent.labels[self.indices]

    @property
    def uniform(self) -> bool:
        return self.parent.uniform

    def load(self, indices: Indices) -> tuple[list[torch.Tensor] | torch.Tensor, torch.Tensor]:
        return self.parent.load(self.indices[_as_index(indices)])

    def subset(self, indices: Indices) -> ImageSet:
        return Subset(self.parent, self.indices[_as_index(indices)])


class TensorImages(ImageSet):
    """Images held in memory as one uint8 tensor (N, C, H, W), C = 1 or 3.

    Grey images are returned with the channel repeated to RGB, so the colour shift and
    mean subtraction act on them exactly as on photographs."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor | Sequence[int],
                 classes: list[str]):
        if images.dtype != torch.uint8 or images.dim() != 4 or images.shape[1] not in (1, 3):
            raise ValueError(f"TensorImages needs uint8 images (N, C, H, W) with C = 1 or 3, "
                             f"got {images.dtype} {tuple(images.shape)}")
        labels = torch.as_tensor(labels, dtype=torch.int64)
        if labels.shape != (images.shape[0],):
            raise ValueError(f"{images.shape[0]} images but labels of shape {tuple(labels.shape)}")
        self.images = images
        self._labels = labels
        self.classes = list(classes)

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def labels(self) -> torch.Tensor:
        return self._labels

    @property
    def uniform(self) -> bool:
        return True

    def load(self, indices: Indices) -> tuple[torch.Tensor, torch.Tensor]:
        idx = _as_index(indices)
        x = self.images[idx]
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1).contiguous()
        return x, self._labels[idx]

    def subset(self, indices: Indices) -> TensorImages:
        idx = _as_index(indices)
        return TensorImages(self.images[idx], self._labels[idx], self.classes)


class ImageReadError(RuntimeError):
    """An image file that neither torchvision nor PIL can decode."""


def decode_file(path: str | Path) -> torch.Tensor:
    """Decode one image file to uint8 RGB (3, H, W); torchvision first, PIL as fallback.

    torchvision 0.29 deprecates its decoders (for TorchCodec): the warning is silenced here
    and PIL takes over once they are gone."""
    try:
        from torchvision.io import ImageReadMode, decode_image
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return decode_image(str(path), mode=ImageReadMode.RGB)
    except Exception as first:
        try:
            from PIL import Image
            with Image.open(path) as im:
                rgb = np.asarray(im.convert("RGB"))
            return torch.from_numpy(rgb.copy()).permute(2, 0, 1).contiguous()
        except Exception as second:
            raise ImageReadError(f"cannot decode image file {path}: {second}") from first


class FileImages(ImageSet):
    """Image files listed explicitly with one label each, decoded lazily, one file per
    ``load`` item (VOC's image-set lists; the base of :class:`FolderImages`)."""

    def __init__(self, paths: Sequence[str | Path], labels: Sequence[int], classes: Sequence[str]):
        self.paths = [str(p) for p in paths]
        self._labels = torch.as_tensor(labels, dtype=torch.int64)
        self.classes = list(classes)

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def labels(self) -> torch.Tensor:
        return self._labels

    def load(self, indices: Indices) -> tuple[list[torch.Tensor], torch.Tensor]:
        idx = _as_index(indices)
        return [decode_file(self.paths[i]) for i in idx.tolist()], self._labels[idx]


class FolderImages(FileImages):
    """An ImageFolder tree ``root/<class>/<file>`` decoded lazily, one file per ``load`` item.

    ``classes`` fixes the class list (and so the label numbers), e.g. to give a validation
    folder the training folder's labels; by default it is the sorted sub-folder names.  A class
    whose name cannot be a folder name ("T-shirt/top") is written by its :func:`sanitised` form
    ("t-shirt-top"), which :func:`match_classes` accepts."""

    LAYOUT = "root/<class>/<image> with images ending in " + "/".join(IMAGE_EXTENSIONS)

    def __init__(self, root: str | Path, classes: list[str] | None = None):
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"image folder {self.root} does not exist; expected {self.LAYOUT}")
        found = sorted(e.name for e in os.scandir(self.root)
                       if e.is_dir() and not e.name.startswith("."))
        if classes is None:
            classes = found
        elif unknown := sorted(set(found) - set(classes)):
            raise ValueError(f"{self.root} has class folders {unknown[:5]} not among the "
                             f"{len(classes)} expected classes")
        self.classes = list(classes)
        paths, labels = [], []
        for label, name in enumerate(self.classes):
            for dirpath, dirnames, filenames in os.walk(self.root / name, followlinks=True):
                dirnames.sort()
                for f in sorted(filenames):
                    if f.lower().endswith(IMAGE_EXTENSIONS):
                        paths.append(os.path.join(dirpath, f))
                        labels.append(label)
        if not paths:
            raise ValueError(f"no images in {self.root} (class folders found: {found[:5]}); "
                             f"expected {self.LAYOUT}")
        super().__init__(paths, labels, self.classes)


def sanitised(name: str) -> str:
    """A class name in a form that can name a folder: lower-case, each run of characters other
    than letters and digits made one "-", and no "-" at either end ("T-shirt/top" → "t-shirt-top",
    "Ankle boot" → "ankle-boot").  Fashion-MNIST's "T-shirt/top" cannot be a folder name, so a
    folder of its images is matched to a net's class by this form (:func:`match_classes`)."""
    return re.sub(r"[\W_]+", "-", name.lower()).strip("-")


def match_classes(folders: Sequence[str], classes: Sequence[Sequence[str]], where: str, fix: str) -> list[int]:
    """For each class folder, the index of the one class it names.

    ``classes[i]`` lists the names class i answers to (its name; an ImageNet class also its
    WordNet id).  The rule: a folder names a class when it equals one of the class's names;
    failing that, when it equals one after both are :func:`sanitised`.  A folder that names no
    class, or by its sanitised form several, and two folders that name one class, are errors
    that name the folder (``where``), the value and ``fix`` (how this net's folders are named)."""
    def listed(names: Sequence[str]) -> str:
        return ", ".join(names[:6]) + (", …" if len(names) > 6 else "")

    forms = [{sanitised(n) for n in names} for names in classes]
    out: dict[str, int] = {}
    for folder in folders:
        hits = [i for i, names in enumerate(classes) if folder in names]
        if not hits:
            hits = [i for i, f in enumerate(forms) if sanitised(folder) in f]
        if not hits:
            raise ValueError(f"class folder {folder!r} in {where} names none of the net's {len(classes):,} "
                             f"classes ({listed([names[0] for names in classes])}) (its class folders: "
                             f"{listed(folders)}); {fix}")
        if len(hits) > 1:
            raise ValueError(f"class folder {folder!r} in {where} is ambiguous: its sanitised form "
                             f"{sanitised(folder)!r} is that of the net's classes "
                             f"{', '.join(repr(classes[i][0]) for i in hits)}; rename the folder to one of "
                             f"them exactly, or re-save the weights with class names that differ once sanitised")
        if (other := next((f for f, i in out.items() if i == hits[0]), None)) is not None:
            raise ValueError(f"class folders {other!r} and {folder!r} in {where} both name the net's class "
                             f"{classes[hits[0]][0]!r}; merge them into one folder")
        out[folder] = hits[0]
    return list(out.values())
