"""The tables on a user's own data: ``vgglib reproduce table4 --dataset folder --data PATH`` on
a small generated image-folder tree, end to end through the CLI, its provenance naming the
data set and its fingerprint."""
import json
from pathlib import Path

import numpy as np
from PIL import Image

from vgglib.__main__ import main
from vgglib.results import provenance_line

COLOURS = {"red": (200, 40, 40), "green": (40, 200, 40), "blue": (40, 40, 200)}


def make_tree(root: Path, per_class: dict[str, int]) -> None:
    """``root/<split>/<class>/<n>.png``: 16-px images of one colour each, with noise."""
    rng = np.random.default_rng(0)
    for split, n in per_class.items():
        for name, colour in COLOURS.items():
            (root / split / name).mkdir(parents=True)
            for i in range(n):
                pixels = np.clip(np.array(colour) + rng.normal(0, 30, (16, 16, 3)), 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(root / split / name / f"{i}.png")


def test_table4_on_an_image_folder(tmp_path, capsys):
    make_tree(tmp_path / "digits", {"train": 20, "test": 6})
    args = ["reproduce", "table4", "--profile", "smoke", "--data", str(tmp_path / "digits"), "--dataset", "folder",
            "--set", "val_size=0.1", "batch=16", "--runs", str(tmp_path / "runs"),
            "--results", str(tmp_path / "results"), "--quiet"]
    assert main(args) == 0, capsys.readouterr().err
    record = json.loads((tmp_path / "results" / "table4.json").read_text())
    prov = record["provenance"]
    assert prov["dataset"].startswith("folder-54-6-") and prov["data_root"] == str(tmp_path / "digits")
    assert len(prov["fingerprint"]) == 16 and prov["test_images"] == 18
    assert f"content fingerprint `{prov['fingerprint']}`" in provenance_line(prov)
    assert all(0 <= row["multi"]["top1"] <= 100 for row in record["rows"].values())
    (tmp_path / "digits" / "test" / "red" / "0.png").unlink()   # new data: nothing reused
    assert main(args) == 0
    again = json.loads((tmp_path / "results" / "table4.json").read_text())["provenance"]
    assert again["fingerprint"] != prov["fingerprint"] and again["test_images"] == 17
