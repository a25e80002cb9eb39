"""vgglib.augment: §3.1 training augmentation (scale jitter, crop, flip, colour shift) and batches."""
import math

import pytest
import torch
from PIL import Image
from torch import nn

from vgglib.augment import Augmenter, BatchLoader, Normalise, rescale, rescaled_size, sample_geometry
from vgglib.data import synthetic
from vgglib.images import FolderImages, TensorImages
from vgglib.stats import Stats, compute_stats

IDENTITY = Stats((0.0, 0.0, 0.0), (0.0, 0.0, 0.0), [[1, 0, 0], [0, 1, 0], [0, 0, 1]])
ZERO = Normalise((0.0, 0.0, 0.0))


def random_images(n=6, h=20, w=28, seed=0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 3, h, w), dtype=torch.uint8, generator=g)


def geometry(n, scale, seed=0):
    return sample_geometry(n, scale, torch.Generator().manual_seed(seed))


def test_sample_geometry_jitter_range_and_reproducible():
    g = geometry(2000, (32, 40))
    assert g["S"].dtype == torch.int64 and g["S"].min() == 32 and g["S"].max() == 40
    assert set(g["S"].tolist()) == set(range(32, 41))
    for k in ("u", "v"):
        assert g[k].min() >= 0 and g[k].max() <= 1 and g[k].std() > 0.2
    assert g["flip"].dtype == torch.bool and 0.4 < g["flip"].float().mean() < 0.6
    assert g["alpha"].shape == (2000, 3) and abs(g["alpha"].std().item() - 0.1) < 0.01
    again = geometry(2000, (32, 40))
    assert all(torch.equal(g[k], again[k]) for k in g)
    assert not torch.equal(g["u"], geometry(2000, (32, 40), seed=1)["u"])
    fixed = geometry(100, 256)
    assert fixed["S"].unique().tolist() == [256]
    with pytest.raises(ValueError, match="Smin"):
        geometry(4, (40, 32))


def test_augmenter_shape_and_dtype():
    x = random_images()
    out = Augmenter(16, (20, 24), IDENTITY)(x, geometry(6, (20, 24)))
    assert out.shape == (6, 3, 16, 16) and out.dtype == torch.float32


@pytest.mark.parametrize("h,w", [(20, 28), (28, 20)])
def test_batched_crop_equals_rescale_then_slice(h, w):
    x = random_images(h=h, w=w)
    crop, scale = 24, (24, 45)
    g = geometry(len(x), scale, seed=2)
    out = Augmenter(crop, scale, IDENTITY, ZERO, flip=False, colour_std=0)(x, g)
    for i in range(len(x)):
        s = int(g["S"][i])
        r = rescale(x[i:i + 1], s)[0]
        assert r.shape[-2:] == rescaled_size(h, w, s)
        y0 = round(float(g["v"][i]) * (r.shape[1] - crop))
        x0 = round(float(g["u"][i]) * (r.shape[2] - crop))
        expected = r[:, y0:y0 + crop, x0:x0 + crop]
        assert torch.allclose(out[i], expected, atol=2e-3), (i, (out[i] - expected).abs().max())


def test_batched_and_list_paths_agree_including_shrinking():
    x = random_images(n=8, h=30, w=30)
    aug = Augmenter(16, (16, 44), IDENTITY, ZERO, flip=True, colour_std=0)
    g = geometry(8, (16, 44), seed=5)
    assert (g["S"] < 30).any() and (g["S"] > 30).any()
    assert torch.allclose(aug(x, g), aug(list(x), g), atol=2e-3)


def test_flip_mirrors():
    x = random_images()
    aug = Augmenter(16, (20, 30), IDENTITY, ZERO, colour_std=0)
    g = geometry(6, (20, 30))
    g_on = dict(g, flip=torch.ones(6, dtype=torch.bool))
    g_off = dict(g, flip=torch.zeros(6, dtype=torch.bool))
    plain = aug(x, g_off)
    assert torch.equal(aug(x, g_on), torch.flip(plain, [-1]))
    assert not torch.equal(plain, torch.flip(plain, [-1]))
    no_flip = Augmenter(16, (20, 30), IDENTITY, ZERO, flip=False, colour_std=0)
    assert torch.equal(no_flip(x, g_on), plain)


def test_colour_shift_of_grey_stats_is_equal_on_all_channels():
    grey = TensorImages(random_images(n=10)[:, :1], [0] * 10, ["x"])
    stats = compute_stats(grey)
    x, _ = grey.load(range(10))
    g = geometry(10, 24)
    shifted = Augmenter(16, 24, stats, ZERO)(x, g)
    plain = Augmenter(16, 24, stats, ZERO, colour_std=0)(x, g)
    delta = (shifted - plain).mean(dim=(2, 3))
    assert torch.allclose(delta[:, 0], delta[:, 1], atol=1e-3)
    assert torch.allclose(delta[:, 0], delta[:, 2], atol=1e-3)
    expected = g["alpha"][:, 0] * math.sqrt(stats.eigval[0]) / math.sqrt(3)
    assert torch.allclose(delta[:, 0], expected, atol=1e-3) and expected.abs().min() > 0.01


def test_colour_shift_formula_and_mean_subtraction():
    v = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(0)))[0]
    stats = Stats((50.0, 60.0, 70.0), (400.0, 100.0, 25.0), v.tolist())
    x = torch.tensor([50, 60, 70], dtype=torch.uint8).view(1, 3, 1, 1).expand(4, 3, 8, 8)
    g = geometry(4, 8)
    assert torch.allclose(Augmenter(8, 8, stats, colour_std=0)(x, g), torch.zeros(4, 3, 8, 8))
    out = Augmenter(8, 8, stats, colour_std=0.2)(x, g)
    expected = (v @ (2 * g["alpha"] * torch.tensor([20.0, 10.0, 5.0])).T).T
    assert torch.allclose(out, expected.view(4, 3, 1, 1).expand_as(out), atol=1e-4)


def test_scale_smaller_than_crop_is_an_error():
    with pytest.raises(ValueError, match="smaller than the 32"):
        Augmenter(32, (28, 40), IDENTITY)
    aug = Augmenter(16, 20, IDENTITY)
    with pytest.raises(ValueError, match="S=12"):
        aug(random_images(n=2), geometry(2, 12))


def make_loader(images, batch_size=8, seed=3, **kw):
    aug = Augmenter(24, (24, 32), compute_stats(images))
    return BatchLoader(images, aug, batch_size, seed, **kw)


def test_batch_loader_deterministic_and_epochs_differ():
    train = synthetic(n_train=44, n_val=0, n_test=0).train
    loader = make_loader(train)
    assert loader.steps_per_epoch == 5 == len(list(loader.epoch(0)))
    a, b = list(loader.epoch(0)), list(make_loader(train).epoch(0))
    assert all(torch.equal(xa, xb) and torch.equal(ya, yb) for (xa, ya), (xb, yb) in zip(a, b))
    assert a[0][0].shape == (8, 3, 24, 24) and a[0][1].dtype == torch.int64
    seen = torch.cat([y for _, y in a])
    assert torch.equal(seen, train.labels[loader.order(0)[:40]])
    assert not torch.equal(a[0][0], next(iter(loader.epoch(1)))[0])
    assert not torch.equal(a[0][0], next(iter(make_loader(train, seed=4).epoch(0)))[0])


def test_batch_loader_two_ranks_equal_one_process():
    train = synthetic(n_train=40, n_val=0, n_test=0).train
    single = list(make_loader(train).epoch(2))
    ranks = [list(make_loader(train, rank=r, world=2).epoch(2)) for r in range(2)]
    for step, (x, y) in enumerate(single):
        assert ranks[0][step][0].shape[0] == 4
        assert torch.equal(torch.cat([ranks[0][step][0], ranks[1][step][0]]), x)
        assert torch.equal(torch.cat([ranks[0][step][1], ranks[1][step][1]]), y)
    with pytest.raises(ValueError, match="multiple of the 3"):
        make_loader(train, world=3)


def test_batch_loader_resume_mid_epoch():
    train = synthetic(n_train=48, n_val=0, n_test=0).train
    loader = make_loader(train)
    full = list(loader.epoch(1))
    resumed = list(loader.epoch(1, start_step=3))
    assert len(resumed) == len(full) - 3
    assert all(torch.equal(r[0], f[0]) and torch.equal(r[1], f[1]) for r, f in zip(resumed, full[3:]))


def test_batch_loader_file_images_with_worker(tmp_path):
    for i in range(6):
        path = tmp_path / f"c{i % 2}" / f"{i}.png"
        path.parent.mkdir(exist_ok=True)
        Image.fromarray(random_images(n=1, h=26 + i, w=30, seed=i)[0].permute(1, 2, 0).numpy()).save(path)
    images = FolderImages(tmp_path)
    in_process = list(make_loader(images, batch_size=2).epoch(0))
    workers = list(make_loader(images, batch_size=2, workers=1).epoch(0))
    assert len(in_process) == 3
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(in_process, workers))


def test_augmented_synthetic_batches_are_learnable():
    splits = synthetic(n_train=256, seed=0)
    loader = make_loader(splits.train, batch_size=32)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 5, padding=2), nn.ReLU(), nn.MaxPool2d(4), nn.Flatten(),
                          nn.Linear(8 * 6 * 6, 4))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    losses = []
    for epoch in range(3):
        for x, y in loader.epoch(epoch):
            loss = nn.functional.cross_entropy(model(x / 64), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    assert sum(losses[-4:]) / 4 < 0.7 * sum(losses[:4]) / 4
