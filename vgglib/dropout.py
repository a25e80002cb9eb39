"""Dropout masks as a function of the sample (§3.1's dropout, made exact under data parallelism).

With ``torch.nn.Dropout`` a mask depends on the process's random state, so two ``torchrun``
ranks holding half a batch each draw different masks than one process holding all of it.
Here each sample's mask comes from a generator seeded by the sample's key and the layer, so
the masks, and hence the gradients, are those of one process whatever the split."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from .augment import seeded_generator


class SampleDropout(nn.Module):
    """Dropout (§3.1: p = 0.5 on fc6 and fc7) whose mask can be a function of the sample.

    Inside :func:`sample_dropout` every sample's mask is drawn from its own generator, seeded
    by the sample's key and this layer's slot, so a sample gets the same mask whichever rank
    of a data-parallel job holds it, or how the batch is split: ``torchrun`` ranks together
    compute exactly the forward passes of one process.  Outside it, plain ``F.dropout``."""

    def __init__(self, p: float, slot: int):
        super().__init__()
        self.p, self.slot = p, slot
        self.keys: list[int] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        if self.keys is None:
            return F.dropout(x, self.p, True)
        if len(self.keys) != len(x):
            raise ValueError(f"{len(self.keys)} dropout keys for a batch of {len(x)} samples")
        keep = torch.stack([torch.rand(x.shape[1:], generator=seeded_generator(k, self.slot))
                            for k in self.keys]) >= self.p
        return x * keep.to(x.device, x.dtype) / (1 - self.p)


@contextlib.contextmanager
def sample_dropout(model: nn.Module, keys: list[int]) -> Iterator[None]:
    """Draw the dropout masks of the next forward pass from one key per sample (see
    :class:`SampleDropout`); the training loop keys each sample by its place in the epoch."""
    layers = [m for m in model.modules() if isinstance(m, SampleDropout)]
    for m in layers:
        m.keys = list(keys)
    try:
        yield
    finally:
        for m in layers:
            m.keys = None
