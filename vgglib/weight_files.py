"""``vgglib evaluate``: a weight file, vgglib's or torchvision's, under the paper's test
protocol (§3.2), with every way a file or a request can be wrong refused by name.

Test scales are typed in the paper's units and mapped by the net's crop (Q·crop/224), as
everywhere else; classes are matched by name between the weight file and the images."""
from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from .arch import from_torchvision, load_weights, weights_metadata
from .augment import TORCHVISION_NORMALISE, Normalise
from .evaluate import errors, evaluate, multi_scale
from .images import ImageSet

#: The paper's smallest test scale: Q below the 224-pixel crop is never meant.
MIN_Q = 224


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


def mapped_labels(images: ImageSet, classes: list[str] | None, outputs: int, path: Path) -> torch.Tensor:
    """The images' labels as the net's output indices, matched by class name; a file without
    names (torchvision's) needs the same number of classes, in sorted order."""
    if classes is None:
        if len(images.classes) != outputs:
            raise ValueError(f"{path} has {outputs} outputs but the images have {len(images.classes)} "
                             f"classes ({', '.join(images.classes[:5])}…); evaluate on images of the same classes")
        return images.labels
    if len(classes) != outputs:
        raise ValueError(f"{path} has {outputs} outputs for {len(classes)} classes: it is not a classifier "
                         f"(a localiser?); evaluate a classification net")
    if sorted(classes) != sorted(images.classes):
        missing, extra = sorted(set(classes) - set(images.classes)), sorted(set(images.classes) - set(classes))
        raise ValueError(f"the classes of {path} ({', '.join(classes)}) differ from the images' "
                         f"({', '.join(images.classes)}): missing {missing}, unknown {extra}; "
                         f"evaluate on a folder with exactly the net's class folders")
    index = torch.tensor([classes.index(name) for name in images.classes])
    return index[images.labels]


def paper_scales(qs: Sequence[int], crop: int) -> list[int]:
    """Test scales Q typed in the paper's units, in the net's pixels (round(Q·crop/224))."""
    small = [q for q in qs if q < MIN_Q]
    if small:
        raise ValueError(f"--q {' '.join(map(str, small))}: test scales are in the paper's units "
                         f"(Q ≥ {MIN_Q}, the crop), mapped to this {crop}-pixel net by Q·{crop}/224; "
                         f"e.g. --q 256 384 512")
    return [round(q * crop / 224) for q in qs]


def evaluate_weights(path: str | Path, images: ImageSet, method: str, qs: Sequence[int], fmt: str | None = None,
                     batch_size: int = 16, progress: bool = True) -> dict:
    """Top-1/top-5 error of a weight file at each paper-unit Q and averaged over all Q (the
    paper's multi-scale protocol when ``qs`` has three scales)."""
    model, norm, classes = load_for_evaluation(path, fmt)
    labels = mapped_labels(images, classes, model.layers[-1].out_ch, Path(path))
    pixels = paper_scales(qs, model.crop)
    per_q = {q: evaluate(model, images, norm, method, [px], batch_size=batch_size, progress=progress)
             for q, px in zip(qs, pixels)}
    out = {f"Q={q} ({px} px)": errors(p, labels) for (q, p), px in zip(per_q.items(), pixels)}
    if len(qs) > 1:
        out["multi-scale"] = errors(multi_scale(list(per_q.values())), labels)
    return out
