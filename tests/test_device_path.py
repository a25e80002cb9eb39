"""§3.1's dropout and augmentation on the training device: counter-hash masks that are a pure
function of (sample, layer, element), batches from a set held on the device equal to the
pixel to the loader's own, training equal to the CPU path, and no wait on the device inside
an epoch's steps."""
import pytest
import torch
from test_train import tiny_profile

from vgglib import data, fastdata, train
from vgglib.augment import Augmenter, BatchLoader, Normalise
from vgglib.dropout import SampleDropout, fold, keep_mask, mix32, sample_dropout, sample_keys
from vgglib.runs import Row, RunStore, make_spec
from vgglib.stats import compute_stats


def test_the_hash_is_a_bijection_on_32_bits_and_stays_in_range():
    x = torch.arange(0, 1 << 20, dtype=torch.int64) * 4093
    h = mix32(x & 0xFFFFFFFF)
    assert int(h.min()) >= 0 and int(h.max()) < 1 << 32
    assert len(torch.unique(h)) == len(x)                       # distinct inputs, distinct outputs
    assert not torch.equal(fold(1, 2), fold(2, 1))
    assert torch.equal(fold(7, torch.tensor([3, 9]))[1], fold(7, 9))   # broadcasting keeps each value


def test_masks_keep_one_minus_p_independently_of_neighbours_samples_and_layers():
    keys = sample_keys(seed=0, epoch=3, first=0, n=512)
    keep = keep_mask(keys, slot=6, shape=(2048,), p=0.5).float()
    n = keep.numel()
    assert abs(keep.mean().item() - 0.5) < 4 * 0.5 / n ** 0.5
    centred = keep - keep.mean()
    for a, b in ((centred[:, 1:], centred[:, :-1]), (centred[1:], centred[:-1])):   # element and sample neighbours
        corr = (a * b).mean() / centred.var()
        assert abs(corr.item()) < 4 / a.numel() ** 0.5
    other = keep_mask(keys, slot=7, shape=(2048,), p=0.5).float()
    assert abs((other == keep).float().mean().item() - 0.5) < 0.01       # fc7 unrelated to fc6
    assert abs(keep_mask(keys, 6, (4096,), 0.2).float().mean().item() - 0.8) < 0.01


def test_a_samples_mask_does_not_depend_on_the_batch_it_is_in():
    """Two ranks holding halves of a batch compute the masks of one process holding all of it."""
    whole = keep_mask(sample_keys(1, 2, first=64, n=8), 6, (32, 1, 1), 0.5)
    halves = [keep_mask(sample_keys(1, 2, first=64 + 4 * r, n=4), 6, (32, 1, 1), 0.5) for r in range(2)]
    assert torch.equal(whole, torch.cat(halves))
    layer = SampleDropout(0.5, slot=6).train()
    x = torch.ones(8, 32, 1, 1)
    with sample_dropout(layer, sample_keys(1, 2, first=64, n=8)):
        out = layer(x)
    assert torch.equal(out, whole.float() * 2)


def test_the_loader_keys_each_rank_by_the_samples_place_in_the_epoch():
    splits = data.profile_splits(tiny_profile())
    aug = Augmenter(32, 37, compute_stats(splits.train))
    ranks = [BatchLoader(splits.train, aug, 16, seed=5, rank=r, world=2) for r in range(2)]
    one = BatchLoader(splits.train, aug, 16, seed=5)
    assert torch.equal(one.sample_keys(1, 3), torch.cat([r.sample_keys(1, 3) for r in ranks]))
    assert not torch.equal(one.sample_keys(1, 3), one.sample_keys(2, 3))


@pytest.mark.parametrize("scale", [37, (37, 73)])
def test_batches_from_the_device_copy_equal_the_loaders_own_to_the_pixel(scale):
    splits = data.profile_splits(tiny_profile())
    stats = compute_stats(splits.train)
    loader = BatchLoader(splits.train, Augmenter(32, scale, stats, Normalise(stats.mean)), 16, seed=2)
    resident = fastdata.Resident.of(splits.train, torch.device("cpu"))
    ours = list(fastdata.resident_batches(loader, 1, resident, start_step=1))
    theirs = list(loader.epoch(1, start_step=1))
    assert len(ours) == len(theirs) == loader.steps_per_epoch - 1
    for (x, y), (x0, y0) in zip(ours, theirs, strict=True):
        assert torch.equal(x, x0) and torch.equal(y, y0)


def test_training_from_the_device_copy_equals_training_from_the_loader(tmp_path, monkeypatch):
    p = tiny_profile(max_epochs=1)
    splits = data.profile_splits(p)
    spec = make_spec(Row.parse("A/256"), p, train.dataset_id(splits), 0, None)
    resident = train.train(spec, RunStore(tmp_path / "a"), splits, p, progress=False)
    monkeypatch.setattr(fastdata, "in_memory", lambda images: None)        # the loader's own batches
    loader = train.train(spec, RunStore(tmp_path / "b"), splits, p, progress=False)
    for (name, a), (_, b) in zip(resident.state_dict().items(), loader.state_dict().items(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=name)


def test_an_epoch_reads_the_loss_only_at_log_points(tmp_path, monkeypatch):
    """Every ``.item()`` waits for the device: an epoch may read one per LOG_EVERY steps, one per
    checkpoint and one at its end, not one a step."""
    p = tiny_profile(max_epochs=1, train_limit=0, ckpt_every_steps=1000)
    splits = data.profile_splits(p)
    spec = make_spec(Row.parse("A/256"), p, train.dataset_id(splits), 0, None)
    monkeypatch.setattr(train, "LOG_EVERY", 4)
    reads, item = [], torch.Tensor.item

    def counted(self):
        reads.append(1)
        return item(self)

    steps = len(splits.train) // p.batch
    monkeypatch.setattr(train.Loop, "evaluate", lambda self, norm: 50.0)   # validation is not a step
    monkeypatch.setattr(torch.Tensor, "item", counted)
    train.train(spec, RunStore(tmp_path), splits, p, progress=False)
    assert steps >= 8 and len(reads) <= steps // 4 + 2
