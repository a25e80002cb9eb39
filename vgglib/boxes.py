"""Paper Appendix A's method: box regression with a very deep net, and its two test protocols.

Config D whose last FC layer predicts a box (centre x, centre y, width, height, normalised
to the crop) instead of class scores: one box for all classes (single-class regression, SCR,
4 outputs) or one per class (per-class regression, PCR, 4 × classes).  Trained with a
Euclidean loss from the classification net of the same training scale, initial learning
rate 1e-3, last layer fresh, fine-tuning all layers or only fc6 and fc7.

Test protocol 1 (Table 8): the ground-truth class's box from the central crop.  Protocol 2
(Table 9): the net applied densely to the whole image gives a box per position; each box is
scored by the classification system's posterior for its class at that position; boxes of
several scales and nets are pooled, then merged greedily as in OverFeat (Sermanet et al.,
2014), and the best merged box of each of the top-5 classes is the prediction.  A box is
correct when its IoU with a ground-truth box exceeds 0.5.

The localisation nets go through the classification training engine, as a second task
(:class:`Localisation`): the same run store, schedule, checkpoints, resume and DDP, with a
loader that carries each box through its image's augmentation.
"""
from __future__ import annotations

import contextlib

import numpy as np
import torch

from . import arch, evaluate
from .augment import Augmenter, BatchLoader, Normalise, rescale, rescaled_size
from .box_data import BoxSet, LocSplits
from .data import Splits
from .evaluate import batches, bf16_autocast, device_of, eval_mode, window_scores
from .images import ImageSet
from .profiles import Profile
from .runs import Row, RunSpec, RunStore, Settings
from .train import Classification, train

HEADS = ("SCR", "PCR")
#: Layers fine-tuned: all of them, or the first two FC layers (plus the fresh last one).
TUNES = {"all": None, "fc": ("fc6", "fc7", "fc8")}
IOU_CORRECT = 0.5         # ILSVRC: a box is correct when IoU with the ground truth exceeds this
MERGE_IOU = 0.5           # greedy merge: boxes overlapping more than this are "spatially close"



# --------------------------------------------------------------------------- boxes

def to_params(boxes: torch.Tensor, size: float) -> torch.Tensor:
    """Box edges (..., x1, y1, x2, y2) → (centre x, centre y, width, height) / ``size``."""
    x1, y1, x2, y2 = boxes.unbind(-1)
    return torch.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], -1) / size


def from_params(params: torch.Tensor, size: float) -> torch.Tensor:
    """Inverse of :func:`to_params`: (cx, cy, w, h) in units of ``size`` → box edges."""
    cx, cy, w, h = (params * size).unbind(-1)
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1)


def iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Intersection over union of boxes (..., 4), broadcasting; 0 for empty or inverted boxes."""
    iw = (torch.minimum(a[..., 2], b[..., 2]) - torch.maximum(a[..., 0], b[..., 0])).clamp(min=0)
    ih = (torch.minimum(a[..., 3], b[..., 3]) - torch.maximum(a[..., 1], b[..., 1])).clamp(min=0)
    inter = iw * ih

    def area(x: torch.Tensor) -> torch.Tensor:
        return (x[..., 2] - x[..., 0]).clamp(min=0) * (x[..., 3] - x[..., 1]).clamp(min=0)

    union = area(a) + area(b) - inter
    return torch.where(union > 0, inter / union.clamp(min=1e-12), torch.zeros_like(inter))


def crop_targets(boxes: torch.Tensor, sizes: list[tuple[int, int]], geometry: dict,
                 crop: int) -> torch.Tensor:
    """Where each image's box (B, 4) lands in its training crop (rescale to S, crop at (u, v),
    flip: the Augmenter's geometry), as crop-normalised (cx, cy, w, h)."""
    out = []
    for i, (h, w) in enumerate(sizes):
        nh, nw = rescaled_size(h, w, int(geometry["S"][i]))
        x0, y0 = round(float(geometry["u"][i]) * (nw - crop)), round(float(geometry["v"][i]) * (nh - crop))
        b = boxes[i] * torch.tensor([nw / w, nh / h, nw / w, nh / h]) - torch.tensor([x0, y0, x0, y0])
        if geometry["flip"][i]:
            b = torch.stack([crop - b[2], b[1], crop - b[0], b[3]])
        out.append(b)
    return to_params(torch.stack(out).float(), crop)


def select(output: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
    """The 4 box parameters of ``classes`` (N,) from a net's output (N, 4) SCR or (N, 4·C) PCR."""
    per_class = output.view(len(output), -1, 4)
    if per_class.shape[1] == 1:
        return per_class[:, 0]
    return per_class[torch.arange(len(output), device=output.device), classes]


# --------------------------------------------------------------------------- the net

def build_localiser(donor: arch.VGG, head: str, num_classes: int, std: float = 0.01) -> arch.VGG:
    """A localisation net: every layer but fc8 copied (by Caffe name) from the trained
    classification net, fc8 fresh with 4 (SCR) or 4 × classes (PCR) outputs, drawn from the
    paper's N(0, σ²) (σ scaled to keep the paper's gain, as :func:`vgglib.arch.initialise` does)."""
    if head not in HEADS:
        raise ValueError(f"unknown regression type {head!r}; valid: {', '.join(HEADS)}")
    spec = {**arch.spec_of(donor), "num_classes": 4 if head == "SCR" else 4 * num_classes}
    model = arch.build(**spec, init="normal", std=std)
    arch.init_from(model, donor, tuple(n for n in donor.weight_layers() if n != "fc8"))
    return model


def freeze(model: arch.VGG, tune: str) -> None:
    """Freeze (requires_grad False) the layers ``tune`` leaves alone; the engine trains the rest."""
    if tune not in TUNES:
        raise ValueError(f"unknown fine-tuning {tune!r}; valid: {', '.join(TUNES)}")
    for name, layer in model.weight_layers().items():
        layer.requires_grad_(TUNES[tune] is None or name in TUNES[tune])


def box_loss(output: torch.Tensor, target: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Euclidean loss, ½‖prediction − target‖² averaged over the batch (PCR: the true class's box)."""
    return 0.5 * (select(output.float(), labels) - target).pow(2).sum(1).mean()


class BoxLoader(BatchLoader):
    """The seeded, resumable, data-parallel batches of :class:`BatchLoader`, with each image's
    box carried through the same augmentation: batches are (inputs, labels, box targets)."""

    def __init__(self, data: BoxSet, augmenter: Augmenter, batch_size: int, seed: int,
                 rank: int = 0, world: int = 1, workers: int = 0):
        super().__init__(data.images, augmenter, batch_size, seed, rank, world, workers)
        self.boxes = data.first_boxes()

    def batch(self, epoch: int, step: int, order: torch.Tensor | None = None,
              source: ImageSet | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """This rank's augmented inputs, labels and crop-normalised box targets of one step
        (``source`` as in :meth:`BatchLoader.batch`)."""
        idx, geometry = self.draw(epoch, step, order)
        images, labels = (source or self.images).load(idx)
        sizes = [tuple(im.shape[-2:]) for im in images]
        return (self.augmenter(images, geometry), labels,
                crop_targets(self.boxes[idx], sizes, geometry, self.augmenter.crop))


class Localisation(Classification):
    """Appendix A's task for the training engine (:func:`vgglib.train.train`): the localiser
    built from ``donor``, only the layers of its ``tune`` trained, the Euclidean box loss, and
    the validation canvases' localisation error (ground-truth class, centre crop) as the
    learning-rate signal.  ``splits`` is the classification data (its statistics normalise)."""

    metric = "val_loc_err"

    def __init__(self, data: LocSplits, donor: arch.VGG, splits: Splits):
        super().__init__(splits)
        self.data, self.donor = data, donor

    def scale(self, spec: RunSpec) -> int:
        """The fixed training scale S (Appendix A: 256 or 384, no jittering)."""
        return spec.task["S"]

    def build(self, spec: RunSpec) -> arch.VGG:
        """The localiser, its layers outside ``tune`` frozen."""
        torch.manual_seed(spec.seed)
        model = build_localiser(self.donor, spec.task["head"], len(self.data.train.images.classes),
                                spec.settings.init_std)
        freeze(model, spec.task["tune"])
        return model

    def classes(self) -> list[str]:
        """The class names of the canvases' items, in the localiser's output order."""
        return list(self.data.train.images.classes)

    def loader(self, augmenter: Augmenter, spec: RunSpec, rank: int, world: int, workers: int) -> BoxLoader:
        """The seeded training canvases with their boxes."""
        return BoxLoader(self.data.train, augmenter, spec.settings.batch, spec.seed, rank, world, workers)

    def loss(self, output: torch.Tensor, labels: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
        """The Euclidean loss on the box parameters."""
        return box_loss(output, boxes, labels)

    def val_error(self, model: arch.VGG, norm: Normalise, q: int, spec: RunSpec, profile: Profile) -> float:
        """Localisation error (%) on the validation canvases: true class, central crop."""
        val = self.data.val
        boxes = centre_boxes(model, val, q, norm, val.labels, profile.eval_batch, spec.settings.bf16)
        return error(hits(boxes[:, None], val.labels[:, None], val))


def localiser_spec(row: str, head: str, tune: str, profile: Profile, data: LocSplits, seed: int,
                   parent_key: str, copied: tuple[str, ...], epochs: int) -> RunSpec:
    """Everything that determines a localisation net, for the run store (row e.g. ``D/384``)."""
    return RunSpec(row=f"{row}:loc-{head}-{tune}", profile=profile.name, settings=Settings.of(profile),
                   dataset=data.name, seed=seed, parent=parent_key, copy=copied,
                   lr=profile.section("localisation").lr, max_epochs=epochs, kind="localiser",
                   task={"head": head, "tune": tune, "S": Row.parse(row).scale})


def train_localiser(spec: RunSpec, store: RunStore, data: LocSplits, donor: arch.VGG, splits: Splits,
                    profile: Profile, progress: bool = False) -> arch.VGG:
    """Fine-tune (or resume, or reuse) the localisation net of ``spec`` with the training engine."""
    return train(spec, store, splits, profile, progress=progress, task=Localisation(data, donor, splits)).eval()


# --------------------------------------------------------------------------- testing

def _to_image(boxes: torch.Tensor, scaled: tuple[int, int], original: tuple[int, int]) -> torch.Tensor:
    """Boxes in a rescaled image's pixels (H, W) → the original image's pixels (h, w)."""
    (hh, ww), (h, w) = scaled, original
    return boxes * torch.tensor([w / ww, h / hh, w / ww, h / hh])


def central_crop(h: int, w: int, q: int, crop: int) -> torch.Tensor:
    """Protocol 1's window: the central crop of an h×w image rescaled to smallest side Q, as box
    edges in the image's own pixels (what :func:`centre_boxes` shows the net)."""
    hh, ww = rescaled_size(h, w, q)
    top, left = (evaluate.crop_offsets(n, crop, 1)[0] for n in (hh, ww))
    return _to_image(torch.tensor([left, top, left + crop, top + crop], dtype=torch.float32), (hh, ww), (h, w))


def centre_boxes(model: arch.VGG, data: BoxSet, q: int, normalise: Normalise, classes: torch.Tensor,
                 batch_size: int = 256, autocast: bool = False) -> torch.Tensor:
    """Protocol 1: the box of class ``classes[i]`` from the central crop of image i rescaled to
    smallest side Q, in the image's own pixels (N, 4)."""
    c, device = model.crop, device_of(model)
    out = torch.empty(len(data), 4)
    with eval_mode(model):
        for idx, batch in batches(data.images, batch_size):
            x = normalise(rescale(batch, q))
            top, left = (evaluate.crop_offsets(n, c, 1)[0] for n in x.shape[-2:])
            with bf16_autocast(device, autocast):
                pred = model(x[..., top:top + c, left:left + c].to(device)).float().cpu()
            b = from_params(select(pred, classes[idx]), c) + torch.tensor([left, top, left, top])
            out[idx] = _to_image(b, x.shape[-2:], batch.shape[-2:])
    return out


def dense_predictions(box_net: arch.VGG, classifiers: list[arch.VGG], data: BoxSet, q: int,
                      normalise: Normalise, classes: torch.Tensor, batch_size: int = 256,
                      autocast: bool = False) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Protocol 2 at one scale Q, per image: the boxes (P, K, 4) of classes ``classes[i]`` (K)
    at every position of the dense pass (as classification's dense test, one pass over the whole
    image: :func:`vgglib.evaluate.window_scores`), in the image's pixels, and their scores (P, K): the
    classification system's soft-max posterior of that class at that position (averaged over
    its nets)."""
    c, device, out = box_net.crop, device_of(box_net), []
    with contextlib.ExitStack() as stack:
        for net in (box_net, *classifiers):
            stack.enter_context(eval_mode(net))
        for idx, batch in batches(data.images, batch_size):
            x = normalise(rescale(batch, q)).to(device)
            m, oy, ox = window_scores(box_net, x, autocast=autocast)
            post = torch.stack([window_scores(net, x, autocast=autocast)[0].softmax(1)
                                for net in classifiers]).mean(0)
            n, p, cls = len(idx), m.shape[-2] * m.shape[-1], classes[idx]
            boxes = m.cpu().flatten(2).transpose(1, 2).reshape(n, p, -1, 4)
            if boxes.shape[2] > 1:
                boxes = boxes[torch.arange(n)[:, None, None], torch.arange(p)[None, :, None], cls[:, None, :]]
            gy, gx = torch.meshgrid(torch.tensor(oy), torch.tensor(ox), indexing="ij")
            shift = torch.stack([gx, gy, gx, gy], -1).reshape(1, p, 1, 4)
            boxes = _to_image(from_params(boxes, c) + shift, x.shape[-2:], batch.shape[-2:])
            scores = post.cpu().flatten(2).gather(1, cls[:, :, None].expand(-1, -1, p)).transpose(1, 2)
            out.extend(zip(boxes.expand(-1, -1, cls.shape[1], -1), scores))
    return out


def windows_alone(box_net: arch.VGG, data: BoxSet, q: int, normalise: Normalise, batch_size: int = 256,
                  autocast: bool = False) -> dict:
    """What the one whole-image pass does to a localiser's boxes, measured: at every window of
    :func:`dense_predictions` at scale Q, the true class's box from the one pass against the
    same window run alone (zero borders, as the localiser was trained on crops).  Returns the
    crop, the windows per image (their mean, where image sizes differ), the share (%) of windows
    whose box hits a ground-truth box (IoU > 0.5) either way, and the mean distance (image
    pixels) between a window's two boxes."""
    c, device = box_net.crop, device_of(box_net)
    passed, alone, moved = [], [], []

    def hit(boxes: torch.Tensor, truth: list[torch.Tensor]) -> list[torch.Tensor]:
        return [iou(b[None], gt).amax() > IOU_CORRECT for b, gt in zip(boxes, truth)]

    with eval_mode(box_net):
        for idx, batch in batches(data.images, batch_size):
            x = normalise(rescale(batch, q)).to(device)
            m, oy, ox = window_scores(box_net, x, autocast=autocast)
            cls, truth = data.labels[idx], [data.boxes[i] for i in idx]
            for i, top in enumerate(oy):
                for j, left in enumerate(ox):
                    with bf16_autocast(device, autocast):
                        run = box_net(x[..., top:top + c, left:left + c]).float()
                    shift = torch.tensor([left, top, left, top])
                    one, own = (_to_image(from_params(select(out.cpu(), cls), c) + shift, x.shape[-2:],
                                          batch.shape[-2:]) for out in (m[:, :, i, j], run))
                    passed += hit(one, truth)
                    alone += hit(own, truth)
                    moved.append((one - own).abs().mean(1))

    def share(hit: list[torch.Tensor]) -> float:
        return round(100.0 * torch.stack(hit).float().mean().item(), 2)

    return {"crop": c, "windows": round(len(passed) / len(data), 1), "one_pass_hits": share(passed),
            "alone_hits": share(alone),
            "moved_px": round(torch.cat(moved).mean().item(), 2)}


def greedy_merge(boxes: torch.Tensor, scores: torch.Tensor, threshold: float = MERGE_IOU
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """OverFeat's greedy merge: while two boxes overlap by IoU > ``threshold``, replace the
    closest pair by one box, the mean of all the input boxes it stands for, scored by the sum
    of their scores.  Returns the merged boxes (M, 4) and scores (M,), best first."""
    members = np.ones(len(boxes))
    total, score = boxes.double().numpy().copy(), scores.double().numpy().copy()
    current = total.copy()
    near = iou(boxes.double()[:, None], boxes.double()[None]).numpy()
    np.fill_diagonal(near, -1.0)
    alive = np.ones(len(boxes), bool)
    while alive.sum() > 1:
        i, j = np.unravel_index(np.argmax(near), near.shape)
        if near[i, j] <= threshold:
            break
        total[i] += total[j]
        members[i] += members[j]
        score[i] += score[j]
        current[i] = total[i] / members[i]
        alive[j] = False
        near[j, :] = near[:, j] = -1.0
        row = iou(torch.from_numpy(current[i]), torch.from_numpy(current)).numpy()
        near[i, alive] = near[alive, i] = row[alive]
        near[i, i] = -1.0
    order = np.argsort(-score[alive], kind="stable")
    return torch.from_numpy(current[alive][order]).float(), torch.from_numpy(score[alive][order]).float()


def merged_boxes(predictions: list[list[tuple[torch.Tensor, torch.Tensor]]]) -> torch.Tensor:
    """Several nets' or scales' dense predictions pooled per image (their union), merged per
    class, the best merged box kept: (N, K, 4)."""
    out = []
    for parts in zip(*predictions):
        boxes, scores = torch.cat([b for b, _ in parts]), torch.cat([s for _, s in parts])
        best = [greedy_merge(boxes[:, k], scores[:, k])[0][0] for k in range(boxes.shape[1])]
        out.append(torch.stack(best))
    return torch.stack(out)


def hits(boxes: torch.Tensor, classes: torch.Tensor, data: BoxSet) -> torch.Tensor:
    """Per image: is any of its K predictions (boxes (N, K, 4) of ``classes`` (N, K)) of the
    true class and overlapping a ground-truth box by IoU > 0.5?"""
    right_class = classes == data.labels[:, None]
    overlap = torch.stack([iou(boxes[i][:, None], gt[None]).amax(1) for i, gt in enumerate(data.boxes)])
    return (right_class & (overlap > IOU_CORRECT)).any(1)


def error(hit: torch.Tensor) -> float:
    """Localisation error (%) from per-image hits."""
    return 100.0 * (1.0 - hit.float().mean().item())
