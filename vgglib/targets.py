"""Appendix B's target data sets: the paper's (PASCAL VOC 2007/2012 classification, Caltech-101
and -256, VOC-2012 action) read from a user's folders, and the real analogues the ``quick`` and
``smoke`` profiles use with no download: scikit-learn's ``digits`` (Caltech-style) and canvases
composed from Fashion-MNIST *test* images, never seen in pre-training (VOC- and action-style).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from .augment import derived_seed, rescale, seeded_generator
from .box_data import paste, read_boxes
from .data import Splits, holdout
from .images import FileImages, FolderImages, ImageSet, Indices, TensorImages
from .profiles import TransferSettings

VOC_CLASSES = ("aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
               "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
               "train", "tvmonitor")
ACTION_CLASSES = ("jumping", "phoning", "playinginstrument", "reading", "ridingbike", "ridinghorse",
                  "running", "takingphoto", "usingcomputer", "walking", "other")
#: Share of the training images held out to choose the SVM's C (Appendix B, Caltech).
VAL_FRACTION = 0.2


@dataclass
class Target:
    """One transfer data set.  ``labels``: (N,) classes for Caltech-style targets; (N, K) with
    1 present, 0 absent, −1 ignored ("difficult") for VOC-style and action targets.  ``parts``:
    fixed train / val / test indices (VOC, action); Caltech-style targets draw theirs at random,
    ``per_class`` = (training, most test images per class; None = all the rest).  ``boxes``: the
    given box of each image (action); ``origin``: source index of each canvas item (−1 = none)."""

    name: str
    kind: str
    images: ImageSet
    labels: torch.Tensor
    classes: list[str]
    column: str
    parts: dict[str, torch.Tensor] = field(default_factory=dict)
    boxes: torch.Tensor | None = None
    origin: torch.Tensor | None = None
    per_class: tuple[int, int | None] = (30, 50)
    meta: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- analogue targets

def digits_target(settings: TransferSettings) -> Target:
    """Caltech-style analogue: scikit-learn's 8×8 handwritten digits (1,797 images, 10 classes,
    grey levels 0–16 mapped to 0–255), a domain unlike the Fashion-MNIST pre-training; the
    first ``digits_per_class`` of each class when that is set."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.from_numpy(np.round(d.images * 255 / 16)).to(torch.uint8)[:, None]
    y = torch.from_numpy(d.target).long()
    if settings.digits_per_class:
        keep = torch.cat([(y == k).nonzero().flatten()[:settings.digits_per_class] for k in range(10)]).sort().values
        x, y = x[keep], y[keep]
    classes = [str(k) for k in range(10)]
    return Target(f"digits-{len(y)}", "caltech", TensorImages(x, y, classes), y, classes, "Caltech-101",
                  per_class=settings.per_class,
                  meta={"label": "Caltech-style: scikit-learn digits", "images": len(y),
                        "per_class": list(settings.per_class)})


def compose(source: ImageSet, pool: torch.Tensor, n: int, size: int, items: tuple[int, int],
            sides: tuple[float, float], seed: int,
            first_sides: tuple[float, float] | None = None
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``n`` black ``size``² canvases, each with ``items`` = (fewest, most) images drawn from
    ``pool`` (indices into ``source``) pasted as squares whose side is a random fraction
    ``sides`` of the canvas (``first_sides`` for the first item) at random places, composited by
    the pixel-wise maximum, the first item last.  A seed fixes everything.  Returns uint8 images
    (n, 3, size, size) and per item (n, most): class (−1 = none), box edges (x1, y1, x2, y2) of
    its square, source index (−1 = none)."""
    g = torch.Generator().manual_seed(seed)
    lo, hi = items
    count = torch.randint(lo, hi + 1, (n,), generator=g)
    pick = pool[torch.randint(len(pool), (n, hi), generator=g)]
    frac = torch.rand(n, hi, generator=g)
    pos = torch.rand(n, hi, 2, generator=g)
    bounds = torch.tensor([first_sides or sides] + [sides] * (hi - 1))
    side = ((bounds[:, 0] + (bounds[:, 1] - bounds[:, 0]) * frac) * size).round().long().clamp(2, size)
    x0, y0 = ((pos[..., 0] * (size - side)).round().long(), (pos[..., 1] * (size - side)).round().long())
    present = torch.arange(hi) < count[:, None]
    loaded, labels = source.load(pick.flatten())
    images = torch.zeros(n, 3, size, size, dtype=torch.uint8)
    for i in range(n):
        canvas = torch.zeros(3, size, size)
        for j in reversed(range(int(count[i]))):
            s, a, b = int(side[i, j]), int(x0[i, j]), int(y0[i, j])
            patch = rescale(loaded[i * hi + j][None], s)[0]
            paste(canvas, patch, a, b)
        images[i] = canvas.round().clamp(0, 255).to(torch.uint8)
    boxes = torch.stack([x0, y0, x0 + side, y0 + side], -1).float() * present[..., None]
    none = torch.full_like(pick, -1)
    return images, torch.where(present, labels.view(n, hi), none), boxes, torch.where(present, pick, none)


def canvas_target(kind: str, splits: Splits, settings: TransferSettings, seed: int = 0) -> Target:
    """A VOC-style (``voc``: 2–4 items, labels = the set of classes present) or action-style
    (``action``: one larger item whose box is given and whose class is the label, plus one or
    two smaller distractors) target, composed from ``splits.test`` only.  The test images are
    halved (seeded): training and validation canvases use one half, test canvases the other."""
    if kind not in ("voc", "action"):
        raise ValueError(f"canvas targets are 'voc' or 'action', got {kind!r}")
    source = splits.test
    perm = torch.randperm(len(source), generator=seeded_generator(seed, 0))
    pools = perm[:len(source) // 2], perm[len(source) // 2:]
    n_train, n_val, n_test = getattr(settings, kind)
    shape = (dict(items=settings.items, sides=(0.3, 0.55)) if kind == "voc"
             else dict(items=(2, 3), sides=(0.25, 0.4), first_sides=(0.45, 0.7)))
    fit = compose(source, pools[0], n_train + n_val, settings.canvas, seed=derived_seed(seed, 1), **shape)
    test = compose(source, pools[1], n_test, settings.canvas, seed=derived_seed(seed, 2), **shape)
    images, items, boxes, origin = (torch.cat(pair) for pair in zip(fit, test))
    k = len(source.classes)
    present = torch.nn.functional.one_hot(items.clamp(min=0), k) * (items >= 0)[..., None]
    labels = present.amax(1) if kind == "voc" else present[:, 0]
    cut = (n_train, n_train + n_val, len(items))
    parts = {"train": torch.arange(cut[0]), "val": torch.arange(cut[0], cut[1]), "test": torch.arange(cut[1], cut[2])}
    desc = {"kind": kind, "source": f"{splits.name}-test-{len(source)}", "seed": seed, **asdict(settings)}
    key = hashlib.sha256(json.dumps(desc, sort_keys=True).encode()).hexdigest()[:8]
    label = ("VOC-style: Fashion-MNIST test canvases" if kind == "voc"
             else "action-style: Fashion-MNIST test canvases, one item's box given")
    return Target(f"canvas-{kind}-{key}", kind, TensorImages(images, items[:, 0], list(source.classes)),
                  labels.long(), list(source.classes), "VOC-2007" if kind == "voc" else "VOC-2012 action",
                  parts, boxes[:, 0] if kind == "action" else None, origin,
                  meta={"label": label, "images": len(items), "parts": [n_train, n_val, n_test], **desc})


# --------------------------------------------------------------------------- full-scale targets

# --------------------------------------------------------------------------- the paper's targets

class BoxCrops(ImageSet):
    """The given box of every image of another set, cropped (edges rounded outwards, clipped to
    the image, at least one pixel): the second input of Table 12's "image and box" descriptor."""

    def __init__(self, parent: ImageSet, boxes: torch.Tensor):
        if boxes.shape != (len(parent), 4):
            raise ValueError(f"need one box (x1, y1, x2, y2) per image: {len(parent)} images, "
                             f"boxes {tuple(boxes.shape)}")
        self.parent, self.boxes, self.classes = parent, boxes, parent.classes

    def __len__(self) -> int:
        return len(self.parent)

    @property
    def labels(self) -> torch.Tensor:
        return self.parent.labels

    def load(self, indices: Indices) -> tuple[list[torch.Tensor], torch.Tensor]:
        idx = torch.as_tensor(indices, dtype=torch.int64).reshape(-1)
        images, labels = self.parent.load(idx)
        crops = []
        for image, box in zip(images, self.boxes[idx]):
            h, w = image.shape[-2:]
            x1, y1 = min(int(box[0].floor()), w - 1), min(int(box[1].floor()), h - 1)
            x1, y1 = max(x1, 0), max(y1, 0)
            x2, y2 = max(min(int(box[2].ceil()), w), x1 + 1), max(min(int(box[3].ceil()), h), y1 + 1)
            crops.append(image[:, y1:y2, x1:x2])
        return crops, labels


def _voc_base(root: str | Path, year: int, image_sets: str) -> Path:
    """The VOC<year> folder under ``root`` (itself, ``VOC<year>`` or ``VOCdevkit/VOC<year>``)
    holding ``JPEGImages/`` and ``ImageSets/<image_sets>/``, or an error naming where it looked."""
    root = Path(root)
    tried = [root, root / f"VOC{year}", root / "VOCdevkit" / f"VOC{year}"]
    for base in tried:
        if (base / "JPEGImages").is_dir() and (base / "ImageSets" / image_sets).is_dir():
            return base
    raise FileNotFoundError(
        f"PASCAL VOC {year} not found: none of {', '.join(map(str, tried))} holds JPEGImages/ and "
        f"ImageSets/{image_sets}/. Expected the devkit layout VOCdevkit/VOC{year}/{{JPEGImages, "
        f"Annotations, ImageSets/{image_sets}}} as extracted from the VOC{year} tar files.")


def _read_lines(path: Path) -> list[list[str]]:
    """The whitespace-split lines of a devkit list file, or an error naming the file."""
    if not path.is_file():
        raise FileNotFoundError(f"missing VOC list file {path}")
    return [line.split() for line in path.read_text().splitlines() if line.strip()]


def _voc_set(main: Path, name: str) -> tuple[list[str], torch.Tensor]:
    """Image ids of one VOC image set and their (N, 20) labels: 1 present, 0 absent, −1 for
    the devkit's 0 ("difficult" only), which the protocol ignores."""
    ids = [f[0] for f in _read_lines(main / f"{name}.txt")]
    row = {i: n for n, i in enumerate(ids)}
    labels = torch.zeros(len(ids), len(VOC_CLASSES), dtype=torch.int64)
    for k, cls in enumerate(VOC_CLASSES):
        for image_id, flag in _read_lines(main / f"{cls}_{name}.txt"):
            labels[row[image_id], k] = {1: 1, -1: 0, 0: -1}[int(flag)]
    return ids, labels


def _first_class(labels: torch.Tensor) -> list[int]:
    """One class per image of a multi-label matrix (the first present), for ``ImageSet.labels``."""
    return (labels == 1).long().argmax(1).tolist()


def voc_classification(root: str | Path, year: int, seed: int = 0) -> Target:
    """PASCAL VOC classification in the devkit layout (20 classes).  VOC-2007: train → SVM
    training, val → choosing C, test → reported.  VOC-2012's test labels are not public (an
    evaluation server scores them): 20% of train is held out for C and val is reported."""
    base = _voc_base(root, year, "Main")
    main = base / "ImageSets" / "Main"
    names = ("train", "val", "test") if year == 2007 else ("train", "val")
    sets = {name: _voc_set(main, name) for name in names}
    ids = [i for name in names for i in sets[name][0]]
    labels = torch.cat([sets[name][1] for name in names])
    sizes = [len(sets[name][0]) for name in names]
    if year == 2007:
        bounds = np.cumsum([0, *sizes])
        parts = {name: torch.arange(bounds[i], bounds[i + 1]) for i, name in enumerate(names)}
    else:
        fit, held = holdout(sizes[0], VAL_FRACTION, seed)
        parts = {"train": fit, "val": held, "test": torch.arange(sizes[0], sum(sizes))}
    images = FileImages([base / "JPEGImages" / f"{i}.jpg" for i in ids], _first_class(labels), VOC_CLASSES)
    return Target(f"voc{year}-{len(ids)}", "voc", images, labels, list(VOC_CLASSES), f"VOC-{year}", parts,
                  meta={"label": f"VOC-{year}", "root": str(base), "images": len(ids),
                        "reported_on": "test" if year == 2007 else "val (test labels unpublished)"})


def caltech_target(root: str | Path, classes: int = 101) -> Target:
    """Caltech-101 (102 class folders with BACKGROUND_Google; 30 training and at most 50 test
    images per class) or Caltech-256 (257 with clutter; 60 training, the rest for testing)."""
    folder = {101: "101_ObjectCategories", 256: "256_ObjectCategories"}
    if classes not in folder:
        raise ValueError(f"Caltech comes with 101 or 256 classes, got {classes}")
    root = Path(root)
    tried = [root / folder[classes], root / f"caltech{classes}" / folder[classes], root]
    base = next((p for p in tried if p.is_dir() and len([d for d in p.iterdir() if d.is_dir()]) > classes), None)
    if base is None:
        raise FileNotFoundError(f"Caltech-{classes} not found: none of {', '.join(map(str, tried))} holds "
                                f"its {classes + 1} class folders. Expected {folder[classes]}/<class>/<image>.jpg "
                                f"as extracted from the Caltech-{classes} archive.")
    images = FolderImages(base)
    per_class = (30, 50) if classes == 101 else (60, None)
    return Target(f"caltech{classes}-{len(images)}", "caltech", images, images.labels, images.classes,
                  f"Caltech-{classes}", per_class=per_class,
                  meta={"label": f"Caltech-{classes}", "root": str(base), "images": len(images),
                        "per_class": list(per_class)})


def voc_action(root: str | Path, seed: int = 0) -> Target:
    """PASCAL VOC-2012 action classification: every person annotated with actions (its image,
    its box, its labels among 11 classes) in the images of ImageSets/Action/train.txt (20% held
    out for C) and val.txt (reported: the test labels are not public)."""
    base = _voc_base(root, 2012, "Action")
    paths, boxes, labels, sizes = [], [], [], []
    for name in ("train", "val"):
        before = len(paths)
        for (image_id, *_) in _read_lines(base / "ImageSets" / "Action" / f"{name}.txt"):
            for obj, box in read_boxes(base / "Annotations" / f"{image_id}.xml", one_based=True)[1]:
                actions = obj.find("actions")
                if actions is None:
                    continue
                paths.append(base / "JPEGImages" / f"{image_id}.jpg")
                boxes.append(box.tolist())
                labels.append([int(float(actions.findtext(a) or 0)) for a in ACTION_CLASSES])
        sizes.append(len(paths) - before)
    if not paths:
        raise ValueError(f"no person with <actions> in the annotations listed by {base}/ImageSets/Action")
    y = torch.tensor(labels, dtype=torch.int64)
    fit, held = holdout(sizes[0], VAL_FRACTION, seed)
    parts = {"train": fit, "val": held, "test": torch.arange(sizes[0], sum(sizes))}
    return Target(f"voc2012-action-{len(paths)}", "action", FileImages(paths, _first_class(y), ACTION_CLASSES),
                  y, list(ACTION_CLASSES), "VOC-2012 action", parts, torch.tensor(boxes),
                  meta={"label": "VOC-2012 action", "root": str(base), "images": len(paths),
                        "reported_on": "val (test labels unpublished)"})
