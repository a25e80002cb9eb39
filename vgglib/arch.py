"""Paper §2: the ConvNet configurations (Table 1) as data, one builder, dense mode (§3.2),
the initialisation schemes of §3.1, and torchvision interop.

A configuration is five blocks of layer tokens: an int is a k×k conv (3, 1, or 5 for the
shallow net of §4.1), ``"LRN"`` is local response normalisation.  Every block ends in a
2×2 max-pool; the head is FC-FC-FC.  Layers are named as in Caffe (conv3_2, fc6, …) so
weights can be copied between configurations by name, as the paper did.
"""
from __future__ import annotations

import hashlib
import json
import math
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .dropout import SampleDropout
from .lrn import LRN

#: Table 1, column by column.  ``B-5x5`` is §4.1's shallow net: each 3×3 pair of B as one 5×5.
CONFIGS: dict[str, tuple[tuple[int | str, ...], ...]] = {
    "A": ((3,), (3,), (3, 3), (3, 3), (3, 3)),
    "A-LRN": ((3, "LRN"), (3,), (3, 3), (3, 3), (3, 3)),
    "B": ((3, 3), (3, 3), (3, 3), (3, 3), (3, 3)),
    "C": ((3, 3), (3, 3), (3, 3, 1), (3, 3, 1), (3, 3, 1)),
    "D": ((3, 3), (3, 3), (3, 3, 3), (3, 3, 3), (3, 3, 3)),
    "E": ((3, 3), (3, 3), (3, 3, 3, 3), (3, 3, 3, 3), (3, 3, 3, 3)),
    "B-5x5": ((5,), (5,), (5,), (5,), (5,)),
}
#: Channels per block at full width (§2.1): 64, doubling after each pool until 512.
BLOCK_WIDTHS = (64, 128, 256, 512, 512)
#: The layers a deeper net copies from a trained A (§3.1, by Caffe layer name).
INIT_FROM_A = ("conv1_1", "conv2_1", "conv3_1", "conv3_2", "fc6", "fc7", "fc8")
#: torchvision's VGG names for the configurations it shares with the paper.
TORCHVISION_NAMES = {"vgg11": "A", "vgg13": "B", "vgg16": "D", "vgg19": "E"}


@dataclass(frozen=True)
class Layer:
    """One layer of a planned network: conv, lrn, pool or fc, with its shape."""

    name: str
    kind: str
    in_ch: int = 0
    out_ch: int = 0
    k: int = 1

    @property
    def params(self) -> int:
        """Weights plus biases (zero for lrn and pool)."""
        if self.kind not in ("conv", "fc"):
            return 0
        return self.in_ch * self.out_ch * self.k * self.k + self.out_ch

    @property
    def fan_in(self) -> int:
        """Inputs feeding one output unit (an fc6 unit sees in_ch × k × k values)."""
        return self.in_ch * self.k * self.k


def check_config(config: str) -> tuple[tuple[int | str, ...], ...]:
    """Return the blocks of a configuration, or fail naming the valid ones."""
    if config not in CONFIGS:
        raise ValueError(f"unknown VGG configuration {config!r}; valid: {', '.join(CONFIGS)}")
    return CONFIGS[config]


def fc6_size(crop: int) -> int:
    """Spatial size of pool5 for a training crop: 7 at 224, crop/32 in general."""
    if crop < 32 or crop % 32:
        raise ValueError(f"crop size {crop} is not a positive multiple of 32 (five 2×2 pools); "
                         f"use e.g. 32, 64 or 224")
    return crop // 32


def scaled(channels: int, width: float) -> int:
    """Channels of a layer in a width-scaled analogue (at least one)."""
    return max(1, int(round(channels * width)))


def plan(config: str, num_classes: int = 1000, in_channels: int = 3, width: float = 1.0,
         crop: int = 224, fc_width: int = 4096) -> list[Layer]:
    """Lay out every layer of a configuration; the single source for building and counting."""
    blocks = check_config(config)
    if width <= 0:
        raise ValueError(f"width must be positive, got {width}")
    k6 = fc6_size(crop)
    layers: list[Layer] = []
    ch = in_channels
    for b, (tokens, full) in enumerate(zip(blocks, BLOCK_WIDTHS), start=1):
        out = scaled(full, width)
        i = 0
        for tok in tokens:
            if tok == "LRN":
                layers.append(Layer(f"norm{b}", "lrn", ch, ch))
                continue
            i += 1
            layers.append(Layer(f"conv{b}_{i}", "conv", ch, out, int(tok)))
            ch = out
        layers.append(Layer(f"pool{b}", "pool", ch, ch, 2))
    layers.append(Layer("fc6", "fc", ch, fc_width, k6))
    layers.append(Layer("fc7", "fc", fc_width, fc_width))
    layers.append(Layer("fc8", "fc", fc_width, num_classes))
    return layers


def count_params(config: str, **kw) -> int:
    """Parameters of a configuration, counted from its plan (no tensors allocated)."""
    return sum(layer.params for layer in plan(config, **kw))


def multiply_adds(config: str | list[Layer], size: int | tuple[int, int], stride: int = 32, **kw) -> int:
    """Multiply-adds of one dense pass (the FC head as convs) on an input of ``size`` at the output
    ``stride`` of :meth:`VGG.score_map`; ``config``: a configuration (planned with ``kw``) or a plan."""
    layers = plan(config, **kw) if isinstance(config, str) else config
    h, w = (size, size) if isinstance(size, int) else size
    rarefied, d, total = rarefied_pools([la.name for la in layers if la.kind == "pool"], stride), 1, 0
    for layer in layers:
        if layer.name in rarefied:
            h, w, d = h - d, w - d, 2 * d
        elif layer.kind == "pool":
            h, w = h // 2, w // 2
        elif layer.kind == "conv":
            total += h * w * layer.fan_in * layer.out_ch
        elif layer.kind == "fc":
            h, w = h - d * (layer.k - 1), w - d * (layer.k - 1)
            total += h * w * layer.fan_in * layer.out_ch
    return total


def receptive_field(config: str, crop: int = 224) -> int:
    """Input pixels along one side that can move one output of the net in dense mode: the
    stacked reach of its convs and poolings, plus fc6's window of crop/32 positions at the net's
    32-pixel stride (counted from the plan).  212 for D at a 32-pixel crop, 6.6 times the crop;
    404 at the paper's 224, 1.8 times: why a dense pass gives a small crop's windows far more
    of the image around them than a window run alone has."""
    reach, step = 1, 1
    for layer in plan(config, crop=crop):
        if layer.kind in ("conv", "pool"):
            reach += (layer.k - 1) * step
            step *= 2 if layer.kind == "pool" else 1
        elif layer.name == "fc6":
            reach += (layer.k - 1) * step
    return reach


#: The net's own output stride: five 2×2 poolings.
NATIVE_STRIDE = 32


def rarefied_pools(pools: list[str], stride: int) -> set[str]:
    """The poolings whose stride a dense pass at output ``stride`` removes: the last ones, one for
    each halving of the net's 32 pixels (an error for a stride the poolings cannot give)."""
    finer = NATIVE_STRIDE // max(stride, 1)
    if stride < 1 or NATIVE_STRIDE % stride or finer & (finer - 1):
        raise ValueError(f"stride must divide {NATIVE_STRIDE} by a power of two, got {stride}")
    return set(pools[len(pools) - finer.bit_length() + 1:])


class VGG(nn.Module):
    """A VGG net; ``forward`` takes training crops, ``score_map`` any image (dense, §3.2)."""

    def __init__(self, config: str, layers: list[Layer], crop: int, dropout: float = 0.5):
        super().__init__()
        self.config, self.crop, self.dropout = config, crop, dropout
        self.layers = layers
        feats: OrderedDict[str, nn.Module] = OrderedDict()
        head: OrderedDict[str, nn.Module] = OrderedDict()
        for layer in layers:
            if layer.kind == "conv":
                feats[layer.name] = nn.Conv2d(layer.in_ch, layer.out_ch, layer.k, padding=layer.k // 2)
                feats["relu" + layer.name[4:]] = nn.ReLU(inplace=True)
            elif layer.kind == "lrn":
                feats[layer.name] = LRN()
            elif layer.kind == "pool":
                feats[layer.name] = nn.MaxPool2d(2, 2)
            else:
                head[layer.name] = nn.Linear(layer.fan_in, layer.out_ch)
                if layer.name != "fc8":
                    head["relu" + layer.name[2:]] = nn.ReLU(inplace=True)
                    head["drop" + layer.name[2:]] = SampleDropout(dropout, slot=int(layer.name[2:]))
        self.features = nn.Sequential(feats)
        self.classifier = nn.Sequential(head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores (N, classes) for crops of the training crop size."""
        f = self.features(x)
        k = self.crop // 32
        if f.shape[-2:] != (k, k):
            raise ValueError(f"input {tuple(x.shape[-2:])} is not the {self.crop}×{self.crop} crop "
                             f"this net was built for; use score_map() for dense evaluation")
        return self.classifier(torch.flatten(f, 1))

    def score_map(self, x: torch.Tensor, upto: str = "fc8", stride: int = NATIVE_STRIDE) -> torch.Tensor:
        """Dense mode (§3.2): the net over a whole image of any size ≥ crop, fc6 as a k×k conv and
        fc7/fc8 as 1×1 convs; (N, out, h, w), one position per crop-sized window every ``stride``
        pixels, window (i, j) at corner (i·stride, j·stride).  At 32 px this is the plain fully
        convolutional pass; a finer ``stride`` removes the stride of the last poolings and dilates
        the layers after them (filter rarefaction, as FCN and DeepLab): the plain pass at every
        pooling offset in one pass, each window's border from the image around it (zeros only at
        the image's own border).  ``upto="fc7"``: the penultimate activations (Appendix B)."""
        if upto not in ("fc7", "fc8"):
            raise ValueError(f"upto must be 'fc7' or 'fc8', got {upto!r}")
        pools = [name for name, m in self.features.named_children() if isinstance(m, nn.MaxPool2d)]
        rarefied, d, f = rarefied_pools(pools, stride), 1, x
        for name, m in self.features.named_children():
            if name in rarefied:
                f, d = F.max_pool2d(f, 2, stride=1, dilation=d), 2 * d
            elif isinstance(m, nn.Conv2d) and d > 1:
                f = F.conv2d(f, m.weight, m.bias, padding=d * (m.kernel_size[0] // 2), dilation=d)
            else:
                f = m(f)
        k = self.crop // NATIVE_STRIDE
        if f.shape[-2] < d * (k - 1) + 1 or f.shape[-1] < d * (k - 1) + 1:
            raise ValueError(f"input {tuple(x.shape[-2:])} is smaller than the {self.crop}-pixel crop")
        c = self.classifier
        y = F.conv2d(f, c.fc6.weight.view(c.fc6.out_features, -1, k, k), c.fc6.bias, dilation=d)
        y = c.drop6(F.relu(y))
        y = F.conv2d(y, c.fc7.weight[:, :, None, None], c.fc7.bias)
        y = c.drop7(F.relu(y))
        if upto == "fc7":
            return y
        return F.conv2d(y, c.fc8.weight[:, :, None, None], c.fc8.bias)

    def weight_layers(self) -> dict[str, nn.Conv2d | nn.Linear]:
        """The conv and FC layers by Caffe name, in order."""
        return {n: m for n, m in (*self.features.named_children(), *self.classifier.named_children())
                if isinstance(m, (nn.Conv2d, nn.Linear))}


def build(config: str, num_classes: int = 1000, in_channels: int = 3, width: float = 1.0,
          crop: int = 224, fc_width: int = 4096, dropout: float = 0.5,
          init: str = "normal", std: float = 0.01) -> VGG:
    """Build a configuration at any scale; ``width=1, crop=224, fc_width=4096`` is the paper's net."""
    layers = plan(config, num_classes, in_channels, width, crop, fc_width)
    model = VGG(config, layers, crop, dropout)
    initialise(model, init, std)
    return model


def initialise(model: VGG, scheme: str = "normal", std: float = 0.01) -> None:
    """Initialise every weight layer, biases zero (§3.1).

    ``normal``: N(0, σ²) with σ = ``std`` at the paper's size; in a narrower analogue each
    layer's σ is scaled by √(fan-in at full size / fan-in here), so every layer keeps the
    paper's gain (fan-in·σ²) rather than the number σ.  ``glorot``: Glorot & Bengio (2010)
    uniform, which the paper found to work without pre-training."""
    if scheme not in ("normal", "glorot"):
        raise ValueError(f"unknown init scheme {scheme!r}; valid: normal, glorot")
    full = {layer.name: layer for layer in plan(model.config, crop=224)}
    for name, m in model.weight_layers().items():
        if scheme == "glorot":
            nn.init.xavier_uniform_(m.weight)
        else:
            fan_in = m.weight[0].numel()
            nn.init.normal_(m.weight, 0.0, std * math.sqrt(full[name].fan_in / fan_in))
        nn.init.zeros_(m.bias)


@torch.no_grad()
def init_from(model: VGG, donor: VGG, names: tuple[str, ...] = INIT_FROM_A) -> list[str]:
    """Copy the named layers of a trained donor into ``model`` (by Caffe name, as §3.1 did)."""
    mine, theirs = model.weight_layers(), donor.weight_layers()
    for n in names:
        if n not in mine or n not in theirs:
            raise ValueError(f"layer {n} is missing in {model.config if n not in mine else donor.config}")
        if mine[n].weight.shape != theirs[n].weight.shape:
            raise ValueError(f"cannot copy {n}: donor {donor.config} has {tuple(theirs[n].weight.shape)}, "
                             f"{model.config} needs {tuple(mine[n].weight.shape)}")
        mine[n].weight.copy_(theirs[n].weight)
        mine[n].bias.copy_(theirs[n].bias)
    return list(names)


def from_torchvision(state: dict[str, torch.Tensor], dropout: float = 0.5) -> VGG:
    """A vgglib model holding the weights of a torchvision vgg11/13/16/19 state dict."""
    convs = sorted({int(k.split(".")[1]) for k in state if k.startswith("features.") and k.endswith("weight")})
    by_count = {sum(isinstance(t, int) for b in CONFIGS[c] for t in b): c for c in TORCHVISION_NAMES.values()}
    if len(convs) not in by_count or any(k.startswith("features.") and "running" in k for k in state):
        raise ValueError(f"not a torchvision VGG state dict without batch norm ({len(convs)} conv layers); "
                         f"expected one of vgg11, vgg13, vgg16, vgg19")
    num_classes = state["classifier.6.weight"].shape[0]
    model = build(by_count[len(convs)], num_classes=num_classes, dropout=dropout)
    model.load_state_dict(_rename(model, state, to_ours=True))
    return model


def to_torchvision(model: VGG) -> dict[str, torch.Tensor]:
    """The model's weights as a torchvision VGG state dict (full-size A, B, D or E only)."""
    if model.config not in TORCHVISION_NAMES.values() or model.crop != 224:
        raise ValueError(f"torchvision has no counterpart of {model.config} at crop {model.crop}")
    return _rename(model, model.state_dict(), to_ours=False)


def _rename(model: VGG, state: dict[str, torch.Tensor], to_ours: bool) -> dict[str, torch.Tensor]:
    """Map torchvision keys (features.N, classifier.0/3/6) to Caffe-named keys, or back."""
    ours = list(model.weight_layers())
    tv_convs, idx = [], 0
    for layer in model.layers:  # torchvision: conv, relu per conv; one pool per block
        if layer.kind == "conv":
            tv_convs.append(f"features.{idx}")
            idx += 2
        elif layer.kind == "pool":
            idx += 1
    tv = tv_convs + ["classifier.0", "classifier.3", "classifier.6"]
    pairs = {(f"features.{n}" if n.startswith("conv") else f"classifier.{n}"): t for n, t in zip(ours, tv)}
    out = {}
    for mine, theirs in pairs.items():
        for p in ("weight", "bias"):
            if to_ours:
                out[f"{mine}.{p}"] = state[f"{theirs}.{p}"]
            else:
                out[f"{theirs}.{p}"] = state[f"{mine}.{p}"]
    return out


def spec_of(model: VGG) -> dict:
    """The builder arguments that rebuild ``model`` (stored beside its weights)."""
    first, fc8 = model.layers[0], model.layers[-1]
    conv1 = next(layer for layer in model.layers if layer.kind == "conv")
    return {"config": model.config, "num_classes": fc8.out_ch, "in_channels": first.in_ch,
            "width": conv1.out_ch / BLOCK_WIDTHS[0], "crop": model.crop,
            "fc_width": model.layers[-2].out_ch, "dropout": model.dropout}


def tensors_sha256(state: dict[str, torch.Tensor]) -> str:
    """A checksum of a state dict's names, dtypes, shapes and bytes (stored in weight files)."""
    h = hashlib.sha256()
    for name in sorted(state):
        t = state[name].detach().cpu().contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)}:".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def save_weights(model: VGG, path: str | Path, input_mean: tuple[float, ...] | None = None,
                 classes: list[str] | None = None) -> None:
    """Save weights with safetensors.  One metadata entry holds, as sorted JSON, the builder
    arguments, the mean RGB the net was trained to subtract, its class names (in output order
    for a classifier; a localiser's boxes follow the same order),
    and a checksum of the tensors: the file alone can be evaluated, its classes matched by
    name, damage detected, and identical weights give identical bytes."""
    from safetensors.torch import save_file

    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    meta = {"build": spec_of(model), "sha256": tensors_sha256(state)}
    if input_mean is not None:
        meta["input_mean"] = list(input_mean)
    if classes is not None:
        meta["classes"] = list(classes)
    save_file(state, str(path), metadata={"vgglib": json.dumps(meta, sort_keys=True)})


def _unreadable(path: Path, error: Exception) -> ValueError:
    return ValueError(f"cannot read weight file {path}: {error}. It is truncated, damaged or not a "
                      f"safetensors file; re-save or re-download it (a torchvision .pth takes "
                      f"--format torchvision)")


def weights_metadata(path: str | Path) -> dict:
    """The metadata of a vgglib weight file: ``build`` (builder arguments), ``sha256``, and
    when saved by training, ``input_mean`` and ``classes``."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no weight file at {path}")
    try:
        with safe_open(str(path), "pt") as f:
            meta = f.metadata() or {}
    except Exception as e:  # safetensors raises its own error type for every malformed header
        raise _unreadable(path, e) from None
    if "vgglib" not in meta:
        raise ValueError(f"{path} has no vgglib metadata; for torchvision weights use --format torchvision "
                         f"(from_torchvision())")
    info = json.loads(meta["vgglib"])
    if "build" not in info:
        raise ValueError(f"{path} was saved by an older vgglib, without class names or checksum; "
                         f"retrain it (its run key has changed) or re-save it with save_weights")
    return info


def load_weights(path: str | Path) -> VGG:
    """Rebuild a model saved by :func:`save_weights` (no pickle, so no code runs on load),
    refusing a file whose tensors do not match their stored checksum."""
    from safetensors.torch import load_file

    meta = weights_metadata(path)
    try:
        state = load_file(str(path))
    except Exception as e:
        raise _unreadable(Path(path), e) from None
    if tensors_sha256(state) != meta["sha256"]:
        raise ValueError(f"{path} is damaged: its tensors do not match the checksum stored with them; "
                         f"re-save or re-download it, or delete its run directory to retrain")
    model = build(**meta["build"])
    model.load_state_dict(state)
    return model


def stacked_receptive_field(n: int, k: int = 3) -> int:
    """Receptive field of ``n`` stacked k×k stride-1 convs, measured by back-propagating one output."""
    size = 1 + n * (k - 1) + 2
    net = nn.Sequential(*[nn.Conv2d(1, 1, k, padding=k // 2, bias=False) for _ in range(n)])
    for m in net:
        nn.init.constant_(m.weight, 1.0)
    x = torch.zeros(1, 1, size, size, requires_grad=True)
    net(x)[0, 0, size // 2, size // 2].backward()
    rows = (x.grad[0, 0].abs().sum(1) > 0).nonzero()
    return int(rows.max() - rows.min() + 1)
