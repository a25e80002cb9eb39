"""Local response normalisation (Krizhevsky et al., 2012), the layer of configuration A-LRN
(§2.3, Table 3's claim that it does not help), written for speed on bf16 channels-last
tensors and equal to ``torch.nn.LocalResponseNorm`` up to float rounding."""
from __future__ import annotations

import torch
from torch import nn

#: LRN as Krizhevsky et al. (2012): size 5, alpha 1e-4 on the *sum* of squares, beta 0.75,
#: k 2.  (PyTorch's LocalResponseNorm divides alpha by the size: it equals ``LRN`` with alpha * size.)
LRN_SIZE, LRN_ALPHA, LRN_BETA, LRN_K = 5, 1e-4, 0.75, 2.0


def _window_sum(s: torch.Tensor, size: int) -> torch.Tensor:
    """Sum of ``s`` over a window of ``size`` neighbouring channels (zero beyond the ends), by
    in-place shifted adds: elementwise work that keeps a channels-last tensor channels-last."""
    out = s.clone()
    for shift in range(-(size // 2), (size - 1) // 2 + 1):
        if shift > 0:
            out[:, :-shift] += s[:, shift:]
        elif shift < 0:
            out[:, -shift:] += s[:, :shift]
    return out


class _LRNFunction(torch.autograd.Function):
    """y = x · (k + α·Σ_window x²)^(−β), with its gradient written out: autograd of the same
    formula keeps twice the temporaries, and ``F.local_response_norm`` pools through a 5-D
    ``avg_pool3d`` that has no bf16 or channels-last kernel (under autocast it ran in fp32
    at half of net A's step speed)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, size: int, alpha: float, beta: float, k: float) -> torch.Tensor:
        xf = x.to(torch.promote_types(x.dtype, torch.float32))   # fp32 at least, as autocast ran it
        d = _window_sum(xf * xf, size).mul_(alpha).add_(k)
        r = d.pow(-beta)
        ctx.save_for_backward(xf, d, r)
        ctx.size, ctx.alpha, ctx.beta, ctx.dtype = size, alpha, beta, x.dtype
        return (xf * r).to(x.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        # ∂L/∂x_c = g_c·r_c − 2αβ·x_c·Σ_window(g·x·r/d): the window is symmetric, so its
        # transpose is the same window sum.
        xf, d, r = ctx.saved_tensors
        gr = grad.to(xf.dtype) * r
        inner = _window_sum(gr * xf / d, ctx.size).mul_(2 * ctx.alpha * ctx.beta)
        return (gr - inner * xf).to(ctx.dtype), None, None, None, None


class LRN(nn.Module):
    """Local response normalisation across channels (Krizhevsky et al. 2012), the layer of
    configuration A-LRN: ``torch.nn.LocalResponseNorm(size, alpha * size, beta, k)`` up to
    float rounding, computed in fp32 (as autocast ran torch's), output in the input's dtype."""

    def __init__(self, size: int = LRN_SIZE, alpha: float = LRN_ALPHA, beta: float = LRN_BETA,
                 k: float = LRN_K):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise a (N, C, H, W) batch of any memory format."""
        return _LRNFunction.apply(x, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"size={self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
