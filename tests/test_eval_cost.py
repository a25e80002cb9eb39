"""The benchmark's reference evaluations: the naive window loop at the paper's relative stride,
and the one-window dense pass that is issue 14's baseline."""
import torch

from vgglib import arch, evaluate
from vgglib.augment import Normalise
from vgglib.images import TensorImages
from vgglib.parts.performance import eval_cost


def test_windows_step_by_crop_over_7_like_a_224_net_score_map():
    assert eval_cost.window_offsets(256, 224) == [0, 32]
    assert eval_cost.window_offsets(341, 224) == [0, 32, 64, 96]
    assert eval_cost.window_offsets(55, 32) == [0, 5, 9, 14, 18, 23]
    assert eval_cost.n_windows((28, 28), 32, 32) == 1


def test_naive_loop_and_one_window_agree_with_centre_evaluation_at_q_equal_crop():
    torch.manual_seed(0)
    model = arch.build("A", num_classes=10, width=1 / 16, crop=32, fc_width=32)
    images = TensorImages(torch.randint(0, 256, (3, 1, 28, 28), dtype=torch.uint8), torch.zeros(3, dtype=torch.long),
                          ["x"])
    norm = Normalise((128.0,) * 3)
    centre = evaluate.centre_crop_posteriors(model, images, 32, norm, flip=True)
    torch.testing.assert_close(eval_cost.naive_posteriors(model, images, 32, norm, 4, False), centre)
    torch.testing.assert_close(eval_cost.one_window_posteriors(model, images, 32, norm, 2, False), centre)
