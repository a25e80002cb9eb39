"""Paper §3.1–3.2 image geometry and colour: isotropic rescaling, input normalisation,
and the training augmentation (random S, random crop, flip, RGB colour shift)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


def rescale(images: torch.Tensor, smallest: int) -> torch.Tensor:
    """Isotropically rescale a batch (N, C, H, W) so its smallest side is ``smallest``.

    Returns float pixels on the input's scale (0–255 for uint8).  Bilinear, with
    anti-aliasing when shrinking, so a downscaled ImageNet photo does not alias."""
    h, w = images.shape[-2:]
    if smallest < 1:
        raise ValueError(f"the rescaled smallest side must be positive, got {smallest}")
    if h <= w:
        size = (smallest, max(1, round(w * smallest / h)))
    else:
        size = (max(1, round(h * smallest / w)), smallest)
    x = images.float()
    if size == (h, w):
        return x
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False,
                         antialias=size[0] < h)


@dataclass(frozen=True)
class Normalise:
    """Map 0–255 RGB pixels to a net's input: ``(x / 255 * scale - mean) / std``.

    The paper's nets: ``scale=255``, mean RGB of the training set, ``std=1`` (§2.1).
    torchvision's weights: ``scale=1`` with its ImageNet mean and std."""

    mean: tuple[float, float, float]
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    scale: float = 255.0

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise a (N, 3, H, W) batch of 0–255 pixels (any float or uint8 dtype)."""
        mean = torch.tensor(self.mean, dtype=torch.float32).view(1, -1, 1, 1)
        std = torch.tensor(self.std, dtype=torch.float32).view(1, -1, 1, 1)
        return (x.float() * (self.scale / 255.0) - mean) / std


#: torchvision's ImageNet normalisation, for its pretrained VGG weights.
TORCHVISION_NORMALISE = Normalise((0.485, 0.456, 0.406), (0.229, 0.224, 0.225), 1.0)
