"""The GPU-feeding data path, on the CPU: the device path gives today's batches, and training
from the pre-resized copy gives today's crops up to JPEG and resampling rounding."""
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from vgglib import fastdata
from vgglib.augment import Augmenter, BatchLoader
from vgglib.images import FolderImages
from vgglib.stats import Stats

#: Stated tolerance of the pre-resized path (0–255 pixel units, after mean subtraction): the
#: copy is resampled once more and re-encoded at quality 95, so single pixels move by a few
#: levels at edges; the mean over a crop must stay within 2 levels, single pixels within 40.
MEAN_TOL, MAX_TOL = 2.0, 40.0


def smooth_jpegs(root: Path, sizes: list[tuple[int, int]]) -> None:
    """Photo-like smooth colour fields as JPEGs (w×h each) in two class folders."""
    g = torch.Generator().manual_seed(0)
    for i, (w, h) in enumerate(sizes):
        coarse = torch.rand(1, 3, 6, 8, generator=g)
        rgb = torch.nn.functional.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=False)[0]
        arr = (rgb.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
        folder = root / f"class{i % 2}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.ascontiguousarray(arr)).save(folder / f"{i:03d}.jpg", quality=95)


def loader(root: Path) -> BatchLoader:
    stats = Stats(mean=(120.0, 110.0, 100.0), eigval=(300.0, 30.0, 3.0), eigvec=torch.eye(3).tolist())
    return BatchLoader(FolderImages(root), Augmenter(64, (70, 128), stats), 4, seed=3)


def test_device_path_equals_the_cpu_path(tmp_path):
    smooth_jpegs(tmp_path, [(120, 90), (90, 120), (160, 100), (100, 100)] * 2)
    cpu = loader(tmp_path)
    for (x0, y0), (x1, y1) in zip(cpu.epoch(1), fastdata.device_batches(cpu, 1, "cpu")):
        torch.testing.assert_close(x0, x1)
        assert torch.equal(y0, y1)


def test_pre_resized_copy_gives_the_same_crops_up_to_rounding(tmp_path):
    sizes = [(400, 300), (300, 400), (120, 90), (500, 200)] * 2      # most larger than the copy's 128
    smooth_jpegs(tmp_path / "train", sizes)
    written = fastdata.preresize(tmp_path / "train", tmp_path / "small", smallest=128, progress=False)
    assert written == len(sizes)
    assert fastdata.preresize(tmp_path / "train", tmp_path / "small", smallest=128, progress=False) == 0, \
        "a second run resumes: nothing left to write"
    for path in (tmp_path / "small").rglob("*.jpg"):
        with Image.open(path) as im:
            assert min(im.size) <= 128
    a, b = loader(tmp_path / "train"), loader(tmp_path / "small")
    for (xa, ya), (xb, yb) in zip(a.epoch(0), b.epoch(0)):
        assert torch.equal(ya, yb)
        diff = (xa - xb).abs()
        assert diff.mean() < MEAN_TOL and diff.max() < MAX_TOL, (diff.mean(), diff.max())

