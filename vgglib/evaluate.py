"""Paper §3.2 testing: dense and multi-crop evaluation at a test scale Q, horizontal-flip and
multi-scale averaging of soft-max posteriors, model fusion (Tables 5–6), and top-k error.

Every evaluator returns soft-max posteriors, float32 on the CPU, shape (N, classes), so that
scales, methods and models combine by plain averaging, as in the paper.  ``images`` is any
ImageSet (duck-typed): ``classes``, ``__len__``, ``labels``, ``uniform`` and
``load(indices) -> (images, labels)``, with images a uint8 (B, 3, H, W) tensor when
``uniform`` and otherwise a list of uint8 (3, H, W) tensors.

``batch_size`` counts network inputs per forward pass: images for dense evaluation, crops
for multi-crop, so memory stays bounded whatever the grid.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext

import torch
import torch.nn.functional as F
from torch import nn

from .arch import NATIVE_STRIDE
from .augment import Normalise, rescale

#: The methods :func:`evaluate` knows, in the paper's order (Table 5).
METHODS = ("dense", "multi-crop", "dense+multi-crop", "centre")


# --------------------------------------------------------------------------- plumbing

@contextmanager
def eval_mode(model: nn.Module) -> Iterator[None]:
    """Evaluate with dropout off and no autograd, restoring the model's training flag after."""
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            yield
    finally:
        model.train(was_training)


def device_of(model: nn.Module) -> torch.device:
    """The device holding the model's weights (inputs are moved there)."""
    return next(model.parameters()).device


def batches(images, chunk: int, progress: bool = False, desc: str = "") -> Iterator[tuple[list[int], torch.Tensor]]:
    """Yield (indices, uint8 (B,3,H,W) batch) over an ImageSet, ``chunk`` images per load.

    A non-uniform set's load is split into groups of equal-size images, each batched."""
    n = len(images)
    starts = range(0, n, chunk)
    if progress:
        from tqdm import tqdm

        starts = tqdm(starts, desc=desc, unit="batch", mininterval=2, leave=False)
    for start in starts:
        idx = list(range(start, min(start + chunk, n)))
        batch, _ = images.load(idx)
        if isinstance(batch, torch.Tensor):
            yield idx, batch
            continue
        by_shape: dict[tuple[int, ...], list[int]] = {}
        for j, img in enumerate(batch):
            by_shape.setdefault(tuple(img.shape), []).append(j)
        for js in by_shape.values():
            yield [idx[j] for j in js], torch.stack([batch[j] for j in js])


def _run(model: nn.Module, images, chunk: int, per_batch: Callable[[torch.Tensor], torch.Tensor],
         progress: bool, desc: str) -> torch.Tensor:
    """Apply ``per_batch`` (uint8 batch -> posteriors) over the whole set, in eval mode."""
    if chunk < 1:
        raise ValueError(f"batch_size must be positive, got {chunk}")
    out: torch.Tensor | None = None
    with eval_mode(model):
        for idx, batch in batches(images, chunk, progress, desc):
            p = per_batch(batch).float().cpu()
            if out is None:
                out = torch.empty(len(images), p.shape[1])
            out[idx] = p
    return out if out is not None else torch.empty(0, len(images.classes))


def bf16_autocast(device: torch.device, enabled: bool):
    """bf16 autocast on the model's device when asked (CPU or GPU), else a no-op."""
    return torch.autocast(device.type, dtype=torch.bfloat16) if enabled else nullcontext()


def _prepare(batch: torch.Tensor, q: int, normalise: Normalise) -> torch.Tensor:
    """Rescale a uint8 batch to smallest side Q and normalise it (on the CPU, as Normalise is)."""
    return normalise(rescale(batch, q))


# --------------------------------------------------------------------------- evaluators

#: How densely the paper samples the class-score map: every 32 pixels at its 224-pixel crop,
#: one seventh of the crop, which every profile keeps or betters.
DENSE_STEPS_PER_CROP = 7


def dense_stride(crop: int) -> int:
    """The stride of the dense pass at a crop size: the net's own 32 pixels where that is at
    most crop/7 (the paper's 224-pixel crop), else 32 halved until it is (4 pixels, crop/8, at a
    32-pixel crop: the nearest the net's factor-2 poolings allow to the paper's crop/7)."""
    stride = NATIVE_STRIDE
    while stride > crop / DENSE_STEPS_PER_CROP and stride > 1:
        stride //= 2
    return stride


def window_offsets(size: int, crop: int) -> list[int]:
    """Corners, along one side of ``size`` pixels, of the crop-sized windows the dense pass
    averages: every :func:`dense_stride` pixels from the image's first pixel, as many as fit
    in the whole image (at Q = crop, the one window).  At a 224-pixel crop this is the net's
    own 32-pixel grid."""
    if size < crop:
        raise ValueError(f"cannot place a {crop}-pixel window in {size} pixels")
    stride = dense_stride(crop)
    return [k * stride for k in range(size // stride - crop // stride + 1)]


def window_scores(model: nn.Module, x: torch.Tensor, upto: str = "fc8",
                  autocast: bool = False) -> tuple[torch.Tensor, list[int], list[int]]:
    """The dense pass (§3.2) over a whole (N, C, H, W) batch: the class-score map (or with
    ``upto="fc7"`` the penultimate activations) at every window of :func:`window_offsets`,
    (N, out, ny, nx), and the windows' corners.  One fully convolutional pass over the whole
    image (:meth:`vgglib.arch.VGG.score_map` at the profile's :func:`dense_stride`), so each
    window's border comes from the image around it, zeros only at the image's own border."""
    c, (h, w) = model.crop, x.shape[-2:]
    with bf16_autocast(x.device, autocast):
        out = model.score_map(x, upto, stride=pass_stride(h, w, c)).float()
    return out, window_offsets(h, c), window_offsets(w, c)


def pass_stride(h: int, w: int, crop: int) -> int:
    """The stride the dense pass over an h×w image runs at: :func:`dense_stride`, or the net's
    own where only one window fits (the plain pass computes that window for less)."""
    one = len(window_offsets(h, crop)) == len(window_offsets(w, crop)) == 1
    return NATIVE_STRIDE if one else dense_stride(crop)


def dense_posteriors(model: nn.Module, images, q: int, normalise: Normalise, flip: bool = True,
                     batch_size: int = 256, progress: bool = False,
                     autocast: bool = False) -> torch.Tensor:
    """Dense evaluation (§3.2): the fully convolutional net over the whole image at scale Q.

    The class-score map, sampled every :func:`dense_stride` pixels over the whole image in one
    pass (:func:`window_scores`), is spatially averaged (the paper's "sum-pooling", taken as a
    mean so the scores keep the crop's scale), then soft-maxed; with ``flip`` the posteriors of
    the image and its mirror image are averaged.  Needs Q ≥ the net's crop size.
    ``batch_size`` images are loaded and passed at once."""
    if q < model.crop:
        raise ValueError(f"dense evaluation needs Q ≥ the crop size {model.crop}, got Q={q}; "
                         f"use multicrop_posteriors, which zero-pads")
    device = device_of(model)

    def posteriors(x: torch.Tensor) -> torch.Tensor:
        scores, _, _ = window_scores(model, x, autocast=autocast)
        return scores.mean(dim=(2, 3)).softmax(dim=1)

    def per_batch(batch: torch.Tensor) -> torch.Tensor:
        x = _prepare(batch, q, normalise).to(device)
        p = posteriors(x)
        return (p + posteriors(x.flip(-1))) / 2 if flip else p

    return _run(model, images, batch_size, per_batch, progress, f"dense Q={q}")


#: The paper's multi-crop test (§3.2): a regular grid of this many crops a side at each test scale,
#: each crop with its mirror (50 crops per scale, 150 over three scales).
MULTI_CROP_GRID = 5


def multicrop_count(scales: int = 1, grid: int = MULTI_CROP_GRID) -> int:
    """The crops multi-crop evaluation tests per image over ``scales`` test scales: a grid×grid
    grid of crops, each with its mirror, at every scale."""
    return scales * 2 * grid * grid


def crop_offsets(size: int, crop: int, grid: int) -> list[int]:
    """Top (or left) corners of ``grid`` crops evenly spaced from 0 to size − crop.

    A 1-crop grid is the centre crop, rounded as torchvision's CenterCrop does."""
    if grid < 1:
        raise ValueError(f"grid must be positive, got {grid}")
    if size < crop:
        raise ValueError(f"cannot take {crop}-pixel crops from {size} pixels")
    if grid == 1:
        return [int(round((size - crop) / 2.0))]
    return [int(round(i * (size - crop) / (grid - 1))) for i in range(grid)]


def pad_to(x: torch.Tensor, size: int) -> torch.Tensor:
    """Zero-pad a (N, C, H, W) batch, centred, so both sides are at least ``size``."""
    h, w = x.shape[-2:]
    dh, dw = max(0, size - h), max(0, size - w)
    if not dh and not dw:
        return x
    return F.pad(x, (dw // 2, dw - dw // 2, dh // 2, dh - dh // 2))


def multicrop_posteriors(model: nn.Module, images, q: int, normalise: Normalise, grid: int = MULTI_CROP_GRID,
                         flip: bool = True, batch_size: int = 256, progress: bool = False,
                         autocast: bool = False) -> torch.Tensor:
    """Multi-crop evaluation (§3.2): a grid×grid regular grid of crops (× 2 flips) at scale Q.

    Each crop is soft-maxed and the posteriors averaged over crops (grid=5, flip: the paper's
    50 crops per scale).  The paper zero-pads crops at the borders; our crops lie inside the
    image whenever Q ≥ crop, so padding only happens for Q < crop: the rescaled image, already
    normalised (mean-subtracted, so zero is the mean colour), is zero-padded to the crop."""
    device, c = device_of(model), model.crop
    per_image = grid * grid
    chunk = max(1, batch_size // per_image)

    def posteriors(crops: torch.Tensor) -> torch.Tensor:
        outs = []
        for part in crops.split(batch_size):
            with bf16_autocast(device, autocast):
                outs.append(model(part.to(device)).float().softmax(dim=1))
        return torch.cat(outs)

    def per_batch(batch: torch.Tensor) -> torch.Tensor:
        x = pad_to(_prepare(batch, q, normalise), c)
        h, w = x.shape[-2:]
        tops, lefts = crop_offsets(h, c, grid), crop_offsets(w, c, grid)
        crops = torch.stack([x[:, :, t:t + c, s:s + c] for t in tops for s in lefts], 1)
        crops = crops.flatten(0, 1)  # image-major: (B * grid², C, c, c)
        p = posteriors(crops)
        if flip:
            p = (p + posteriors(crops.flip(-1))) / 2
        return p.view(len(batch), per_image, -1).mean(dim=1)

    return _run(model, images, chunk, per_batch, progress, f"{grid}x{grid} crops Q={q}")


def centre_crop_posteriors(model: nn.Module, images, q: int, normalise: Normalise,
                           batch_size: int = 256, flip: bool = False, progress: bool = False,
                           autocast: bool = False) -> torch.Tensor:
    """The single centre crop at scale Q, soft-maxed (torchvision's usual protocol; §4.1's
    "centre crop" figures).  A 1×1 multi-crop grid, so both share one code path."""
    return multicrop_posteriors(model, images, q, normalise, grid=1, flip=flip,
                                batch_size=batch_size, progress=progress, autocast=autocast)


# --------------------------------------------------------------------------- combining

def _average(posteriors: Sequence[torch.Tensor]) -> torch.Tensor:
    """Mean of equal-shape posterior matrices; fails loudly on an empty or ragged list."""
    if not posteriors:
        raise ValueError("nothing to average: no posteriors given")
    shapes = {tuple(p.shape) for p in posteriors}
    if len(shapes) != 1:
        raise ValueError(f"posteriors differ in shape: {sorted(shapes)}")
    return torch.stack([p.float() for p in posteriors]).mean(dim=0)


def multi_scale(posteriors: Sequence[torch.Tensor]) -> torch.Tensor:
    """Multi-scale test (§3.2, Table 4): average the soft-max posteriors over test scales Q."""
    return _average(list(posteriors))


def combine(*posteriors: torch.Tensor) -> torch.Tensor:
    """Fuse evaluations by averaging soft-max posteriors: dense + multi-crop (Table 5) or
    several nets (Table 6).  The same mean as :func:`multi_scale`, named for its use."""
    return _average(list(posteriors))


# --------------------------------------------------------------------------- metrics

def topk_error(posteriors: torch.Tensor, labels: torch.Tensor, k: int = 1) -> float:
    """Top-k error in percent (0–100): the share of images whose label is not among the
    k highest posteriors (§4, ILSVRC's measure)."""
    if posteriors.ndim != 2 or labels.shape != posteriors.shape[:1]:
        raise ValueError(f"need posteriors (N, classes) and labels (N,), got "
                         f"{tuple(posteriors.shape)} and {tuple(labels.shape)}")
    if not 1 <= k <= posteriors.shape[1]:
        raise ValueError(f"k must be between 1 and the {posteriors.shape[1]} classes, got {k}")
    if len(labels) == 0:
        raise ValueError("no images to score")
    top = posteriors.topk(k, dim=1).indices
    hit = (top == labels.to(top.device).view(-1, 1)).any(dim=1)
    return 100.0 * (1.0 - hit.float().mean().item())


def top1_hits(posteriors: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per image: is the most probable class the true one?"""
    return posteriors.argmax(1) == labels


def errors(posteriors: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """Top-1 and top-5 error in percent (top-5 becomes top-min(5, classes) for small sets)."""
    return {"top1": topk_error(posteriors, labels, 1),
            "top5": topk_error(posteriors, labels, min(5, posteriors.shape[1]))}


# --------------------------------------------------------------------------- test scales

def _check_scale(train_scale: int | tuple[int, int]) -> tuple[int, int] | int:
    """Validate a training scale: an int S or a jittering range (Smin, Smax)."""
    if isinstance(train_scale, int):
        return train_scale
    lo, hi = train_scale
    if lo > hi:
        raise ValueError(f"jittering range must be (Smin, Smax) with Smin ≤ Smax, got {train_scale}")
    return int(lo), int(hi)


def q_set(train_scale: int | tuple[int, int], offset: int = 32) -> tuple[int, ...]:
    """Multi-scale test scales Q (§3.2, Table 4): fixed S → (S−offset, S, S+offset);
    jittered (Smin, Smax) → (Smin, (Smin+Smax)//2, Smax)."""
    s = _check_scale(train_scale)
    if isinstance(s, int):
        return (s - offset, s, s + offset)
    return (s[0], (s[0] + s[1]) // 2, s[1])




def q_single(train_scale: int | tuple[int, int]) -> int:
    """Single-scale test Q (§3.2, Table 3): S for fixed S, the midpoint for jittered S."""
    s = _check_scale(train_scale)
    return s if isinstance(s, int) else (s[0] + s[1]) // 2


# --------------------------------------------------------------------------- convenience

def evaluate(model: nn.Module, images, normalise: Normalise, method: str, qs: Sequence[int], *,
             flip: bool | None = None, grid: int = MULTI_CROP_GRID, batch_size: int = 256,
             progress: bool = False, autocast: bool = False) -> torch.Tensor:
    """Posteriors of one method averaged over test scales ``qs`` (Tables 3–5).

    ``method``: "dense", "multi-crop", "dense+multi-crop" (both averaged, Table 5) or
    "centre".  ``flip`` defaults to True, except False for "centre" (torchvision's protocol)."""
    if method not in METHODS:
        raise ValueError(f"unknown evaluation method {method!r}; valid: {', '.join(METHODS)}")
    qs = list(qs)
    if not qs:
        raise ValueError("no test scales given")
    if flip is None:
        flip = method != "centre"
    kw = dict(flip=flip, batch_size=batch_size, progress=progress, autocast=autocast)

    def at(q: int) -> torch.Tensor:
        if method == "dense":
            return dense_posteriors(model, images, q, normalise, **kw)
        if method == "multi-crop":
            return multicrop_posteriors(model, images, q, normalise, grid=grid, **kw)
        if method == "centre":
            return centre_crop_posteriors(model, images, q, normalise, **kw)
        return combine(dense_posteriors(model, images, q, normalise, **kw),
                       multicrop_posteriors(model, images, q, normalise, grid=grid, **kw))

    return multi_scale([at(q) for q in qs])
