"""Paper §3.1–3.2 image geometry and colour: isotropic rescaling, input normalisation,
and the training augmentation (random S, random crop, flip, RGB colour shift)."""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from .dropout import sample_keys

if TYPE_CHECKING:
    from vgglib.images import ImageSet
    from vgglib.stats import Stats


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
        mean = torch.tensor(self.mean, dtype=torch.float32).view(1, -1, 1, 1).to(x.device, non_blocking=True)
        std = torch.tensor(self.std, dtype=torch.float32).view(1, -1, 1, 1).to(x.device, non_blocking=True)
        return (x.float() * (self.scale / 255.0) - mean) / std


#: torchvision's ImageNet normalisation, for its pretrained VGG weights.
TORCHVISION_NORMALISE = Normalise((0.485, 0.456, 0.406), (0.229, 0.224, 0.225), 1.0)


# --------------------------------------------------------------------------- training augmentation

#: Krizhevsky et al.'s (2012) standard deviation of the colour-shift coefficients α.
PAPER_COLOUR_STD = 0.1


def rescaled_size(h: int, w: int, smallest: int) -> tuple[int, int]:
    """The (H', W') that ``rescale`` gives an h×w image for smallest side ``smallest``."""
    if h <= w:
        return smallest, max(1, round(w * smallest / h))
    return max(1, round(h * smallest / w)), smallest


def _scale_range(scale: int | tuple[int, int]) -> tuple[int, int]:
    lo, hi = (scale, scale) if isinstance(scale, int) else (int(scale[0]), int(scale[1]))
    if not 1 <= lo <= hi:
        raise ValueError(f"training scale must be S or (Smin, Smax) with 1 <= Smin <= Smax, got {scale}")
    return lo, hi


def sample_geometry(n: int, scale: int | tuple[int, int], generator: torch.Generator) -> dict:
    """Draw one training augmentation per image (§3.1) from ``generator``, always in the order
    S, u, v, flip, α so a seed fixes every draw.

    ``S`` int64 (n,): smallest side, fixed or uniform on [Smin, Smax] inclusive (jittering);
    ``u``, ``v`` (n,): crop offsets as fractions of the free width / height, uniform on [0, 1];
    ``flip`` bool (n,); ``alpha`` (n, 3): colour-shift coefficients ~ N(0, 0.1)."""
    lo, hi = _scale_range(scale)
    return {
        "S": torch.randint(lo, hi + 1, (n,), generator=generator),
        "u": torch.rand(n, generator=generator),
        "v": torch.rand(n, generator=generator),
        "flip": torch.rand(n, generator=generator) < 0.5,
        "alpha": torch.randn(n, 3, generator=generator) * PAPER_COLOUR_STD,
    }


def slice_geometry(geometry: dict, start: int, stop: int) -> dict:
    """The draws of images ``start:stop`` of a batch (one rank's share of a global batch)."""
    return {k: v[start:stop] for k, v in geometry.items()}


class Augmenter:
    """The paper's training input (§3.1): isotropic rescale to smallest side S, one random
    crop×crop crop, random horizontal flip, RGB colour shift, mean subtraction.

    The colour shift adds ``eigvec @ (α · sqrt(eigval))`` to every pixel.  Krizhevsky's λ is
    read as the component's variance, so √λ is its standard deviation in 0–255 pixel units
    and α ~ N(0, 0.1) moves a pixel by about a tenth of the spread along that component.
    ``colour_std`` rescales the drawn α (0 turns the shift off; 0.1 is the paper)."""

    def __init__(self, crop: int, scale: int | tuple[int, int], stats: Stats,
                 normalise: Normalise | None = None, flip: bool = True,
                 colour_std: float = PAPER_COLOUR_STD):
        self.crop = crop
        self.scale = scale
        if _scale_range(scale)[0] < crop:
            raise ValueError(f"training scale S={scale} is smaller than the {crop}×{crop} crop")
        self.flip = flip
        self.colour_std = colour_std
        self.normalise = normalise if normalise is not None else Normalise(tuple(stats.mean))
        self.eigvec = torch.tensor(stats.eigvec, dtype=torch.float32)
        self.sqrt_eigval = torch.tensor(stats.eigval, dtype=torch.float32).clamp(min=0).sqrt()

    def sample(self, n: int, generator: torch.Generator) -> dict:
        """``sample_geometry`` at this augmenter's scale."""
        return sample_geometry(n, self.scale, generator)

    def __call__(self, images: torch.Tensor | list[torch.Tensor], geometry: dict) -> torch.Tensor:
        """Augment uint8 RGB images — a (B, 3, H, W) tensor or a list of (3, H, W) — to a float
        (B, 3, crop, crop) batch ready for the net."""
        s = geometry["S"]
        if int(s.min()) < self.crop:
            raise ValueError(f"training scale S={int(s.min())} is smaller than the "
                             f"{self.crop}×{self.crop} crop")
        if torch.is_tensor(images):
            if images.dim() != 4 or images.shape[1] != 3:
                raise ValueError(f"expected RGB images (B, 3, H, W), got {tuple(images.shape)}")
            x = self._crop_batch(images, geometry)
        else:
            x = self._crop_list(images, geometry)
        # The draws live on the CPU and the images may be on a GPU (vgglib.fastdata): what the
        # draws give crosses without waiting (non_blocking), so the host never stalls the device.
        if self.flip:
            x = torch.where(geometry["flip"].view(-1, 1, 1, 1).to(x.device, non_blocking=True), x.flip(-1), x)
        if self.colour_std:
            coef = geometry["alpha"] * (self.colour_std / PAPER_COLOUR_STD) * self.sqrt_eigval
            shift = (self.eigvec.unsqueeze(0) * coef.unsqueeze(1)).sum(-1)
            x = x + shift.view(-1, 3, 1, 1).to(x.device, non_blocking=True)
        return self.normalise(x)

    def _crop_list(self, images: list[torch.Tensor], geometry: dict) -> torch.Tensor:
        """Rescale each image with ``rescale`` (anti-aliased when shrinking) and cut its crop."""
        out = []
        for i, image in enumerate(images):
            r = rescale(image.unsqueeze(0), int(geometry["S"][i]))[0]
            h, w = r.shape[-2:]
            x0 = round(float(geometry["u"][i]) * (w - self.crop))
            y0 = round(float(geometry["v"][i]) * (h - self.crop))
            out.append(r[:, y0:y0 + self.crop, x0:x0 + self.crop])
        return torch.stack(out)

    def _crop_batch(self, images: torch.Tensor, geometry: dict) -> torch.Tensor:
        """Rescale-and-crop a uniform batch in one ``grid_sample``: the crop's pixel centres
        mapped back to the source, bilinear, borders clamped — what ``F.interpolate`` (no
        anti-aliasing) then slicing computes.  Images that S shrinks go through
        ``_crop_list`` instead, so they are anti-aliased as in the file-backed path."""
        b, _, h, w = images.shape
        shrink = geometry["S"] < min(h, w)
        keep = (~shrink).nonzero().flatten()
        out = torch.empty(b, 3, self.crop, self.crop, device=images.device) if len(keep) < b else None
        if shrink.any():
            idx = shrink.nonzero().flatten()
            out[idx.to(images.device)] = self._crop_list(list(images[idx.to(images.device)]),
                                                         {k: v[idx] for k, v in geometry.items()})
        if len(keep):
            sizes = torch.tensor([rescaled_size(h, w, int(s)) for s in geometry["S"][keep]],
                                 dtype=torch.float64)
            new_h, new_w = sizes[:, 0], sizes[:, 1]
            x0 = torch.round(geometry["u"][keep].double() * (new_w - self.crop))
            y0 = torch.round(geometry["v"][keep].double() * (new_h - self.crop))
            # The crop's pixel centres in the source's [-1, 1] coordinates (align_corners=False):
            # an axis-aligned scale and shift per image, so no affine_grid (a slow batched matmul).
            centres = ((2 * torch.arange(self.crop, dtype=torch.float64) + 1) / self.crop - 1)[None]
            gx = (self.crop / new_w)[:, None] * centres + ((2 * x0 + self.crop) / new_w - 1)[:, None]
            gy = (self.crop / new_h)[:, None] * centres + ((2 * y0 + self.crop) / new_h - 1)[:, None]
            n, c, dev = len(keep), self.crop, images.device
            gx, gy = gx.float().to(dev, non_blocking=True), gy.float().to(dev, non_blocking=True)
            grid = torch.stack([gx[:, None, :].expand(n, c, c), gy[:, :, None].expand(n, c, c)], -1)
            keep = keep.to(dev)
            sampled = F.grid_sample((images if out is None else images[keep]).float(), grid, mode="bilinear",
                                    padding_mode="border", align_corners=False)
            if out is None:
                return sampled
            out[keep] = sampled
        return out


# --------------------------------------------------------------------------- batches

def derived_seed(*key: int) -> int:
    """A 63-bit seed hashed from integers (e.g. seed, epoch, step), the same on every machine."""
    digest = hashlib.blake2b(repr(tuple(int(k) for k in key)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def seeded_generator(*key: int) -> torch.Generator:
    """A generator seeded by :func:`derived_seed`: an independent stream per key."""
    return torch.Generator().manual_seed(derived_seed(*key))


class BatchLoader:
    """Deterministic, resumable, data-parallel training batches (§3.1, §3.3).

    Epoch e visits the images in a permutation seeded by (seed, e); step t draws the
    augmentation of the whole global batch from (seed, e, t), then rank r keeps its share
    ``[r·B/world, (r+1)·B/world)``.  So ``world`` ranks together see exactly the batches of one
    process, and a run resumed at any step gets the batches it would have had."""

    def __init__(self, images: ImageSet, augmenter: Augmenter, batch_size: int, seed: int,
                 rank: int = 0, world: int = 1, workers: int = 0):
        if batch_size < 1 or batch_size % world:
            raise ValueError(f"batch size {batch_size} must be a positive multiple of the "
                             f"{world} data-parallel ranks")
        if not 0 <= rank < world:
            raise ValueError(f"rank {rank} is outside 0..{world - 1}")
        if len(images) < batch_size:
            raise ValueError(f"{len(images)} training images cannot fill one batch of {batch_size}")
        self.images, self.augmenter = images, augmenter
        self.batch_size, self.seed = batch_size, seed
        self.rank, self.world, self.workers = rank, world, workers

    @property
    def steps_per_epoch(self) -> int:
        """Full batches per epoch; the last partial batch is dropped."""
        return len(self.images) // self.batch_size

    def __len__(self) -> int:
        return self.steps_per_epoch

    def batch(self, epoch: int, step: int, order: torch.Tensor | None = None,
              source: ImageSet | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """This rank's (inputs, labels) of one step; ``order`` is the epoch's permutation and
        ``source`` what loads the images (default: the set; vgglib.fastdata's copy on a device)."""
        idx, geometry = self.draw(epoch, step, order)
        images, labels = (source or self.images).load(idx)
        return self.augmenter(images, geometry), labels

    def draw(self, epoch: int, step: int, order: torch.Tensor | None = None) -> tuple[torch.Tensor, dict]:
        """This rank's image indices of one step and their augmentation geometry."""
        if order is None:
            order = self.order(epoch)
        idx = order[step * self.batch_size:(step + 1) * self.batch_size]
        geometry = self.augmenter.sample(self.batch_size, seeded_generator(self.seed, epoch, step))
        share = self.batch_size // self.world
        lo, hi = self.rank * share, (self.rank + 1) * share
        return idx[lo:hi], slice_geometry(geometry, lo, hi)

    def sample_keys(self, epoch: int, step: int, device: torch.device | str = "cpu") -> torch.Tensor:
        """One key per sample of this rank's share of a step, from (seed, epoch, the sample's
        place in the epoch), computed on ``device``: the same whichever rank holds it
        (per-sample dropout masks, :mod:`vgglib.dropout`)."""
        share = self.batch_size // self.world
        return sample_keys(self.seed, epoch, step * self.batch_size + self.rank * share, share, device)

    def order(self, epoch: int) -> torch.Tensor:
        """The permutation of the training images in ``epoch``."""
        return torch.randperm(len(self.images), generator=seeded_generator(self.seed, epoch))

    def epoch(self, epoch: int, start_step: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The batches of ``epoch`` from step ``start_step`` on (to resume mid-epoch)."""
        if not 0 <= start_step <= self.steps_per_epoch:
            raise ValueError(f"start_step {start_step} is outside 0..{self.steps_per_epoch}")
        order = self.order(epoch)
        if self.workers > 0 and not self.images.uniform:
            steps = _Steps(self, epoch, order, start_step)
            yield from DataLoader(steps, batch_size=None, num_workers=self.workers,
                                  pin_memory=torch.cuda.is_available(), prefetch_factor=4)
        else:
            for step in range(start_step, self.steps_per_epoch):
                yield self.batch(epoch, step, order)


class _Steps(Dataset):
    """The remaining steps of one epoch, so DataLoader workers decode whole batches in parallel."""

    def __init__(self, loader: BatchLoader, epoch: int, order: torch.Tensor, start_step: int):
        self.loader, self.epoch, self.order, self.start = loader, epoch, order, start_step

    def __len__(self) -> int:
        return self.loader.steps_per_epoch - self.start

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.loader.batch(self.epoch, self.start + i, self.order)
