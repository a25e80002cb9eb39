"""The benchmark's reference evaluations: the naive window loop at the dense stride,
and the one-window dense pass that dense evaluation's cost is measured against."""
import torch

from vgglib import arch, evaluate
from vgglib.augment import Normalise
from vgglib.bench import eval_cost
from vgglib.images import TensorImages


def test_window_counts_follow_dense_evaluation():
    assert eval_cost.n_windows((28, 28), 32, 32) == 1
    assert eval_cost.n_windows((28, 28), 55, 32) == 36                      # 6 × 6, as at the paper's Q = 384
    assert eval_cost.n_windows((375, 500), 384, 224) == 6 * 10


def test_one_window_baseline_keeps_the_centred_pooled_part():
    x = torch.arange(2 * 37 * 35, dtype=torch.float32).view(1, 2, 37, 35)
    assert torch.equal(eval_cost.centred_pooled(x), x[..., 2:34, 1:33])


def test_naive_loop_and_one_window_agree_with_centre_evaluation_at_q_equal_crop():
    torch.manual_seed(0)
    model = arch.build("A", num_classes=10, width=1 / 16, crop=32, fc_width=32)
    images = TensorImages(torch.randint(0, 256, (3, 1, 28, 28), dtype=torch.uint8), torch.zeros(3, dtype=torch.long),
                          ["x"])
    norm = Normalise((128.0,) * 3)
    centre = evaluate.centre_crop_posteriors(model, images, 32, norm, flip=True)
    torch.testing.assert_close(eval_cost.naive_posteriors(model, images, 32, norm, 4, False), centre)
    torch.testing.assert_close(eval_cost.one_window_posteriors(model, images, 32, norm, 2, False), centre)


def test_each_scale_sets_dense_beside_the_one_window_pass_and_prices_validation():
    torch.manual_seed(0)
    model = arch.build("A", num_classes=4, width=1 / 16, crop=32, fc_width=8, init="glorot").eval()
    images = TensorImages(torch.randint(0, 255, (3, 3, 28, 28), dtype=torch.uint8), torch.zeros(3, dtype=torch.long),
                          ["x"])
    rows = eval_cost.per_scale(model, images, Normalise((128.0,) * 3), [32, 55], 1, 4, False, val_images=5000)
    assert [r["Q"] for r in rows] == [32, 55]
    assert rows[0]["macs_over_one_window"] == 1.0                  # at Q = crop both are the plain pass
    assert rows[1]["macs_over_one_window"] > 1.0 and all(r["validation_s_per_epoch"] > 0 for r in rows)
    assert set(rows[0]) == set(eval_cost.SCALE_UNITS)
