"""``vgglib evaluate``: a weight file, vgglib's or torchvision's, under the paper's test
protocol (§3.2), with every way a file or a request can be wrong refused by name.

Test scales are typed in the paper's units and mapped by the net's crop (Q·crop/224), as
everywhere else.  Class folders are matched to the net's classes by name or sanitised name
(:func:`vgglib.images.match_classes`); a net with 1,000 outputs is ImageNet's, whose folders
are named by WordNet id (ILSVRC-2012 val sorted by wnid, Imagenette), so a folder of a few of
its classes is scored over all 1,000 or over its own classes alone."""
from __future__ import annotations

import pickle
from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from pathlib import Path

import torch
from torch import nn

from .arch import VGG, from_torchvision, load_weights, weights_metadata
from .augment import TORCHVISION_NORMALISE, Normalise
from .evaluate import errors, evaluate, multi_scale
from .images import ImageSet, match_classes, sanitised

#: The paper's smallest test scale: Q below the 224-pixel crop is never meant.
MIN_Q = 224
#: The 1,000 ILSVRC-2012 classes, a "WordNet-id name" line each in index order (sources in its header).
SYNSETS_FILE = Path(__file__).with_name("imagenet_synsets.txt")
IMAGENET_CLASSES = 1000
#: What ``vgglib evaluate --classes`` scores over: all the net's classes, or the folder's alone.
SCOPES = ("all", "folder")


def is_safetensors(path: Path) -> bool:
    """True when a file starts like a safetensors file (a header length, then a JSON object)."""
    with open(path, "rb") as f:
        head = f.read(9)
    return len(head) == 9 and int.from_bytes(head[:8], "little") > 0 and head[8:9] == b"{"


def load_torchvision(path: Path) -> nn.Module:
    """A torchvision VGG state dict (``.pth``) loaded without running any pickled code."""
    if is_safetensors(path):
        raise ValueError(f"{path} is a safetensors file, not a torchvision .pth; use --format vgglib")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise ValueError(f"{path} holds pickled Python objects besides tensors, which vgglib refuses "
                         f"to load (they could run code); save the model's state_dict() instead "
                         f"(torch.save(model.state_dict(), path))") from None
    except (RuntimeError, EOFError, OSError) as e:
        raise ValueError(f"cannot read {path} as a torch file ({str(e).splitlines()[0]}); it is truncated "
                         f"or damaged: re-download or re-save it") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{path} holds a {type(state).__name__}, not a state dict of tensors; save "
                         f"the model's state_dict() (torch.save(model.state_dict(), path))")
    return from_torchvision(state)


def load_for_evaluation(path: str | Path, fmt: str | None = None
                        ) -> tuple[nn.Module, Normalise, list[str] | None]:
    """A net, *its own* input normalisation and its class names (None when the file has none).

    ``vgglib`` (.safetensors): the mean RGB stored with the weights, subtracted on 0–255
    pixels as the paper does.  ``torchvision`` (.pth state dict of vgg11/13/16/19): its
    ImageNet mean/std on 0–1 pixels, which those weights were trained with."""
    path = Path(path)
    fmt = fmt or ("vgglib" if path.suffix == ".safetensors" else "torchvision")
    if not path.is_file():
        raise FileNotFoundError(f"no weight file at {path}")
    if fmt == "vgglib":
        meta = weights_metadata(path)
        if "input_mean" not in meta:
            raise ValueError(f"{path} stores no input mean; it was not saved by vgglib's training loop")
        return load_weights(path), Normalise(tuple(meta["input_mean"])), meta.get("classes")
    if fmt == "torchvision":
        return load_torchvision(path), TORCHVISION_NORMALISE, None
    raise ValueError(f"unknown weight format {fmt!r}; valid: vgglib, torchvision")


@cache
def imagenet_synsets() -> tuple[tuple[str, ...], ...]:
    """The 1,000 ILSVRC-2012 classes as (WordNet id, name) in index order 0–999, the output
    order of torchvision's VGG weights (the ids sorted), from the package's imagenet_synsets.txt."""
    return tuple(tuple(line.split(" ", 1)) for line in SYNSETS_FILE.read_text(encoding="utf-8").splitlines()
                 if line and not line.startswith("#"))


def class_names(classes: list[str] | None, outputs: int, path: Path) -> list[tuple[str, ...]] | None:
    """The names each output of a net answers to; None for a file without names whose outputs
    are not ImageNet's (its classes are then taken to be the folder's, in sorted order).

    1,000 outputs are ImageNet's: a torchvision file's are the synsets in index order, each
    answering to its WordNet id and name; a vgglib file's classes named by either answer to the
    other too, so a folder named by wnid finds them."""
    if classes is not None and len(classes) != outputs:
        raise ValueError(f"{path} has {outputs} outputs for {len(classes)} classes: it is not a classifier "
                         f"(a localiser?); evaluate a classification net")
    if outputs != IMAGENET_CLASSES:
        return None if classes is None else [(c,) for c in classes]
    synsets = imagenet_synsets()
    if classes is None:
        return list(synsets)
    exact = dict(synsets) | {name: wnid for wnid, name in synsets}
    by_form: dict[str, list[str]] = {}
    for wnid, name in synsets:
        by_form.setdefault(sanitised(name), []).append(wnid)

    def answers_to(c: str) -> tuple[str, ...]:
        """The class and its synset's other key: for a wnid its name, for a name (or the sanitised
        form of one name only: "cardigan" is a sweater, "Cardigan" a corgi) its wnid."""
        form = by_form.get(sanitised(c), [])
        other = exact.get(c) or (form[0] if len(form) == 1 else None)
        return (c, other) if other else (c,)

    return [answers_to(c) for c in classes]


def is_imagenet(names: list[tuple[str, ...]] | None) -> bool:
    """True when a net's classes (from :func:`class_names`) are ImageNet's, known by WordNet id."""
    return names is not None and len(names) == IMAGENET_CLASSES and any(len(n) > 1 for n in names)


def class_columns(images: ImageSet, names: list[tuple[str, ...]] | None, outputs: int, path: Path,
                  where: str) -> list[int]:
    """The net's output for each of the images' classes (``where``: the folder, for errors)."""
    if names is None:
        if len(images.classes) != outputs:
            raise ValueError(f"{path} has {outputs} outputs but the images have {len(images.classes)} "
                             f"classes ({', '.join(images.classes[:5])}…) and the file names none of its "
                             f"classes; evaluate on images of the same classes, matched in sorted order")
        return list(range(outputs))
    fix = ("name each class folder by its ImageNet WordNet id, e.g. n01440764 for tench (vgglib's "
           "imagenet_synsets.txt lists all 1,000)" if is_imagenet(names) else
           "name each class folder by one of the net's class names or its sanitised form (lower-case, "
           "each run of characters other than letters and digits a '-': 'T-shirt/top' → 't-shirt-top')")
    return match_classes(images.classes, names, where, fix)


def restricted(model: VGG, columns: list[int]) -> VGG:
    """The net, changed in place, with only the outputs ``columns`` in that order: fc8 cut to
    their rows, so every window's and crop's soft-max runs over those classes alone (scoring
    over a folder's classes), rather than renormalising a share of the full posteriors."""
    fc8, index = model.classifier.fc8, torch.tensor(columns)
    cut = nn.Linear(fc8.in_features, len(columns)).to(fc8.weight.device, fc8.weight.dtype)
    with torch.no_grad():
        cut.weight.copy_(fc8.weight[index])
        cut.bias.copy_(fc8.bias[index])
    model.classifier.fc8 = cut
    model.layers[-1] = replace(model.layers[-1], out_ch=len(columns))
    return model


def paper_scales(qs: Sequence[int], crop: int) -> list[int]:
    """Test scales Q typed in the paper's units, in the net's pixels (round(Q·crop/224))."""
    small = [q for q in qs if q < MIN_Q]
    if small:
        raise ValueError(f"--q {' '.join(map(str, small))}: test scales are in the paper's units "
                         f"(Q ≥ {MIN_Q}, the crop), mapped to this {crop}-pixel net by Q·{crop}/224; "
                         f"e.g. --q 256 384 512")
    return [round(q * crop / 224) for q in qs]


def evaluate_weights(path: str | Path, images: ImageSet, method: str, qs: Sequence[int], fmt: str | None = None,
                     batch_size: int = 16, progress: bool = True, scope: str = "all",
                     where: str = "the images") -> tuple[dict[str, dict[str, float]], str]:
    """Top-1/top-5 error of a weight file at each paper-unit Q and averaged over all Q (the
    paper's multi-scale protocol when ``qs`` has three scales), and a sentence saying which
    classes they are scored over.

    ``scope="all"``: over all the net's classes, the paper's measure (for an ImageNet net the
    error among the 1,000 classes, whichever few the images show); ``"folder"``: over the
    images' classes alone, the soft-max restricted to their outputs (:func:`restricted`).  The
    two agree when the images hold every class of the net.  ``where`` names the images in errors."""
    if scope not in SCOPES:
        raise ValueError(f"unknown class scope {scope!r}; valid: {', '.join(SCOPES)}")
    model, norm, classes = load_for_evaluation(path, fmt)
    outputs = model.layers[-1].out_ch
    names = class_names(classes, outputs, Path(path))
    columns = class_columns(images, names, outputs, Path(path), where)
    if scope == "folder" and len(columns) < outputs:
        model, labels = restricted(model, columns), images.labels
        scored = (f"scored over the folder's {len(columns)} classes (a soft-max over those {len(columns)} "
                  f"of the net's {outputs:,} outputs)")
    else:
        labels = torch.tensor(columns)[images.labels]
        scored = (f"scored over all {outputs:,} ImageNet classes" if is_imagenet(names) else
                  f"scored over all {outputs:,} of the net's classes" +
                  (", taken to be the images' in sorted order (the file names none)" if names is None else ""))
    pixels = paper_scales(qs, model.crop)
    per_q = {q: evaluate(model, images, norm, method, [px], batch_size=batch_size, progress=progress)
             for q, px in zip(qs, pixels)}
    out = {f"Q={q} ({px} px)": errors(p, labels) for (q, p), px in zip(per_q.items(), pixels)}
    if len(qs) > 1:
        out["multi-scale"] = errors(multi_scale(list(per_q.values())), labels)
    return out, scored
