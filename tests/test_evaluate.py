"""Paper §3.2 testing: dense vs crop equivalence, multi-crop grid, flips, scales, top-k error."""
import pytest
import torch
import torch.nn.functional as F

from vgglib import arch
from vgglib import evaluate as ev
from vgglib.augment import Normalise, rescale

NORM = Normalise((120.0, 115.0, 100.0), (60.0, 60.0, 60.0))
CLASSES = 5


class FakeSet:
    """A minimal ImageSet over uint8 (3, H, W) tensors; uniform sets load as one tensor."""

    def __init__(self, images, uniform=None, seed=0):
        self.images = list(images)
        self.classes = [f"c{i}" for i in range(CLASSES)]
        self.labels = torch.randint(0, CLASSES, (len(self.images),),
                                    generator=torch.Generator().manual_seed(seed))
        same = len({tuple(i.shape) for i in self.images}) <= 1
        self.uniform = same if uniform is None else uniform
        self.loads = []

    def __len__(self):
        return len(self.images)

    def load(self, indices):
        self.loads.append(list(indices))
        imgs = [self.images[i] for i in indices]
        return (torch.stack(imgs) if self.uniform else imgs), self.labels[list(indices)]


def random_images(n, h, w, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=g) for _ in range(n)]


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    m = arch.build("A", num_classes=CLASSES, width=1 / 16, crop=32, fc_width=16, dropout=0.5,
                   init="glorot")
    return m.eval()


def softmax_of(model, x):
    with torch.no_grad():
        return model(x).softmax(1)


def prepared(images, q):
    return NORM(rescale(torch.stack(images), q))


def test_model_outputs_are_not_trivial(model):
    """Guard: equalities below mean something only if posteriors vary by image and class."""
    p = softmax_of(model, prepared(random_images(4, 32, 32), 32))
    assert (p.max(1).values - p.min(1).values).min() > 1e-3
    assert (p[0] - p[1]).abs().max() > 1e-3


def test_dense_at_crop_scale_equals_crop_evaluation(model):
    imgs = random_images(3, 40, 40)
    dense = ev.dense_posteriors(model, FakeSet(imgs), 32, NORM, flip=False)
    expected = softmax_of(model, prepared(imgs, 32))
    assert dense.shape == (3, CLASSES)
    torch.testing.assert_close(dense, expected, atol=1e-5, rtol=0)
    centre = ev.centre_crop_posteriors(model, FakeSet(imgs), 32, NORM)
    torch.testing.assert_close(dense, centre, atol=1e-5, rtol=0)


def test_dense_windows_step_crop_over_8_at_a_small_crop_and_32_pixels_at_the_papers():
    assert ev.dense_stride(224) == 32 and ev.dense_stride(32) == 4 and ev.dense_stride(64) == 8
    assert ev.window_offsets(224, 224) == [0] and ev.window_offsets(250, 224) == [0]
    assert ev.window_offsets(256, 224) == [0, 32]
    assert ev.window_offsets(384, 224) == [0, 32, 64, 96, 128, 160]          # the paper's 6 × 6 at Q = 384
    assert ev.window_offsets(55, 32) == [0, 4, 8, 12, 16, 20]                # quick's analogue of Q = 384
    assert ev.window_offsets(37, 32) == [0, 4] and ev.window_offsets(32, 32) == [0]
    with pytest.raises(ValueError, match="32-pixel window in 31 pixels"):
        ev.window_offsets(31, 32)


def float64_net(config: str = "A") -> arch.VGG:
    torch.manual_seed(0)
    return arch.build(config, num_classes=CLASSES, width=1 / 16, crop=32, fc_width=8, init="glorot").eval().double()


def offset_pooled(net: arch.VGG, x: torch.Tensor) -> list[tuple[int, int, torch.Tensor]]:
    """Shift and stitch with offset pooling, written out: each of the last three poolings taken at
    offsets 0 and 1 in both directions, each branch run through the plain net: (top, left, map)
    with the branch's first window corner in pixels and its 32-pixel-stride map."""
    layers = list(net.features.named_children())
    pools = [i for i, (_, m) in enumerate(layers) if isinstance(m, torch.nn.MaxPool2d)][-3:]
    c = net.classifier

    def head(f: torch.Tensor) -> torch.Tensor:
        y = F.relu(F.conv2d(f, c.fc6.weight.view(c.fc6.out_features, -1, 1, 1), c.fc6.bias))
        return F.conv2d(F.relu(F.conv2d(y, c.fc7.weight[:, :, None, None], c.fc7.bias)),
                        c.fc8.weight[:, :, None, None], c.fc8.bias)

    def run(f: torch.Tensor, start: int, top: int, left: int, step: int) -> list:
        for i in range(start, len(layers)):
            if i in pools:
                return [branch for oy in (0, 1) for ox in (0, 1)
                        for branch in run(F.max_pool2d(f[..., oy:, ox:], 2, 2), i + 1, top + oy * step,
                                          left + ox * step, 2 * step)]
            f = layers[i][1](f)
        return [(top, left, head(f))]
    return run(x, 0, 0, 0, 4)


def test_the_dense_pass_is_the_plain_whole_image_pass_every_8th_position_and_offset_pooling_between():
    """Filter rarefaction (stride of pools 3–5 removed, later layers dilated) gives in one pass
    what the plain fully convolutional net gives at every pooling offset: every 8th position is
    the plain pass over the whole image, and each other is shift and stitch with offset pooling."""
    net = float64_net()
    x = torch.randn(2, 3, 61, 70, dtype=torch.float64)
    with torch.no_grad():
        fine = net.score_map(x, stride=ev.dense_stride(net.crop))
        _, ys, xs = ev.window_scores(net, x)
        plain = net.score_map(x)
        branches = offset_pooled(net, x)
    assert fine.shape[-2:] == (len(ys), len(xs)) == (8, 10) and (ys[1], xs[-1]) == (4, 36)
    torch.testing.assert_close(fine[..., ::8, ::8], plain, atol=1e-12, rtol=0)
    covered = torch.zeros(fine.shape[-2:], dtype=torch.bool)
    for top, left, m in branches:
        iy, ix = top // 4, left // 4
        h, w = fine[..., iy::8, ix::8].shape[-2:]
        torch.testing.assert_close(fine[..., iy::8, ix::8], m[..., :h, :w], atol=1e-12, rtol=0)
        covered[iy::8, ix::8] = True
    assert covered.all()


def test_the_dense_pass_takes_window_borders_from_the_image_not_zeros():
    """A window inside the image sees its neighbours through the convolutions' padding, as in the
    paper's whole-image pass: it differs from the same window run alone, zero-padded."""
    net = float64_net()
    x = torch.randn(1, 3, 48, 48, dtype=torch.float64)
    with torch.no_grad():
        fine = net.score_map(x, stride=4)
        alone = net(x[..., 8:40, 8:40])
    assert (fine[..., 2, 2] - alone).abs().max() > 1e-3


def test_dense_at_a_224_crop_is_the_nets_own_score_map():
    """At the paper's crop the dense stride is the net's own 32 pixels: one plain pass over the
    whole image, as the paper's fully convolutional net computes it."""
    torch.manual_seed(0)
    net = arch.build("A", num_classes=CLASSES, width=1 / 16, crop=224, fc_width=8, init="glorot").eval()
    x = torch.randn(1, 3, 250, 290)
    with torch.no_grad():
        m, ys, xs = ev.window_scores(net, x)
        native = net.score_map(x)
    assert (ys, xs) == ([0], [0, 32, 64])
    torch.testing.assert_close(m, native, atol=0, rtol=0)


def test_score_map_refuses_a_stride_the_poolings_cannot_give():
    with pytest.raises(ValueError, match="stride must divide 32 by a power of two, got 12"):
        float64_net().score_map(torch.zeros(1, 3, 64, 64, dtype=torch.float64), stride=12)


def test_dense_flip_is_mean_of_image_and_mirror(model):
    imgs = random_images(3, 40, 60, seed=4)  # 48 × 72 at Q = 48: an even border to drop
    both = ev.dense_posteriors(model, FakeSet(imgs), 48, NORM, flip=True)
    plain = ev.dense_posteriors(model, FakeSet(imgs), 48, NORM, flip=False)
    mirrored = ev.dense_posteriors(model, FakeSet([i.flip(-1) for i in imgs]), 48, NORM, flip=False)
    torch.testing.assert_close(both, (plain + mirrored) / 2, atol=1e-5, rtol=0)
    assert (plain - mirrored).abs().max() > 1e-4  # flipping changes the answer


def test_multicrop_1x1_without_flip_is_centre_crop(model):
    imgs = random_images(2, 28, 28, seed=5)  # rescaled to 45x45, centre offset round(6.5) = 6
    got = ev.multicrop_posteriors(model, FakeSet(imgs), 45, NORM, grid=1, flip=False)
    x = prepared(imgs, 45)
    assert x.shape[-2:] == (45, 45)
    expected = softmax_of(model, x[:, :, 6:38, 6:38])
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)
    centre = ev.centre_crop_posteriors(model, FakeSet(imgs), 45, NORM)
    torch.testing.assert_close(centre, expected, atol=1e-5, rtol=0)
    assert (got - softmax_of(model, x[:, :, :32, :32])).abs().max() > 1e-4  # position matters


def test_centre_crop_of_a_wide_image(model):
    imgs = random_images(2, 28, 40, seed=6)  # -> 45 x 64: top 6, left 16
    x = prepared(imgs, 45)
    assert x.shape[-2:] == (45, 64)
    got = ev.centre_crop_posteriors(model, FakeSet(imgs), 45, NORM)
    torch.testing.assert_close(got, softmax_of(model, x[:, :, 6:38, 16:48]), atol=1e-5, rtol=0)


def test_multicrop_5x5_with_flip_at_crop_scale(model):
    imgs = random_images(3, 48, 48, seed=7)
    got = ev.multicrop_posteriors(model, FakeSet(imgs), 32, NORM, grid=5, flip=True)
    x = prepared(imgs, 32)
    expected = (softmax_of(model, x) + softmax_of(model, x.flip(-1))) / 2
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


def test_multicrop_2x2_averages_the_corner_crops(model):
    imgs = random_images(2, 64, 80, seed=8)
    got = ev.multicrop_posteriors(model, FakeSet(imgs), 64, NORM, grid=2, flip=False)
    x = prepared(imgs, 64)  # 64 x 80: tops {0, 32}, lefts {0, 48}
    crops = [x[:, :, t:t + 32, s:s + 32] for t in (0, 32) for s in (0, 48)]
    expected = torch.stack([softmax_of(model, c) for c in crops]).mean(0)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


def test_crop_offsets():
    assert ev.crop_offsets(64, 32, 5) == [0, 8, 16, 24, 32]
    assert ev.crop_offsets(45, 32, 1) == [6]
    assert ev.crop_offsets(32, 32, 5) == [0] * 5
    assert ev.crop_offsets(42, 32, 3) == [0, 5, 10]
    with pytest.raises(ValueError):
        ev.crop_offsets(31, 32, 1)


def test_multicrop_below_crop_scale_zero_pads_the_normalised_image(model):
    imgs = random_images(2, 20, 20, seed=9)
    got = ev.multicrop_posteriors(model, FakeSet(imgs), 24, NORM, grid=1, flip=False)
    x = F.pad(prepared(imgs, 24), (4, 4, 4, 4))  # zero = the mean colour after normalising
    torch.testing.assert_close(got, softmax_of(model, x), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="crop size"):
        ev.dense_posteriors(model, FakeSet(imgs), 24, NORM)


def test_non_uniform_sets_match_batched_evaluation(model):
    mixed = random_images(2, 40, 56, seed=10) + random_images(1, 50, 36, seed=11) \
        + random_images(1, 40, 56, seed=12)
    ragged = FakeSet(mixed)
    assert not ragged.uniform
    for fn, kw in ((ev.dense_posteriors, {}), (ev.multicrop_posteriors, {"grid": 3})):
        got = fn(model, ragged, 40, NORM, batch_size=27, **kw)
        one_by_one = torch.cat([fn(model, FakeSet([img]), 40, NORM, **kw) for img in mixed])
        torch.testing.assert_close(got, one_by_one, atol=1e-5, rtol=0)
    same = random_images(3, 40, 56, seed=13)
    as_list = ev.dense_posteriors(model, FakeSet(same, uniform=False), 40, NORM)
    as_tensor = ev.dense_posteriors(model, FakeSet(same), 40, NORM)
    torch.testing.assert_close(as_list, as_tensor, atol=1e-5, rtol=0)


def test_batch_size_changes_nothing_and_bounds_the_loads(model):
    imgs = random_images(5, 40, 40, seed=14)
    s = FakeSet(imgs)
    big = ev.multicrop_posteriors(model, s, 36, NORM, grid=2, batch_size=256)
    s.loads.clear()
    small = ev.multicrop_posteriors(model, s, 36, NORM, grid=2, batch_size=8)  # 2 images x 4 crops
    assert [len(idx) for idx in s.loads] == [2, 2, 1]
    torch.testing.assert_close(big, small, atol=1e-5, rtol=0)
    s.loads.clear()
    ev.dense_posteriors(model, s, 36, NORM, batch_size=2)
    assert s.loads == [[0, 1], [2, 3], [4]]


def test_dense_passes_hold_the_batch_of_whole_images_and_change_nothing(model):
    """One pass per batch of whole images (and one for their mirror images): batches of 3 give
    the posteriors of one batch of 4."""
    s = FakeSet(random_images(4, 40, 40, seed=16))
    sizes = []
    first = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    hook = first.register_forward_pre_hook(lambda _, args: sizes.append(tuple(args[0].shape)))
    try:
        whole = ev.dense_posteriors(model, s, 48, NORM, batch_size=256)
        assert sizes == [(4, 3, 48, 48)] * 2
        sizes.clear()
        split = ev.dense_posteriors(model, s, 48, NORM, batch_size=3)
    finally:
        hook.remove()
    assert [n for n, *_ in sizes] == [3, 3, 1, 1]
    torch.testing.assert_close(whole, split, atol=1e-5, rtol=0)


def test_posteriors_are_distributions(model):
    imgs = random_images(3, 36, 44, seed=15)
    for method in ev.METHODS:
        p = ev.evaluate(model, FakeSet(imgs), NORM, method, [32, 40], grid=2)
        assert p.shape == (3, CLASSES) and p.dtype == torch.float32
        torch.testing.assert_close(p.sum(1), torch.ones(3), atol=1e-5, rtol=0)
        assert (p >= 0).all()


def test_training_flag_restored_and_dropout_off(model):
    imgs = random_images(2, 40, 40, seed=16)
    model.train()
    try:
        a = ev.dense_posteriors(model, FakeSet(imgs), 40, NORM)
        b = ev.dense_posteriors(model, FakeSet(imgs), 40, NORM)
        assert model.training
        torch.testing.assert_close(a, b, atol=0, rtol=0)  # dropout would make these differ
    finally:
        model.eval()
    ev.multicrop_posteriors(model, FakeSet(imgs), 40, NORM, grid=1)
    assert not model.training


def test_bf16_autocast_is_close(model):
    imgs = random_images(2, 40, 40, seed=17)
    fp32 = ev.dense_posteriors(model, FakeSet(imgs), 40, NORM)
    bf16 = ev.dense_posteriors(model, FakeSet(imgs), 40, NORM, autocast=True)
    assert bf16.dtype == torch.float32
    torch.testing.assert_close(bf16, fp32, atol=0.05, rtol=0)


def test_evaluate_methods(model):
    imgs = random_images(2, 40, 48, seed=18)
    s = FakeSet(imgs)
    qs = [32, 48]
    dense = ev.multi_scale([ev.dense_posteriors(model, s, q, NORM) for q in qs])
    crops = ev.multi_scale([ev.multicrop_posteriors(model, s, q, NORM, grid=2) for q in qs])
    torch.testing.assert_close(ev.evaluate(model, s, NORM, "dense", qs), dense)
    torch.testing.assert_close(ev.evaluate(model, s, NORM, "multi-crop", qs, grid=2), crops)
    torch.testing.assert_close(ev.evaluate(model, s, NORM, "dense+multi-crop", qs, grid=2),
                               ev.combine(dense, crops))
    centre = ev.evaluate(model, s, NORM, "centre", [40])
    torch.testing.assert_close(centre, ev.centre_crop_posteriors(model, s, 40, NORM))
    with pytest.raises(ValueError, match="dense, multi-crop, dense\\+multi-crop, centre"):
        ev.evaluate(model, s, NORM, "ten-crop", qs)


def test_progress_bar_runs(model, capsys):
    ev.dense_posteriors(model, FakeSet(random_images(2, 32, 32)), 32, NORM, progress=True)
    assert "dense Q=32" in capsys.readouterr().err


def test_multi_scale_and_combine_average():
    a = torch.tensor([[0.2, 0.8], [1.0, 0.0]])
    b = torch.tensor([[0.6, 0.4], [0.0, 1.0]])
    c = torch.tensor([[0.1, 0.9], [0.5, 0.5]])
    expected = torch.tensor([[0.3, 0.7], [0.5, 0.5]])
    torch.testing.assert_close(ev.multi_scale([a, b, c]), expected)
    torch.testing.assert_close(ev.combine(a, b, c), expected)
    torch.testing.assert_close(ev.combine(a, b), torch.tensor([[0.4, 0.6], [0.5, 0.5]]))
    torch.testing.assert_close(ev.multi_scale((a,)), a)
    with pytest.raises(ValueError):
        ev.combine()
    with pytest.raises(ValueError, match="shape"):
        ev.combine(a, torch.ones(3, 2))


def test_topk_error_known_answers():
    p = torch.tensor([[0.7, 0.2, 0.1],
                      [0.1, 0.6, 0.3],
                      [0.2, 0.3, 0.5],
                      [0.5, 0.4, 0.1]])
    labels = torch.tensor([0, 1, 2, 1])  # the last is right only at top-2
    assert ev.topk_error(p, labels, 1) == pytest.approx(25.0)
    assert ev.topk_error(p, labels, 2) == pytest.approx(0.0)
    assert ev.errors(p, torch.tensor([1, 1, 0, 2])) == pytest.approx(
        {"top1": 75.0, "top5": 0.0})  # top-5 is top-3 with 3 classes
    assert ev.topk_error(p, torch.tensor([2, 0, 0, 2]), 2) == pytest.approx(100.0)
    ranks = torch.tensor([[0.30, 0.25, 0.20, 0.12, 0.08, 0.05]] * 2)  # 6 classes, by rank
    assert ev.errors(ranks, torch.tensor([4, 5])) == pytest.approx({"top1": 100.0, "top5": 50.0})
    with pytest.raises(ValueError):
        ev.topk_error(p, labels, 4)
    with pytest.raises(ValueError):
        ev.topk_error(p, labels[:3], 1)


def test_test_scales():
    assert ev.q_set((256, 512)) == (256, 384, 512)
    assert ev.q_set(256) == (224, 256, 288)
    assert ev.q_set(384) == (352, 384, 416)
    assert ev.q_set(64, offset=8) == (56, 64, 72)
    assert ev.q_single((256, 512)) == 384
    assert ev.q_single(256) == 256
    with pytest.raises(ValueError):
        ev.q_set((512, 256))


def test_evaluate_command_on_torchvision_and_vgglib_weights(tmp_path, capsys):
    import torchvision

    from vgglib.__main__ import main
    from vgglib.arch import build, save_weights
    from vgglib.weight_files import load_for_evaluation

    torch.manual_seed(0)
    torch.save(torchvision.models.vgg11(num_classes=4).state_dict(), tmp_path / "vgg11.pth")
    assert main(["evaluate", "--weights", str(tmp_path / "vgg11.pth"), "--synthetic", "--q", "224", "256",
                 "--limit", "3", "--batch", "3"]) == 0
    out = capsys.readouterr().out
    assert "dense evaluation" in out and "Q=224 (224 px)" in out and "multi-scale" in out
    model = build("A", num_classes=4, width=1 / 16, crop=32, fc_width=16)
    save_weights(model, tmp_path / "a.safetensors", input_mean=(10.0, 20.0, 30.0))
    net, norm, classes = load_for_evaluation(tmp_path / "a.safetensors")
    assert norm.mean == (10.0, 20.0, 30.0) and norm.scale == 255.0 and classes is None
    _, tv_norm, _ = load_for_evaluation(tmp_path / "vgg11.pth")
    assert tv_norm.scale == 1.0 and tv_norm.std[0] == pytest.approx(0.229)
    assert main(["evaluate", "--weights", str(tmp_path / "a.safetensors"), "--synthetic", "--q", "256",
                 "--method", "multi-crop"]) == 0
    out = capsys.readouterr().out
    assert "multi-crop evaluation" in out and "Q=256 (37 px)" in out
    save_weights(model, tmp_path / "bare.safetensors")
    with pytest.raises(ValueError, match="stores no input mean"):
        load_for_evaluation(tmp_path / "bare.safetensors")
