"""vgglib.data: IDX parsing, Fashion-MNIST discovery and splits, image folders, RGB statistics."""
import gzip
import math
from pathlib import Path

import pytest
import torch
from PIL import Image

from vgglib import data
from vgglib.data import fashion_mnist, find_fashion_mnist, image_folder, imagenet, load_dataset, read_idx, synthetic
from vgglib.images import FolderImages, TensorImages
from vgglib.stats import Stats, cached_stats, compute_stats


def idx_bytes(array: torch.Tensor) -> bytes:
    header = bytes([0, 0, 0x08, array.dim()]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.numpy().tobytes()


@pytest.mark.parametrize("compress", [False, True])
def test_idx_round_trip(tmp_path, compress):
    array = torch.randint(0, 256, (5, 4, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    raw = idx_bytes(array)
    path = tmp_path / ("a.gz" if compress else "a")
    path.write_bytes(gzip.compress(raw) if compress else raw)
    back = read_idx(path)
    assert back.dtype == torch.uint8 and torch.equal(back, array)


def test_idx_big_endian_int32(tmp_path):
    values = torch.tensor([1, -2, 70000], dtype=torch.int32)
    header = bytes([0, 0, 0x0C, 1]) + (3).to_bytes(4, "big")
    path = tmp_path / "ints"
    path.write_bytes(header + values.numpy().astype(">i4").tobytes())
    assert read_idx(path).tolist() == [1, -2, 70000]


def test_idx_malformed_names_file(tmp_path):
    bad_magic = tmp_path / "bad-magic"
    bad_magic.write_bytes(b"\x12\x34\x08\x01" + bytes(8))
    with pytest.raises(ValueError, match="bad-magic.*magic"):
        read_idx(bad_magic)
    truncated = tmp_path / "truncated"
    truncated.write_bytes(idx_bytes(torch.zeros(10, 10, dtype=torch.uint8))[:-7])
    with pytest.raises(ValueError, match="truncated.*truncated"):
        read_idx(truncated)


def write_fake_fashion(folder: Path, n_train: int = 30, n_test: int = 10) -> None:
    folder.mkdir(parents=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = torch.arange(n, dtype=torch.uint8).view(n, 1, 1).expand(n, 28, 28).contiguous()
        labels = (torch.arange(n) % 10).to(torch.uint8)
        (folder / f"{prefix}-images-idx3-ubyte").write_bytes(idx_bytes(images))
        (folder / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(labels)))


def test_find_fashion_mnist_order_and_error(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", tmp_path / "debian")
    monkeypatch.setattr(data, "CACHE_FASHION_MNIST", tmp_path / "cache")
    monkeypatch.delenv("VGGLIB_DATA", raising=False)
    with pytest.raises(FileNotFoundError) as err:
        find_fashion_mnist()
    message = str(err.value)
    for searched in ("debian", "cache"):
        assert str(tmp_path / searched) in message
    assert "apt-get install dataset-fashion-mnist" in message and "vgglib.fetch fashion-mnist" in message
    write_fake_fashion(tmp_path / "cache")
    assert find_fashion_mnist() == tmp_path / "cache"
    write_fake_fashion(tmp_path / "debian")
    assert find_fashion_mnist() == tmp_path / "debian"                     # Debian's copy before the cache
    monkeypatch.setenv("VGGLIB_DATA", str(tmp_path / "env"))
    write_fake_fashion(tmp_path / "env" / "fashion-mnist")
    assert find_fashion_mnist() == tmp_path / "env" / "fashion-mnist"
    write_fake_fashion(tmp_path / "explicit")
    assert find_fashion_mnist(tmp_path / "explicit") == tmp_path / "explicit"


@pytest.mark.parametrize("where", ["explicit", "env"])
def test_a_named_data_folder_never_falls_back(tmp_path, monkeypatch, where):
    """--data / DATA= / data_root / $VGGLIB_DATA at a missing or empty folder is an error naming
    it, even though Debian's copy (here a fake one) exists."""
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", tmp_path / "debian")
    write_fake_fashion(tmp_path / "debian")
    (tmp_path / "empty").mkdir()
    for folder in (tmp_path / "missing", tmp_path / "empty"):
        if where == "env":
            monkeypatch.setenv("VGGLIB_DATA", str(folder))
        with pytest.raises(FileNotFoundError, match=f"{folder}, (does not exist|holds no)"):
            find_fashion_mnist(folder if where == "explicit" else None)


def test_fingerprint_follows_the_content(tmp_path):
    """The run key's data identity: same bytes → same fingerprint; a changed label → a new one."""
    write_fake_fashion(tmp_path / "a")
    write_fake_fashion(tmp_path / "b")
    fa, fb = fashion_mnist(tmp_path / "a", val_size=5), fashion_mnist(tmp_path / "b", val_size=5)
    assert fa.fingerprint == fb.fingerprint
    labels = tmp_path / "b" / "train-labels-idx1-ubyte.gz"
    shifted = (torch.arange(30) % 10 + 1).remainder(10).to(torch.uint8)
    labels.write_bytes(gzip.compress(idx_bytes(shifted)))
    assert fashion_mnist(tmp_path / "b", val_size=5).fingerprint != fa.fingerprint
    assert synthetic(seed=0).fingerprint == synthetic(seed=0).fingerprint != synthetic(seed=1).fingerprint


def test_fashion_mnist_limits_on_fake_files(tmp_path):
    write_fake_fashion(tmp_path / "f")
    splits = fashion_mnist(tmp_path / "f", val_size=5, train_limit=20, test_limit=4)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (20, 5, 4)
    train_ids = set(splits.train.images[:, 0, 0, 0].tolist())
    val_ids = set(splits.val.images[:, 0, 0, 0].tolist())
    assert len(train_ids) == 20 and len(val_ids) == 5 and not train_ids & val_ids
    assert splits.test.images[:, 0, 0, 0].tolist() == [0, 1, 2, 3]
    assert splits.test.labels.tolist() == [0, 1, 2, 3]


def test_fashion_mnist_debian():
    if not all((data.DEBIAN_FASHION_MNIST / f"{n}.gz").exists() for n in data.FASHION_MNIST_FILES):
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    a = fashion_mnist()
    assert (len(a.train), len(a.val), len(a.test)) == (55000, 5000, 10000)
    assert a.train.uniform and a.train.classes[0] == "T-shirt/top" and len(a.train.classes) == 10
    x, y = a.train.load(torch.tensor([0, 1, 2]))
    assert x.shape == (3, 3, 28, 28) and x.dtype == torch.uint8 and y.dtype == torch.int64
    assert torch.equal(x[:, 0], x[:, 1]) and torch.equal(x[:, 0], x[:, 2])
    b = fashion_mnist(data.DEBIAN_FASHION_MNIST)
    assert torch.equal(a.val.images, b.val.images) and torch.equal(a.val.labels, b.val.labels)
    assert torch.bincount(a.test.labels).tolist() == [1000] * 10
    c = fashion_mnist(seed=1, train_limit=100, test_limit=50)
    assert (len(c.train), len(c.test)) == (100, 50)
    assert not torch.equal(c.val.labels, a.val.labels)


def test_tensor_images_grey_to_rgb_and_subset():
    images = torch.arange(4 * 2 * 2, dtype=torch.uint8).view(4, 1, 2, 2)
    s = TensorImages(images, [0, 1, 0, 1], ["a", "b"])
    x, y = s.load([3, 1])
    assert x.shape == (2, 3, 2, 2) and torch.equal(x[:, 2], images[[3, 1], 0])
    assert y.tolist() == [1, 1]
    sub = s.subset([2, 3]).subset([1])
    assert torch.equal(sub.load([0])[0][0, 0], images[3, 0]) and sub.labels.tolist() == [1]
    with pytest.raises(ValueError, match="uint8"):
        TensorImages(images.float(), [0, 1, 0, 1], ["a", "b"])


def write_png(path: Path, colour: tuple[int, int, int], size=(6, 5)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)


def test_folder_images(tmp_path):
    write_png(tmp_path / "cat" / "a.png", (255, 0, 0))
    write_png(tmp_path / "cat" / "B.PNG", (0, 255, 0), size=(3, 7))
    write_png(tmp_path / "dog" / "sub" / "c.png", (0, 0, 255))
    (tmp_path / "dog" / "notes.txt").write_text("not an image")
    s = FolderImages(tmp_path)
    assert s.classes == ["cat", "dog"] and len(s) == 3 and s.labels.tolist() == [0, 0, 1]
    assert not s.uniform
    images, labels = s.load([2, 0])
    assert labels.tolist() == [1, 0]
    assert images[0].shape == (3, 5, 6) and images[0].dtype == torch.uint8
    assert images[0][:, 0, 0].tolist() == [0, 0, 255] and images[1].shape == (3, 7, 3)
    sub = s.subset([2])
    assert sub.labels.tolist() == [1] and sub.load([0])[0][0][:, 0, 0].tolist() == [0, 0, 255]
    corrupt = tmp_path / "dog" / "broken.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n definitely not a png")
    s = FolderImages(tmp_path)
    bad = s.paths.index(str(corrupt))
    with pytest.raises(Exception, match="broken.png") as err:
        s.load([bad])
    assert str(corrupt) in str(err.value)


def test_folder_images_missing_and_empty(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.*<class>"):
        FolderImages(tmp_path / "nowhere")
    (tmp_path / "empty" / "cat").mkdir(parents=True)
    with pytest.raises(ValueError, match="no images.*empty.*<class>"):
        FolderImages(tmp_path / "empty")


def test_image_folder_and_imagenet_splits(tmp_path):
    for split, n in (("train", 6), ("val", 2)):
        for wnid in ("n00000001", "n00000002"):
            for i in range(n):
                write_png(tmp_path / split / wnid / f"{i}.JPEG", (i, 0, 0))
    s = imagenet(tmp_path, val_size=4)
    assert (len(s.train), len(s.val), len(s.test)) == (8, 4, 4)
    assert s.test.classes == s.train.classes == ["n00000001", "n00000002"]
    assert sorted(s.train.indices.tolist() + s.val.indices.tolist()) == list(range(12))
    assert torch.equal(imagenet(tmp_path, val_size=4).val.indices, s.val.indices)
    f = load_dataset("folder", tmp_path, val_size=0.25)
    assert (len(f.train), len(f.val)) == (9, 3)
    limited = image_folder(tmp_path, val_size=0.25, train_limit=2, test_limit=3)
    assert (len(limited.train), len(limited.test)) == (2, 3)
    assert torch.equal(limited.train.indices, f.train.indices[:2])
    (tmp_path / "val" / "loose.jpg").write_bytes(b"")
    with pytest.raises(ValueError, match="class folders"):
        imagenet(tmp_path)
    with pytest.raises(FileNotFoundError, match="expected .*train/<class>"):
        image_folder(tmp_path / "val")


def test_load_dataset_unknown_name():
    with pytest.raises(ValueError, match="fashion-mnist.*imagenet.*folder.*synthetic"):
        load_dataset("cifar-10")


def test_synthetic_deterministic_and_learnable():
    a, b = synthetic(seed=3), synthetic(seed=3)
    assert torch.equal(a.train.images, b.train.images) and torch.equal(a.test.labels, b.test.labels)
    assert (len(a.train), len(a.val), len(a.test)) == (256, 64, 64)
    x, _ = a.train.load(range(4))
    assert x.shape == (4, 3, 28, 28) and x.dtype == torch.uint8
    assert synthetic(channels=1).train.images.shape[1] == 1
    # Nearest class mean of the training images classifies the test images well above chance.
    xtr, ytr = a.train.load(range(len(a.train)))
    xte, yte = a.test.load(range(len(a.test)))
    means = torch.stack([xtr[ytr == k].float().mean(0) for k in range(4)])
    pred = torch.cdist(xte.float().flatten(1), means.flatten(1)).argmin(1)
    assert (pred == yte).float().mean() > 0.6


def test_stats_constant_colour():
    images = torch.tensor([10, 200, 30], dtype=torch.uint8).view(1, 3, 1, 1).expand(5, 3, 4, 4).contiguous()
    stats = compute_stats(TensorImages(images, [0] * 5, ["x"]))
    assert stats.mean == (10.0, 200.0, 30.0)
    assert max(stats.eigval) < 1e-6
    v = torch.tensor(stats.eigvec)
    assert torch.allclose(v.T @ v, torch.eye(3, dtype=v.dtype), atol=1e-6)


def test_stats_grey_images_and_sampling():
    g = torch.Generator().manual_seed(0)
    grey = TensorImages(torch.randint(0, 256, (50, 1, 8, 8), dtype=torch.uint8, generator=g), [0] * 50, ["x"])
    stats = compute_stats(grey)
    assert stats.eigval[0] > 1000 and max(stats.eigval[1:]) < 1e-6
    first = torch.tensor(stats.eigvec)[:, 0]
    assert torch.allclose(first, torch.full((3,), 1 / math.sqrt(3), dtype=first.dtype), atol=1e-6)
    x, _ = grey.load(range(50))
    assert abs(stats.mean[0] - x.double().mean().item()) < 1e-9
    sampled = compute_stats(grey, max_images=10, seed=1)
    assert sampled.mean != stats.mean and sampled == compute_stats(grey, max_images=10, seed=1)


def test_stats_of_file_images(tmp_path):
    write_png(tmp_path / "a" / "1.png", (0, 100, 200), size=(2, 2))
    write_png(tmp_path / "a" / "2.png", (100, 100, 100), size=(4, 2))
    stats = compute_stats(FolderImages(tmp_path))
    assert stats.mean == pytest.approx((200 / 3, 100.0, 400 / 3))


def test_cached_stats_writes_then_reuses(tmp_path):
    s = synthetic(n_train=16, n_val=0, n_test=0).train
    cache = tmp_path / "deep" / "stats.json"
    first = cached_stats(s, cache)
    assert cache.is_file() and Stats.from_json(cache.read_text()) == first
    cache.write_text(Stats((1.0, 2.0, 3.0), (1.0, 0.0, 0.0), [[1, 0, 0], [0, 1, 0], [0, 0, 1]]).to_json())
    assert cached_stats(s, cache).mean == (1.0, 2.0, 3.0)


def test_profile_splits_smoke_and_synthetic():
    from vgglib.profiles import get_profile
    smoke = get_profile("smoke")
    splits = data.profile_splits(smoke.with_(dataset="synthetic"))
    assert (len(splits.train), len(splits.val), len(splits.test)) == (512, 128, 128)
    if all((data.DEBIAN_FASHION_MNIST / f"{n}.gz").exists() for n in data.FASHION_MNIST_FILES):
        fm = data.profile_splits(smoke)
        assert (fm.name, len(fm.train), len(fm.val), len(fm.test)) == ("fashion-mnist", 512, 128, 128)
        quick = data.profile_splits(get_profile("quick"))
        assert (len(quick.train), len(quick.test)) == (55000, 10000)
