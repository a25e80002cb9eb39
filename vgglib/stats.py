"""Training-set RGB statistics: the mean subtracted from every input (§2.1) and the pixel
covariance's eigen-decomposition for the colour shift (§3.1), cached beside the run store."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from .files import atomic_write
from .images import ImageSet


@dataclass
class Stats:
    """Training-set RGB statistics on the 0–255 scale: the mean (subtracted from every input,
    §2.1) and the pixel covariance's eigenvalues (descending) and eigenvectors, stored as
    columns (``eigvec[i][j]`` is channel i of component j), for the colour shift (§3.1)."""

    mean: tuple[float, float, float]
    eigval: tuple[float, ...]
    eigvec: list[list[float]]

    def to_json(self) -> str:
        """The statistics as a JSON object."""
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> Stats:
        """Inverse of ``to_json``."""
        d = json.loads(text)
        return cls(tuple(d["mean"]), tuple(d["eigval"]), [list(r) for r in d["eigvec"]])


def compute_stats(images: ImageSet, max_images: int = 10000, seed: int = 0,
                  chunk: int = 512) -> Stats:
    """Mean and covariance of the RGB values of all pixels of ``images`` (or of a seeded
    sample of ``max_images`` of them), covariance eigen-decomposed with ``eigh``."""
    n = len(images)
    if n == 0:
        raise ValueError("cannot compute RGB statistics of an empty image set")
    if n > max_images:
        g = torch.Generator().manual_seed(seed)
        idx = torch.randperm(n, generator=g)[:max_images].sort().values
    else:
        idx = torch.arange(n)
    total, outer = torch.zeros(3, dtype=torch.float64), torch.zeros(3, 3, dtype=torch.float64)
    count = 0
    for start in range(0, len(idx), chunk):
        batch, _ = images.load(idx[start:start + chunk])
        for x in ([batch] if torch.is_tensor(batch) else [b[None] for b in batch]):
            p = x.transpose(0, 1).reshape(3, -1).double()
            total += p.sum(1)
            outer += p @ p.T
            count += p.shape[1]
    mean = total / count
    cov = outer / count - torch.outer(mean, mean)
    eigval, eigvec = torch.linalg.eigh(cov)
    eigval, eigvec = eigval.flip(0).clamp(min=0), eigvec.flip(1)
    signs = torch.sign(eigvec.gather(0, eigvec.abs().argmax(0, keepdim=True)))
    eigvec = eigvec * signs
    return Stats(tuple(mean.tolist()), tuple(eigval.tolist()), eigvec.tolist())


def cached_stats(images: ImageSet, cache_file: str | Path, max_images: int = 10000,
                 seed: int = 0) -> Stats:
    """``compute_stats`` once, saved as JSON in ``cache_file``; later calls read the file."""
    cache_file = Path(cache_file)
    if cache_file.is_file():
        try:
            return Stats.from_json(cache_file.read_text())
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f"{cache_file} is damaged ({type(e).__name__}: {e}); delete it and it "
                             f"is recomputed from the training images") from None
    stats = compute_stats(images, max_images, seed)
    atomic_write(cache_file, lambda tmp: tmp.write_text(stats.to_json()))
    return stats
