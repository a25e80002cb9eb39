"""A-LRN's local response normalisation equals torch's LocalResponseNorm with the paper's
constants (Krizhevsky et al. 2012: size 5, alpha 1e-4 on the sum, beta 0.75, k 2), forward
and backward, in every memory format and under bf16 autocast, up to float rounding."""
import pytest
import torch

from vgglib import arch, lrn


def reference() -> torch.nn.LocalResponseNorm:
    return torch.nn.LocalResponseNorm(lrn.LRN_SIZE, lrn.LRN_ALPHA * lrn.LRN_SIZE, lrn.LRN_BETA, lrn.LRN_K)


@pytest.mark.parametrize("channels_last", [False, True])
def test_lrn_equals_torch_forward_and_backward(channels_last):
    g = torch.Generator().manual_seed(0)
    x = 40 * torch.randn(4, 12, 9, 7, generator=g)     # large enough that the normaliser matters
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    ours, theirs = x.clone().requires_grad_(), x.clone().requires_grad_()
    y_ours, y_theirs = arch.LRN()(ours), reference()(theirs)
    assert (y_ours / x - 1).abs().max() > 0.1, "the test input must be normalised noticeably"
    torch.testing.assert_close(y_ours, y_theirs, rtol=1e-5, atol=1e-5)
    w = torch.randn(y_ours.shape, generator=g)
    (y_ours * w).sum().backward()
    (y_theirs * w).sum().backward()
    torch.testing.assert_close(ours.grad, theirs.grad, rtol=1e-4, atol=1e-5)


def test_lrn_gradient_is_exact_in_double():
    x = (30 * torch.randn(2, 7, 3, 4, dtype=torch.float64)).requires_grad_()
    assert torch.autograd.gradcheck(arch.LRN(), (x,))


def test_lrn_under_bf16_autocast_matches_torch_and_keeps_bf16():
    g = torch.Generator().manual_seed(1)
    x = (40 * torch.randn(2, 8, 6, 6, generator=g)).to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
    with torch.autocast("cpu", torch.bfloat16):
        ours, theirs = arch.LRN()(x), reference()(x)
    assert ours.dtype == torch.bfloat16 and ours.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(ours.float(), theirs.float(), rtol=1e-2, atol=1e-2)   # bf16 rounding of the output


def test_a_lrn_uses_the_layer_and_keeps_its_state_dict():
    model = arch.build("A-LRN", width=1 / 16, crop=32, fc_width=32, num_classes=10)
    assert isinstance(model.features.norm1, arch.LRN)
    assert set(model.state_dict()) == set(arch.build("A", width=1 / 16, crop=32, fc_width=32,
                                                     num_classes=10).state_dict())
