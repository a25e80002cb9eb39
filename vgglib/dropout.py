"""Dropout masks as a function of the sample (§3.1's dropout, made exact under data parallelism).

With ``torch.nn.Dropout`` a mask depends on the process's random state, so two ``torchrun``
ranks holding half a batch each draw different masks than one process holding all of it.
Here a mask is a pure function of (the sample's key, the layer, the element), computed by a
counter-based hash in integer arithmetic on whatever device holds the activations: the same
bits on a CPU and a GPU, for any split of a batch, with no random generator and no host work.

The hash is a 32-bit integer finaliser (xor-shift, multiply, xor-shift, multiply, xor-shift;
constants from Wellons's hash prospector, both below 2³¹ so every product fits in int64
without overflow).  A sample's key folds (seed, epoch, the sample's place in the epoch); an
element's draw is the hash of (the sample's key mixed with the layer) plus the element's index,
kept when it is at least p·2³²."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

_M32 = 0xFFFFFFFF


def mix32(x: torch.Tensor) -> torch.Tensor:
    """A bijective 32-bit hash of int64 values in [0, 2³²): every output bit depends on every
    input bit, so neighbouring counters give unrelated outputs."""
    x = x ^ (x >> 16)
    x = (x * 0x21F0AAAD) & _M32
    x = x ^ (x >> 15)
    x = (x * 0x735A2D97) & _M32
    return x ^ (x >> 15)


def fold(*words: int | torch.Tensor, device: torch.device | str = "cpu") -> torch.Tensor:
    """Hash non-negative integers (Python ints or int64 tensors, broadcast) into one 32-bit
    value each: every word's low and high 32 bits are mixed in turn, so (1, 2) ≠ (2, 1)."""
    h = torch.full((), 0x9E3779B9, dtype=torch.int64, device=device)
    for w in words:
        w = torch.as_tensor(w, dtype=torch.int64, device=device)
        h = mix32(h ^ (w & _M32))
        h = mix32(h ^ ((w >> 32) & _M32))
    return h


def sample_keys(seed: int, epoch: int, first: int, n: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """The keys of samples ``first … first + n − 1`` of an epoch (their places in the epoch's
    order), as int64 on ``device``: a rank holding any share of a batch computes its share's."""
    places = torch.arange(first, first + n, dtype=torch.int64, device=device)
    return fold(seed, epoch, places, device=device)


def keep_mask(keys: torch.Tensor, slot: int, shape: torch.Size | tuple[int, ...], p: float) -> torch.Tensor:
    """The boolean (len(keys), *shape) mask of one dropout layer: element j of sample i is kept
    when hash(fold(key_i, slot) + j) ≥ p·2³², i.e. with probability 1 − p."""
    numel = int(torch.Size(shape).numel())
    base = fold(keys, slot, device=keys.device)
    draws = mix32((base[:, None] + torch.arange(numel, dtype=torch.int64, device=keys.device)) & _M32)
    return (draws >= round(p * 2 ** 32)).view(len(keys), *shape)


class SampleDropout(nn.Module):
    """Dropout (§3.1: p = 0.5 on fc6 and fc7) whose mask is a function of the sample.

    Inside :func:`sample_dropout` every sample's mask is :func:`keep_mask` of its key and this
    layer's slot, so a sample gets the same mask whichever rank of a data-parallel job holds
    it, or how the batch is split: ``torchrun`` ranks together compute exactly the forward
    passes of one process.  Outside it, plain ``F.dropout``."""

    def __init__(self, p: float, slot: int):
        super().__init__()
        self.p, self.slot = p, slot
        self.keys: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        if self.keys is None:
            return F.dropout(x, self.p, True)
        if len(self.keys) != len(x):
            raise ValueError(f"{len(self.keys)} dropout keys for a batch of {len(x)} samples")
        keep = keep_mask(self.keys.to(x.device), self.slot, x.shape[1:], self.p)
        return x * keep.to(x.dtype) / (1 - self.p)


@contextlib.contextmanager
def sample_dropout(model: nn.Module, keys: torch.Tensor | list[int]) -> Iterator[None]:
    """Take the dropout masks of the next forward pass from one key per sample (see
    :class:`SampleDropout`); the training loop keys each sample by its place in the epoch."""
    layers = [m for m in model.modules() if isinstance(m, SampleDropout)]
    keys = torch.as_tensor(keys, dtype=torch.int64)
    for m in layers:
        m.keys = keys
    try:
        yield
    finally:
        for m in layers:
            m.keys = None
