"""The paper's test (§3.2) taken apart on one net and one image: the class-score map at each test
scale, the windows dense evaluation averages and their posteriors, the 150 windows of multi-crop
evaluation (a 5×5 grid × 2 flips × 3 scales), what flipping adds, and the final posterior; beside
them the net's training curves, and its confusion matrix and worst errors on the test set.

Every step calls the evaluator's own pieces (:func:`vgglib.evaluate.window_scores`,
:func:`~vgglib.evaluate.crop_offsets`), so the posteriors shown are the ones the tables average:
:func:`look` checks that against :func:`vgglib.evaluate.dense_posteriors` and
:func:`~vgglib.evaluate.multicrop_posteriors` on the same image.  The net comes from the run store
(exactly the run ``make reproduce`` trains) or a weight file; where no store holds it, a small one
is trained at the ``smoke`` profile, in seconds, and :attr:`Net.source` says so."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from ... import evaluate
from ...arch import VGG
from ...augment import Normalise, rescale
from ...data import Splits, profile_splits
from ...images import ImageSet, TensorImages, decode_file
from ...profiles import Profile, get_profile, to_pixels
from ...results import RESULTS
from ...runs import Row, RunStore, make_spec
from ...study import Study, scale_of
from ...train import dataset_id, ensure
from ...weight_files import load_for_evaluation

#: The profile a net is trained at, in seconds, where no run store holds the one asked for.
FALLBACK = "smoke"


@dataclass
class Net:
    """A trained net to explore, the data it was trained on, and where it came from."""

    model: VGG
    normalise: Normalise
    classes: list[str]
    profile: Profile
    splits: Splits | None       # its profile's data (None: a weight file for other classes)
    row: str | None             # its row (None: a weight file)
    run: Path | None            # its run directory, with metrics.json (None: a weight file)
    source: str                 # where it came from, in words, for the page
    trained_here: bool = False  # True: no store held it, so a small one was trained now


def find_run(row: str, profile: Profile, store: RunStore, splits: Splits, seed: int = 0) -> Path | None:
    """The completed run of ``row`` in ``store``, the very one :func:`vgglib.train.ensure` would
    use (same spec, same init chain), or None; nothing is trained."""
    r = Row.parse(row)
    parent, _ = r.parent()
    parent_key = None
    if parent is not None:
        parent_run = find_run(str(parent), profile, store, splits, seed)
        if parent_run is None:
            return None
        parent_key = store.key(parent_run)
    return store.find(make_spec(r, profile, dataset_id(splits), seed, parent_key))


def load_net(profile: str, net: str = "D/256", weights: str | Path | None = None,
             runs: str | Path | None = None, data_root: str | Path | None = None) -> Net:
    """The net to explore: a weight file (vgglib's or torchvision's) where ``weights`` is given,
    else row ``net`` from the run store at ``profile``, else ``net`` trained now at the smoke
    profile (with its init chain) in the same store."""
    p = get_profile(profile)
    if weights:
        model, norm, classes = load_for_evaluation(weights)
        splits = profile_splits(p, data_root)
        outputs = model.layers[-1].out_ch
        same = classes is not None and sorted(classes) == sorted(splits.test.classes)
        return Net(model.eval(), norm, classes or [f"class {i}" for i in range(outputs)], p,
                   splits if same else None, None, None, f"the weight file `{weights}`")
    store, splits = RunStore(runs), profile_splits(p, data_root)
    run = find_run(net, p, store, splits)
    trained_here = run is None
    if trained_here:
        p = get_profile(FALLBACK)
        splits = profile_splits(p, data_root)
        _, run = ensure(net, p, store, splits, progress=False)
    model, norm, classes = load_for_evaluation(run / "model.safetensors")
    source = (f"no run store holds {net} at the `{profile}` profile, so this page trained one at the "
              f"`{FALLBACK}` profile, in seconds (run `{run.name}`)" if trained_here
              else f"run `{run.name}` of the run store at `{store.root}`")
    return Net(model.eval(), norm, list(classes), p, splits, net, run, source, trained_here)


def pick_image(net: Net, image: int | str | Path = 0) -> tuple[torch.Tensor, int | None, str]:
    """The image to test: the ``image``-th of the net's test set, or an image file; as uint8
    (3, H, W), with its label (None for a file) and a short description."""
    if isinstance(image, int):
        if net.splits is None:
            raise ValueError(f"image {image}: {net.source} has no test set of its classes; give an image file")
        test = net.splits.test
        if not 0 <= image < len(test):
            raise ValueError(f"image {image}: the test set has {len(test)} images (0 to {len(test) - 1})")
        batch, labels = test.load([image])
        return batch[0], int(labels[0]), f"test image {image} of {net.splits.name}"
    return decode_file(image), None, f"the image file `{image}`"


def scales_of(net: Net, scales: list[int] | None = None) -> list[int]:
    """The test scales Q (paper units): ``scales``, else the net's three (§3.2: S − 32, S, S + 32
    for a fixed S; Smin, the middle and Smax for a jittered one), else the paper's 256, 384, 512."""
    if scales:
        return sorted(scales)
    return list(evaluate.q_set(scale_of(net.row))) if net.row else [256, 384, 512]


@dataclass
class Scale:
    """Everything the test computes at one scale Q, for one image."""

    q: int                      # the test scale, paper units
    q_px: int                   # the same in the net's pixels
    image: torch.Tensor         # the image rescaled to smallest side q_px, float 0–255 (3, H, W)
    scores: torch.Tensor        # the class-score map (classes, ny, nx): one column per window
    flipped_scores: torch.Tensor  # the same for the mirror image
    window_ys: list[int]        # the windows' top corners (pixels)
    window_xs: list[int]        # the windows' left corners
    crop_ys: list[int]          # the multi-crop grid's top corners
    crop_xs: list[int]          # its left corners
    crops: torch.Tensor         # each crop's posterior (grid², classes), image-major
    flipped_crops: torch.Tensor  # the same for the mirrored crops

    @property
    def windows(self) -> torch.Tensor:
        """Each window's own posterior (classes, ny, nx): the soft-max of its column of scores."""
        return self.scores.softmax(0)

    def dense(self, view: str = "both") -> torch.Tensor:
        """Dense evaluation at this scale: the score map averaged over windows, soft-maxed, of
        the ``image``, its ``mirror``, or ``both`` averaged (the paper's test)."""
        image, mirror = self.scores.mean((1, 2)).softmax(0), self.flipped_scores.mean((1, 2)).softmax(0)
        return {"image": image, "mirror": mirror, "both": (image + mirror) / 2}[view]

    def multicrop(self, view: str = "both") -> torch.Tensor:
        """Multi-crop evaluation at this scale: the crops' posteriors averaged, of the ``image``,
        its ``mirror``, or ``both`` (the paper's test)."""
        return {"image": self.crops, "mirror": self.flipped_crops,
                "both": (self.crops + self.flipped_crops) / 2}[view].mean(0)


def at_scale(net: Net, image: torch.Tensor, q: int) -> Scale:
    """Dense and multi-crop evaluation of one image at test scale ``q`` (paper units), kept
    window by window and crop by crop."""
    q_px, c, model = to_pixels(q, net.model.crop), net.model.crop, net.model
    shown = rescale(image[None], q_px)
    x = net.normalise(shown)
    with evaluate.eval_mode(model):
        scores, ys, xs = evaluate.window_scores(model, x)
        flipped, _, _ = evaluate.window_scores(model, x.flip(-1))
        padded = evaluate.pad_to(x, c)
        tops, lefts = (evaluate.crop_offsets(n, c, evaluate.MULTI_CROP_GRID) for n in padded.shape[-2:])
        crops = torch.cat([padded[:, :, t:t + c, s:s + c] for t in tops for s in lefts])
        post, post_flipped = model(crops).softmax(1), model(crops.flip(-1)).softmax(1)
    return Scale(q, q_px, shown[0].clamp(0, 255), scores[0], flipped[0], ys, xs, tops, lefts, post, post_flipped)


@dataclass
class Look:
    """The test of one image at every scale, and what the tables would score it."""

    scales: list[Scale]
    label: int | None

    def final(self, method: str = "dense+multi-crop", view: str = "both") -> torch.Tensor:
        """The posterior ``method`` (dense, multi-crop, or both averaged) gives the image (``view``:
        the image alone, its mirror, or both), averaged over the test scales (§3.2), as
        :meth:`vgglib.study.Study.fused` averages them."""
        dense = evaluate.multi_scale([s.dense(view) for s in self.scales])
        crops = evaluate.multi_scale([s.multicrop(view) for s in self.scales])
        return {"dense": dense, "multi-crop": crops, "dense+multi-crop": evaluate.combine(dense, crops)}[method]

    @property
    def windows(self) -> int:
        """How many windows dense evaluation averages over all scales (each also flipped)."""
        return sum(s.scores[0].numel() for s in self.scales)

    @property
    def crops(self) -> int:
        """How many crops multi-crop evaluation averages over all scales, flips included."""
        return sum(2 * len(s.crops) for s in self.scales)

    def frame(self, cls: int) -> pd.DataFrame:
        """One row per test scale: its windows and crops, and the posterior of class ``cls`` that
        each way of testing gives there, from the image alone and with its mirror."""
        return pd.DataFrame([{
            "Q": s.q, "Q (px)": s.q_px, "dense windows": s.scores[0].numel(), "crops, flips included": 2 * len(s.crops),
            "dense, image": float(s.dense("image")[cls]), "dense, both": float(s.dense()[cls]),
            "multi-crop, image": float(s.multicrop("image")[cls]), "multi-crop, both": float(s.multicrop()[cls])}
            for s in self.scales]).set_index("Q")


def look(net: Net, image: torch.Tensor, qs: list[int], label: int | None = None) -> Look:
    """The test of ``image`` at the scales ``qs``, checked against the evaluators the tables
    use: the dense and multi-crop posteriors at each scale must be theirs."""
    out = Look([at_scale(net, image, q) for q in qs], label)
    one = TensorImages(image[None].to(torch.uint8), [label or 0], net.classes)
    for s in out.scales:
        for ours, theirs in ((s.dense(), evaluate.dense_posteriors(net.model, one, s.q_px, net.normalise)),
                             (s.multicrop(), evaluate.multicrop_posteriors(net.model, one, s.q_px, net.normalise))):
            if not torch.allclose(ours, theirs[0], atol=1e-5):
                raise RuntimeError(f"Q = {s.q}: the posterior taken apart differs from the evaluator's")
    return out


def curves(net: Net) -> list[dict] | None:
    """The net's training curves (one row per epoch: loss, validation error, learning rate), as
    its run recorded them; None for a weight file."""
    return json.loads((net.run / "metrics.json").read_text()) if net.run else None


@dataclass
class Scored:
    """The net's dense multi-scale posteriors on its whole test set, and what they get wrong."""

    posteriors: torch.Tensor
    labels: torch.Tensor
    images: ImageSet

    @property
    def top1(self) -> float:
        """Top-1 error (%)."""
        return evaluate.topk_error(self.posteriors, self.labels, 1)

    def confusion(self) -> torch.Tensor:
        """Counts (true class, predicted class) over the test set."""
        n = self.posteriors.shape[1]
        pred = self.posteriors.argmax(1)
        return torch.bincount(self.labels * n + pred, minlength=n * n).view(n, n)

    def worst(self, k: int = 8) -> list[int]:
        """The ``k`` errors the net is surest of: wrong images by the posterior of their
        predicted class, highest first."""
        conf, pred = self.posteriors.max(1)
        wrong = (pred != self.labels).nonzero().flatten()
        return wrong[conf[wrong].argsort(descending=True)][:k].tolist()


def scored(net: Net, qs: list[int], runs: str | Path | None = None) -> Scored | None:
    """Dense multi-scale evaluation of the net on its test set (the tables' protocol at ``qs``):
    from the run store's cached posteriors for a run, computed for a weight file of the same
    classes; None where the net has no test set of its classes."""
    if net.splits is None:
        return None
    test = net.splits.test
    if net.row:
        post = Study(net.profile, RunStore(runs), net.splits, progress=False).fused([net.row], "dense", qs)
        return Scored(post, test.labels, test)
    order = torch.tensor([net.classes.index(c) for c in test.classes])
    post = evaluate.evaluate(net.model, test, net.normalise, "dense", [to_pixels(q, net.model.crop) for q in qs],
                             batch_size=net.profile.eval_batch)
    return Scored(post[:, order], test.labels, test)


def recorded(profile: str, results: str | Path | None, net: Net) -> tuple[str, float] | None:
    """Table 4's record of this net at ``profile`` where it has one (in ``results``, default
    ``results/<profile>/``): the record's name and its multi-scale dense top-1 error, for the
    page to set beside the error recomputed here."""
    path = (Path(results) if results else RESULTS / profile) / "table4.json"
    if not net.row or net.trained_here or not path.is_file():
        return None
    rows = json.loads(path.read_text()).get("rows", {})
    return ("table4", rows[net.row]["multi"]["top1"]) if net.row in rows else None
