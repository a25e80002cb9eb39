"""Appendix A data: images with ground-truth boxes.

``full``: ILSVRC-2012 with its localisation annotations (the CLS-LOC XML files).
``quick`` and ``smoke``: canvases built deterministically from real Fashion-MNIST images, each
item pasted at a random scale and position on a larger black canvas (optionally with clutter
from other items' fragments), so its box is known exactly.  Training canvases use only
training images, test canvases only test images, fragments included.

Boxes are (x1, y1, x2, y2) in pixel *edges* of their image: a box covering pixel columns
a..b (inclusive) has x1 = a, x2 = b + 1, so its width is x2 − x1 and it scales exactly
with the image under ``vgglib.augment.rescale``.
"""
from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from .augment import derived_seed
from .data import Splits
from .images import FolderImages, ImageSet, Subset, TensorImages
from .profiles import LocalisationSettings, Profile


@dataclass
class BoxSet:
    """Labelled images with their ground-truth boxes: ``boxes[i]`` is (M, 4), M ≥ 1.
    ``origin[i]`` is the index of the source image each item came from (canvases only)."""

    images: ImageSet
    boxes: list[torch.Tensor]
    origin: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.images)

    @property
    def labels(self) -> torch.Tensor:
        """Class of every image, int64 (N,)."""
        return self.images.labels

    def first_boxes(self) -> torch.Tensor:
        """One box per image, (N, 4): the regression target during training."""
        return torch.stack([b[0] for b in self.boxes])


@dataclass
class LocSplits:
    """Training, validation (drives the LR schedule) and test sets with boxes."""

    train: BoxSet
    val: BoxSet
    test: BoxSet
    name: str
    meta: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- canvases

def tight_box(image: torch.Tensor) -> torch.Tensor:
    """The edges (x1, y1, x2, y2) of the non-zero pixels of a (C, H, W) image (all of it if blank)."""
    mask = image.amax(0) > 0
    h, w = mask.shape
    rows, cols = mask.any(1).nonzero().flatten(), mask.any(0).nonzero().flatten()
    if len(rows) == 0:
        return torch.tensor([0.0, 0.0, float(w), float(h)])
    return torch.tensor([float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1)])


def _resized(image: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """A (C, H, W) image resized to h × w, bilinear, anti-aliased when shrinking."""
    return F.interpolate(image[None].float(), size=(h, w), mode="bilinear", align_corners=False,
                         antialias=True)[0]


def canvases(source: ImageSet, n: int, size: int, seed: int, clutter: int = 0,
             sides: tuple[float, float] = (0.35, 0.85)) -> BoxSet:
    """``n`` canvases of ``size``² pixels, one item of ``source`` on each, box known exactly.

    The item is scaled to a side drawn uniformly from ``sides`` (fractions of the canvas) and
    placed uniformly at random; ``clutter`` fragments (a random 30–60% window of another item
    of the same ``source``, 15–30% of the canvas) are drawn first, and the item is composited
    over them with a pixel-wise maximum.  Items are taken in a seeded permutation of the
    source (cycling when ``n`` exceeds it); a seed fixes everything."""
    g = torch.Generator().manual_seed(seed)
    rounds = -(-n // len(source))
    pick = torch.cat([torch.randperm(len(source), generator=g) for _ in range(rounds)])[:n]
    side = (sides[0] + (sides[1] - sides[0]) * torch.rand(n, generator=g)) * size
    side = side.round().long().clamp(2, size)
    pos = torch.rand(n, 2, generator=g)
    frag_src = torch.randint(len(source), (n * clutter,), generator=g)
    frag_geo = torch.rand(n * clutter, 5, generator=g).view(n, clutter, 5)
    items, labels = source.load(pick)
    frags = source.load(frag_src)[0] if clutter else []
    grey = all(torch.equal(im[0], im[c]) for im in items[:64] for c in range(1, im.shape[0]))
    channels = 1 if grey else 3
    out = torch.zeros(n, channels, size, size, dtype=torch.uint8)
    boxes = []
    for i in range(n):
        canvas = torch.zeros(channels, size, size)
        for f in range(clutter):
            geo = frag_geo[i, f]
            patch = _fragment(frags[i * clutter + f][:channels].float(), geo, size)
            free = size - patch.shape[-1]
            paste(canvas, patch, int(round(float(geo[3]) * free)), int(round(float(geo[4]) * free)))
        item = items[i][:channels].float()
        s = int(side[i])
        x0, y0 = int((pos[i, 0] * (size - s)).round()), int((pos[i, 1] * (size - s)).round())
        paste(canvas, _resized(item, s, s), x0, y0)
        h, w = item.shape[-2:]
        b = tight_box(item) * torch.tensor([s / w, s / h, s / w, s / h])
        boxes.append((b + torch.tensor([x0, y0, x0, y0])).view(1, 4))
        out[i] = canvas.round().clamp(0, 255).to(torch.uint8)
    return BoxSet(TensorImages(out, labels, source.classes), boxes, pick)


def _fragment(image: torch.Tensor, geo: torch.Tensor, size: int) -> torch.Tensor:
    """A random square window (30–60% of the side) of an image, scaled to 15–30% of the canvas."""
    h, w = image.shape[-2:]
    k = max(2, int(round((0.3 + 0.3 * float(geo[0])) * min(h, w))))
    top, left = int(float(geo[1]) * (h - k)), int(float(geo[2]) * (w - k))
    s = max(2, int(round((0.15 + 0.15 * float(geo[0])) * size)))
    return _resized(image[:, top:top + k, left:left + k], s, s)


def paste(canvas: torch.Tensor, patch: torch.Tensor, x0: int, y0: int) -> None:
    """Maximum-composite ``patch`` into ``canvas`` (in place) with its top-left corner at (x0, y0)."""
    h, w = patch.shape[-2:]
    region = canvas[:, y0:y0 + h, x0:x0 + w]
    region.copy_(torch.maximum(region, patch))


PARTS = ("train", "val", "test")
#: What of the localisation section draws the canvases (the rest is the localisers' training).
CANVAS_FIELDS = ("canvas", "train", "val", "test", "clutter", "min_side", "max_side")


def canvas_part(splits: Splits, settings: LocalisationSettings, part: str, seed: int = 0) -> BoxSet:
    """The canvases of one split, from that split's own images (val: the held-out training images)."""
    return canvases(getattr(splits, part), getattr(settings, part), settings.canvas,
                    derived_seed(seed, PARTS.index(part)), settings.clutter,
                    (settings.min_side, settings.max_side))


def canvas_splits(splits: Splits, settings: LocalisationSettings, seed: int = 0) -> LocSplits:
    """Canvases for training, validation and test, each from its own split's images."""
    desc = {"kind": "canvases", "source": f"{splits.name}-{len(splits.train)}-{len(splits.val)}-{splits.fingerprint}",
            "seed": seed, **{f: getattr(settings, f) for f in CANVAS_FIELDS}}
    key = hashlib.sha256(json.dumps(desc, sort_keys=True).encode()).hexdigest()[:8]
    return LocSplits(*(canvas_part(splits, settings, part, seed) for part in PARTS),
                     name=f"canvas-{splits.name}-{key}", meta=desc)


# --------------------------------------------------------------------------- ILSVRC-2012 boxes

def annotation_dir(root: str | Path) -> Path:
    """Where the ILSVRC-2012 CLS-LOC box annotations live under a data root, or a clear error."""
    ann = Path(root) / "Annotations" / "CLS-LOC"
    if not ann.is_dir():
        raise FileNotFoundError(
            f"ILSVRC-2012 localisation annotations not found: no folder {ann}. Expected the "
            f"CLS-LOC XML files as {ann}/train/<wnid>/<image>.xml and {ann}/val/<image>.xml "
            f"(from the ILSVRC-2012 bounding-box downloads).")
    return ann


def read_boxes(path: str | Path, one_based: bool = False
               ) -> tuple[tuple[int, int] | None, list[tuple[ET.Element, torch.Tensor]]]:
    """One PASCAL-format XML file, the format ILSVRC and VOC share: ((width, height) or None
    without a <size>, [(object element, box edges)]) for every object with a <bndbox>.  Bounds
    are inclusive pixels counted from 1 (``one_based``, VOC) or 0 (ILSVRC as we read it); edges
    are (x1, y1, x2, y2) with x2 one past the last pixel."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no annotation file at {path}")
    root = ET.parse(path).getroot()
    size = root.find("size")
    wh = None if size is None else (int(size.findtext("width")), int(size.findtext("height")))
    shift = 1.0 if one_based else 0.0
    objects = []
    for obj in root.iter("object"):
        bb = obj.find("bndbox")
        if bb is None:
            continue
        xmin, ymin, xmax, ymax = (float(bb.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax"))
        objects.append((obj, torch.tensor([xmin - shift, ymin - shift, xmax + 1 - shift, ymax + 1 - shift])))
    return wh, objects


def read_annotation(path: str | Path) -> tuple[tuple[int, int], list[tuple[str, torch.Tensor]]]:
    """One ILSVRC XML file: ((width, height), [(wnid, box edges)])."""
    wh, objects = read_boxes(path)
    if wh is None:
        raise ValueError(f"{path}: no <size> element; not an ILSVRC annotation")
    if not objects:
        raise ValueError(f"{path}: no <object> with a <bndbox>")
    return wh, [(obj.findtext("name"), box) for obj, box in objects]


def _paths(images: ImageSet) -> list[Path]:
    """The file of every image of a FolderImages set or a subset of one."""
    if isinstance(images, Subset) and isinstance(images.parent, FolderImages):
        return [Path(images.parent.paths[i]) for i in images.indices.tolist()]
    if isinstance(images, FolderImages):
        return [Path(p) for p in images.paths]
    raise TypeError(f"ILSVRC boxes need images read from files, got {type(images).__name__}")


def folder_boxes(images: ImageSet, ann: Path) -> BoxSet:
    """The images of a set that have an annotation (``ann/<wnid>/<stem>.xml`` or
    ``ann/<stem>.xml``), with their boxes; images without one are left out (as in ILSVRC,
    where only part of the training images carry boxes)."""
    keep, boxes = [], []
    for i, path in enumerate(_paths(images)):
        for xml in (ann / path.parent.name / f"{path.stem}.xml", ann / f"{path.stem}.xml"):
            if xml.is_file():
                keep.append(i)
                boxes.append(torch.stack([b for _, b in read_annotation(xml)[1]]))
                break
    if not keep:
        raise FileNotFoundError(f"none of the {len(images)} images has an annotation under {ann}")
    return BoxSet(images.subset(keep), boxes)


def imagenet_boxes(splits: Splits) -> LocSplits:
    """ILSVRC-2012 localisation: each split's images that have CLS-LOC boxes (the held-out
    val and our train both from the train annotations, test from the val annotations)."""
    ann = annotation_dir(splits.meta["root"])
    return LocSplits(folder_boxes(splits.train, ann / "train"), folder_boxes(splits.val, ann / "train"),
                     folder_boxes(splits.test, ann / "val"), name=f"ilsvrc-loc-{len(splits.train)}",
                     meta={"kind": "ilsvrc", "root": splits.meta["root"]})


def loc_splits(profile: Profile, splits: Splits, seed: int = 0) -> LocSplits:
    """The localisation data of a profile: ILSVRC boxes for ImageNet, canvases otherwise (an
    error for a profile whose localisation section draws no canvases)."""
    if splits.name == "imagenet":
        return imagenet_boxes(splits)
    return canvas_splits(splits, canvas_settings(profile), seed)


def loc_test_set(profile: Profile, splits: Splits, seed: int = 0) -> BoxSet:
    """Only the test part of :func:`loc_splits` (cheap: for figures of stored results)."""
    if splits.name == "imagenet":
        return folder_boxes(splits.test, annotation_dir(splits.meta["root"]) / "val")
    return canvas_part(splits, canvas_settings(profile), "test", seed)


def canvas_settings(profile: Profile) -> LocalisationSettings:
    """The profile's localisation section, which must say how to draw canvases."""
    settings = profile.section("localisation")
    if settings.canvas is None:
        raise ValueError(f"profile {profile.name!r}: its localisation section sets no canvas side; "
                         f"canvases are drawn at profiles that set one (quick, smoke)")
    return settings
