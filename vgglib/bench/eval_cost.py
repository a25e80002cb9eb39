"""The report's evaluation cost section: what the paper's two test protocols cost per image with
net D, dense multi-scale (three Q, flips) against 150-crop multi-crop (5×5 grid, flips, three Q),
at the profile's size and at the paper's 224-pixel size, through vgglib.evaluate.  Beside them:
the naive window-by-window loop at the dense stride (crop/8 pixels at a 32-pixel crop, 32 at a
224 crop), each window a crop of its own, and the one-window pass (the net on the centred
32·⌊side/32⌋ pixels only: one window at a 32-pixel crop for every Q < 64), the baseline of the
goal that dense evaluation cost at most 2× of it at quick's Q = 55 and 73 px."""
from __future__ import annotations

import time
from collections.abc import Callable

import torch

from .. import arch, evaluate
from ..augment import Normalise, rescale, rescaled_size
from ..images import ImageSet, TensorImages
from ..profiles import Profile
from .data_pipeline import PHOTO_HW, photo
from .timing import median, seconds, section, table

#: The paper's test scales Q for the jittered nets (§3.2, Table 4), in its 224-pixel units.
PAPER_Q = (256, 384, 512)
GRID, FLIPS = evaluate.MULTI_CROP_GRID, 2


def dense_macs(config: str, images_hw: tuple[int, int], qs: list[int], **kw) -> int:
    """Multiply-adds of dense evaluation of one h×w image at every Q, with its flip: one pass
    over the whole rescaled image at the dense stride of the crop."""
    return sum(FLIPS * arch.multiply_adds(config, (h, w), stride=evaluate.pass_stride(h, w, kw["crop"]), **kw)
               for h, w in (rescaled_size(*images_hw, q) for q in qs))


def multicrop_macs(config: str, qs: list[int], **kw) -> int:
    """Multiply-adds of the paper's multi-crop evaluation of one image (grid² crops × flips × Q)."""
    return len(qs) * GRID * GRID * FLIPS * arch.multiply_adds(config, kw["crop"], **kw)


def n_windows(hw: tuple[int, int], q: int, crop: int) -> int:
    """Windows of one image rescaled to smallest side ``q``, at the dense stride."""
    h, w = rescaled_size(*hw, q)
    return len(evaluate.window_offsets(h, crop)) * len(evaluate.window_offsets(w, crop))


def naive_posteriors(model: arch.VGG, images: ImageSet, q: int, norm: Normalise, batch: int,
                     autocast: bool) -> torch.Tensor:
    """Dense evaluation written as a loop: every crop×crop window at the dense stride run through
    the net on its own, class scores averaged, soft-maxed, flip-averaged (one image at a time)."""
    out, c = [], model.crop
    with evaluate.eval_mode(model), evaluate.bf16_autocast(torch.device("cpu"), autocast):
        for _, image in evaluate.batches(images, 1):
            x = norm(rescale(image, q))
            ys, xs = evaluate.window_offsets(x.shape[-2], c), evaluate.window_offsets(x.shape[-1], c)
            windows = torch.cat([x[..., y:y + c, x0:x0 + c] for y in ys for x0 in xs])
            windows = torch.cat([windows, windows.flip(-1)])
            scores = torch.cat([model(windows[j:j + batch]).float() for j in range(0, len(windows), batch)])
            half = len(windows) // 2
            out.append((scores[:half].mean(0).softmax(0) + scores[half:].mean(0).softmax(0)) / 2)
    return torch.stack(out)


def centred_pooled(x: torch.Tensor, stride: int = arch.NATIVE_STRIDE) -> torch.Tensor:
    """The centred 32·⌊side/32⌋ pixels of a batch: all that the one-window pass saw."""
    h, w = x.shape[-2:]
    top, left = (h % stride) // 2, (w % stride) // 2
    return x[..., top:top + h - h % stride, left:left + w - w % stride]


def one_window_posteriors(model: arch.VGG, images: ImageSet, q: int, norm: Normalise, batch: int,
                          autocast: bool) -> torch.Tensor:
    """The benchmark's baseline: the plain net on the centred 32·⌊side/32⌋ pixels only (one
    window at a 32-pixel crop for every Q < 64), score map averaged, flips."""
    out = []
    with evaluate.eval_mode(model), evaluate.bf16_autocast(torch.device("cpu"), autocast):
        for _, b in evaluate.batches(images, batch):
            x = centred_pooled(norm(rescale(b, q)))
            out.append(sum(model.score_map(v).float().mean(dim=(2, 3)).softmax(1) for v in (x, x.flip(-1))) / 2)
    return torch.cat(out)


def measure(model: arch.VGG, images: ImageSet, norm: Normalise, qs: list[int], repeats: int, batch: int,
            autocast: bool, subset_grid: int | None) -> dict:
    """Median ms/image of dense and of multi-crop evaluation over ``images``.  With ``subset_grid``
    multi-crop is timed on a ``subset_grid``² grid without flips at each Q and its per-crop cost
    extrapolated to the 150 crops."""
    dense, multi, one, naive = [], [], [], []
    crops_timed = len(qs) * (subset_grid ** 2 if subset_grid else GRID * GRID * FLIPS)
    hw = tuple(images.load([0])[0][0].shape[-2:])
    windows = FLIPS * sum(n_windows(hw, q, model.crop) for q in qs)
    for _ in range(repeats):
        dense.append(seconds(lambda: evaluate.evaluate(model, images, norm, "dense", qs, batch_size=batch,
                                                      autocast=autocast)))
        one.append(seconds(lambda: [one_window_posteriors(model, images, q, norm, batch, autocast) for q in qs]))
        if not subset_grid:
            naive.append(seconds(lambda: [naive_posteriors(model, images, q, norm, batch, autocast) for q in qs]))
        if subset_grid:
            t = seconds(lambda: [evaluate.multicrop_posteriors(model, images, q, norm, grid=subset_grid,
                                                               flip=False, batch_size=batch, autocast=autocast)
                                 for q in qs])
        else:
            t = seconds(lambda: evaluate.evaluate(model, images, norm, "multi-crop", qs, grid=GRID,
                                                  batch_size=batch, autocast=autocast))
        multi.append(t * len(qs) * GRID * GRID * FLIPS / crops_timed)
    n = len(images)
    d, m, o = (1000 * median(v) / n for v in (dense, multi, one))
    w = 1000 * median(naive) / n if naive else m / (len(qs) * GRID * GRID * FLIPS) * windows
    return {"dense_ms": round(d, 2), "one_window_ms": round(o, 2), "dense_over_one_window": round(d / o, 2),
            "naive_windows_ms": round(w, 2), "windows_per_image": windows, "multicrop_ms": round(m, 2),
            "ratio": round(m / d, 2), "crops_timed_per_image": crops_timed, "extrapolated": bool(subset_grid)}


def per_scale(model: arch.VGG, images: ImageSet, norm: Normalise, qs: list[int], repeats: int, batch: int,
              autocast: bool, val_images: int) -> list[dict]:
    """At each test scale Q (pixels): dense evaluation (flips) against the one-window pass, in
    time and in multiply-adds, and what the validation that drives the schedule costs per epoch
    (dense at that Q without flips, over the profile's ``val_images``)."""
    rows, n, c = [], len(images), model.crop
    hw = tuple(images.load([0])[0][0].shape[-2:])
    def timed(fn: Callable[..., object], *args: object, **kw: object) -> float:
        return 1000 * median([seconds(lambda: fn(*args, **kw)) for _ in range(repeats)]) / n

    for q in qs:
        dense = timed(evaluate.dense_posteriors, model, images, q, norm, batch_size=batch, autocast=autocast)
        one = timed(one_window_posteriors, model, images, q, norm, batch, autocast)
        val = timed(evaluate.dense_posteriors, model, images, q, norm, flip=False, batch_size=batch, autocast=autocast)
        h, w = rescaled_size(*hw, q)
        macs = (arch.multiply_adds(model.layers, (h, w), evaluate.pass_stride(h, w, c))
                / arch.multiply_adds(model.layers, (h - h % 32, w - w % 32)))
        rows.append({"Q": q, "dense_ms": round(dense, 2), "one_window_ms": round(one, 2),
                     "dense_over_one_window": round(dense / one, 2), "macs_over_one_window": round(macs, 2),
                     "validation_s_per_epoch": round(val * val_images / 1000, 1)})
    return rows


def evaluation_cost(p: Profile, val: ImageSet, full: Profile, profile_images: int, full_images: int,
                    profile_repeats: int, full_repeats: int, full_qs: tuple[int, ...],
                    full_subset_grid: int) -> dict:
    """The report's evaluation cost section: cost per image at the profile's size (net D at the
    profile's width on its validation images) and at 224 (full D on photo-sized images)."""
    started = time.perf_counter()
    rows = []
    torch.manual_seed(0)
    small = arch.build("D", num_classes=len(val.classes), width=p.width, crop=p.crop, fc_width=p.fc_width)
    images = val.subset(range(profile_images))
    qs = [p.scale(q) for q in PAPER_Q]
    kw = dict(num_classes=len(val.classes), width=p.width, crop=p.crop, fc_width=p.fc_width)
    hw = tuple(images.load([0])[0].shape[-2:])
    row = measure(small, images, Normalise((128.0,) * 3), qs, profile_repeats, p.eval_batch, p.bf16, None)
    rows.append({"size": f"{p.name} profile: D width {p.width}, {p.crop} crop, {hw[0]}×{hw[1]} images",
                 "qs": ", ".join(map(str, qs)), "images": profile_images, **row,
                 "macs_ratio": round(multicrop_macs("D", qs, **kw) / dense_macs("D", hw, qs, **kw), 2)})
    scales = per_scale(small, images, Normalise((128.0,) * 3), qs, profile_repeats, p.eval_batch, p.bf16,
                       len(val))
    big = arch.build("D", num_classes=1000)
    g = torch.Generator().manual_seed(0)
    photos = TensorImages(torch.stack([photo(*PHOTO_HW, g) for _ in range(full_images)]),
                          torch.zeros(full_images, dtype=torch.long), ["photo"])
    full_kw = dict(num_classes=1000, crop=224)
    qs_full = list(full_qs)
    row = measure(big, photos, Normalise((124.0, 116.0, 104.0)), qs_full, full_repeats, 8, full.bf16,
                  full_subset_grid)
    rows.append({"size": f"paper's size: full D, 224 crop, {PHOTO_HW[1]}×{PHOTO_HW[0]} images",
                 "qs": ", ".join(map(str, qs_full)), "images": full_images, **row,
                 "macs_ratio": round(multicrop_macs("D", qs_full, **full_kw)
                                     / dense_macs("D", PHOTO_HW, qs_full, **full_kw), 2)})
    units = {"images": "images", "dense_ms": "ms/image", "multicrop_ms": "ms/image", "ratio": "× dense",
             "one_window_ms": "ms/image", "dense_over_one_window": "× one window", "naive_windows_ms": "ms/image",
             "windows_per_image": "windows",
             "crops_timed_per_image": "crops", "macs_ratio": "× dense"}
    notes = [f"Dense: vgglib.evaluate.evaluate(method='dense') at the three Q with flips (the net applied "
             f"convolutionally to the whole image, its score map averaged). Multi-crop: {GRID}×{GRID} crops × "
             f"{FLIPS} flips × 3 Q = {3 * GRID * GRID * FLIPS} crops per image (§3.2). bf16 autocast as each "
             f"profile evaluates (profile: {p.bf16}, full: {full.bf16}); median of {profile_repeats} "
             f"(profile) and {full_repeats} (224) repeats; one CPU process at torch's default threads.",
             f"At 224 the multi-crop figure is extrapolated: {full_subset_grid}×{full_subset_grid} crops without "
             f"flips were timed at each Q and the per-crop time multiplied by {3 * GRID * GRID * FLIPS} "
             f"(150 × full D on 2 cores would take minutes per image).",
             "One window: dense as vgglib once ran it, before it sampled the paper's stride (the centred "
             "32·⌊side/32⌋ pixels: one window at a 32-pixel crop for every Q below 64); the goal for dense over "
             "one window is ≤ 2 at quick's Q = 55 and 73 px, each Q on its own in the second table, beside "
             "the validation's cost per epoch (dense at that Q without flips over the validation images). "
             "Naive windows: every crop×crop window at the dense stride through the net on its own, with "
             "flips, one image at a time; at 224 extrapolated from multi-crop's per-crop time.",
             "macs ratio: the same ratio from multiply-adds (vgglib.arch.multiply_adds), the cost in "
             "arithmetic alone; the paper notes multi-crop's cost is what makes dense evaluation the default."]
    return section("eval_cost", "Evaluation cost per image: dense multi-scale against 150-crop multi-crop",
                   {"profile": p.name, "paper_q": list(PAPER_Q), "grid": GRID, "flips": FLIPS},
                   [table("Evaluation time per image", units, rows),
                    table(f"Dense against the one-window pass at each Q, {p.name} profile", SCALE_UNITS, scales)],
                   notes, started)


#: The units of :func:`per_scale`'s columns.
SCALE_UNITS = {"Q": "px", "dense_ms": "ms/image", "one_window_ms": "ms/image",
               "dense_over_one_window": "× one window", "macs_over_one_window": "× one window",
               "validation_s_per_epoch": "s/epoch"}
