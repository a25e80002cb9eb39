"""``vgglib evaluate`` on a net's own classes: an ImageNet VGG on a folder of a few WordNet-id
classes, a Fashion-MNIST net on folders named by sanitised class names, and the refusals."""
import fnmatch
import re
import tomllib
from pathlib import Path

import pytest
import torch
import torchvision
from PIL import Image

from vgglib.__main__ import main
from vgglib.arch import build, save_weights
from vgglib.augment import TORCHVISION_NORMALISE
from vgglib.data import FASHION_MNIST_CLASSES
from vgglib.images import FolderImages, match_classes, sanitised
from vgglib.weight_files import SYNSETS_FILE, class_columns, class_names, imagenet_synsets, restricted

ROOT = Path(__file__).resolve().parent.parent
#: Three ImageNet classes far apart in the index order: goldfish, balloon, toilet tissue.
WNIDS = {"n01443537": 1, "n02782093": 417, "n15075141": 999}


def write_png(path: Path, image: torch.Tensor) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image.permute(1, 2, 0).numpy()).save(path)


def folder_by_prediction(root: Path, images: torch.Tensor, restricted_logits: torch.Tensor,
                         folders: list[str], right: int) -> torch.Tensor:
    """Write each image into a class folder: the first ``right`` into the class its restricted
    logits rank first, the rest into the next one, so the restricted top-1 error is known.
    Returns each image's folder index (in sorted folder order)."""
    for name in folders:
        (root / name).mkdir(parents=True, exist_ok=True)
    best = restricted_logits.argmax(1)
    labels = torch.where(torch.arange(len(images)) < right, best, (best + 1) % len(folders))
    for i, (image, label) in enumerate(zip(images, labels.tolist())):
        write_png(root / folders[label] / f"{i}.png", image)
    return labels


def printed_errors(out: str) -> tuple[float, float]:
    top1, top5 = re.search(r"top-1\s+([\d.]+)%\s+top-5\s+([\d.]+)%", out).groups()
    return float(top1), float(top5)


def topk_error(logits: torch.Tensor, targets: torch.Tensor, k: int) -> float:
    hits = (logits.topk(min(k, logits.shape[1]), dim=1).indices == targets[:, None]).any(1)
    return 100.0 * (1 - hits.float().mean().item())


def test_the_synset_list_is_the_standard_ilsvrc_order_and_ships_with_the_package():
    synsets = imagenet_synsets()
    wnids = [w for w, _ in synsets]
    assert len(synsets) == len(set(wnids)) == 1000 and wnids == sorted(wnids)
    assert synsets[0] == ("n01440764", "tench") and synsets[1] == ("n01443537", "goldfish")
    assert synsets[999] == ("n15075141", "toilet tissue")
    assert all(re.fullmatch(r"n\d{8}", w) for w in wnids)
    categories = torchvision.models.VGG16_Weights.IMAGENET1K_V1.meta["categories"]
    assert [n for _, n in synsets] == categories  # the order torchvision's weights answer in
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["vgglib"]
    assert any(fnmatch.fnmatch(SYNSETS_FILE.name, p) for p in patterns)


def test_sanitised_names():
    assert sanitised("T-shirt/top") == "t-shirt-top"
    assert sanitised("Ankle boot") == "ankle-boot"
    assert sanitised("  __Great  white/shark!__ ") == "great-white-shark"
    assert sanitised("n01440764") == "n01440764"


def test_a_restricted_net_answers_only_the_chosen_outputs_in_their_order():
    """Its every window and crop gives the chosen classes' scores alone, so each soft-max runs
    over those classes (not a renormalised share of the full posteriors)."""
    torch.manual_seed(0)
    net = build("A", num_classes=10, width=1 / 16, crop=32, fc_width=16, init="glorot").eval()
    x = torch.randn(2, 3, 48, 40)
    with torch.no_grad():
        dense, crop = net.score_map(x, stride=4), net(x[..., :32, :32])
        cut = restricted(net, [7, 2, 5])
        assert cut.layers[-1].out_ch == 3 and cut.score_map(x, stride=4).shape[1] == 3
        torch.testing.assert_close(cut.score_map(x, stride=4), dense[:, [7, 2, 5]])
        torch.testing.assert_close(cut(x[..., :32, :32]), crop[:, [7, 2, 5]])


@pytest.fixture(scope="module")
def vgg11(tmp_path_factory) -> tuple[torch.nn.Module, Path]:
    """A random-weight torchvision VGG11 (1,000 ImageNet outputs) and its saved state dict.

    Its logits span less than ±0.4; goldfish and toilet tissue are lifted by 1 above all other
    classes, so that the errors over all 1,000 classes are not trivially 100%."""
    torch.manual_seed(0)
    net = torchvision.models.vgg11(weights=None).eval()
    with torch.no_grad():
        net.classifier[6].bias[[1, 999]] += 1.0
    path = tmp_path_factory.mktemp("torchvision") / "vgg11.pth"
    torch.save(net.state_dict(), path)
    return net, path


def test_a_torchvision_vgg_on_three_wordnet_id_folders(vgg11, tmp_path, capsys):
    """Scored over the folder's classes, the top-1 error is that of torchvision's own logits
    restricted to the three classes' columns; over all 1,000, that of the full logits."""
    net, path = vgg11
    images = torch.randint(0, 256, (6, 3, 224, 224), dtype=torch.uint8,
                           generator=torch.Generator().manual_seed(1))  # Q = 224: no rescaling
    with torch.no_grad():
        logits = net(TORCHVISION_NORMALISE(images))
    folders, columns = sorted(WNIDS), [WNIDS[w] for w in sorted(WNIDS)]
    labels = folder_by_prediction(tmp_path, images, logits[:, columns], folders, right=4)
    args = ["evaluate", "--weights", str(path), "--images", str(tmp_path), "--method", "centre", "--q", "224"]

    assert main([*args, "--classes", "folder"]) == 0
    out = capsys.readouterr().out
    assert "on 6 images, scored over the folder's 3 classes" in out
    assert printed_errors(out) == (pytest.approx(100 * 2 / 6, abs=0.01), 0.0)

    assert main(args) == 0  # --classes all is the default
    out = capsys.readouterr().out
    assert "scored over all 1,000 ImageNet classes" in out
    full = torch.tensor(columns)[labels]
    assert topk_error(logits, full, 5) not in (0.0, topk_error(logits, labels, 5))  # a wrong map would show
    assert printed_errors(out) == (pytest.approx(topk_error(logits, full, 1), abs=0.01),
                                   pytest.approx(topk_error(logits, full, 5), abs=0.01))


def test_an_unknown_wordnet_id_folder_is_refused_by_name(vgg11, tmp_path, capsys):
    for name in ("n01443537", "n99999999"):
        write_png(tmp_path / name / "a.png", torch.zeros(3, 8, 8, dtype=torch.uint8))
    assert main(["evaluate", "--weights", str(vgg11[1]), "--images", str(tmp_path), "--q", "224"]) == 1
    err = capsys.readouterr().err
    assert f"class folder 'n99999999' in {tmp_path} names none of the net's 1,000 classes" in err
    assert "name each class folder by its ImageNet WordNet id, e.g. n01440764" in err


def fashion_net(path: Path, classes: list[str], lift: dict[int, float] | None = None) -> torch.nn.Module:
    """A tiny random net of ``classes`` saved at ``path``, the classes ``lift`` maps to raised by so much."""
    torch.manual_seed(0)
    model = build("A", num_classes=len(classes), width=1 / 16, crop=32, fc_width=16, init="glorot").eval()
    with torch.no_grad():
        for column, by in (lift or {}).items():
            model.classifier.fc8.bias[column] += by
    save_weights(model, path, input_mean=(100.0, 110.0, 120.0), classes=classes)
    return model


def test_a_fashion_mnist_net_on_folders_named_by_sanitised_class_names(tmp_path, capsys):
    """Folders in another order than the net's classes, by exact or sanitised name, get the
    net's labels: the errors are those of the net's own logits on the right columns."""
    # Sandal (no folder) first over all ten, then Trouser, Bag; T-shirt/top and Ankle boot last.
    lift = {5: 20.0, 8: 10.0, 1: 8.0, 0: -10.0, 9: -10.0}
    model = fashion_net(tmp_path / "fashion.safetensors", FASHION_MNIST_CLASSES, lift)
    folders = ["Trouser", "ankle-boot", "bag", "t-shirt-top"]  # sorted as FolderImages lists them
    columns = [1, 9, 8, 0]
    assert match_classes(folders, [(c,) for c in FASHION_MNIST_CLASSES], "here", "") == columns
    images = torch.randint(0, 256, (8, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():  # Q = 224 is the net's 32-pixel crop: no rescaling
        logits = model(images.float() - torch.tensor([100.0, 110.0, 120.0]).view(1, 3, 1, 1))
    labels = folder_by_prediction(tmp_path / "val", images, logits[:, columns], folders, right=5)
    assert FolderImages(tmp_path / "val").classes == folders
    args = ["evaluate", "--weights", str(tmp_path / "fashion.safetensors"), "--images", str(tmp_path / "val"),
            "--method", "centre", "--q", "224"]

    assert main([*args, "--classes", "folder"]) == 0
    out = capsys.readouterr().out
    assert "scored over the folder's 4 classes (a soft-max over those 4 of the net's 10 outputs)" in out
    assert printed_errors(out) == (pytest.approx(100 * 3 / 8, abs=0.01), 0.0)

    assert main(args) == 0
    out = capsys.readouterr().out
    assert "scored over all 10 of the net's classes" in out
    full = torch.tensor(columns)[labels]
    assert topk_error(logits, full, 5) not in (0.0, topk_error(logits, labels, 5))  # a wrong map would show
    assert printed_errors(out) == (pytest.approx(topk_error(logits, full, 1), abs=0.01),
                                   pytest.approx(topk_error(logits, full, 5), abs=0.01))


def test_a_thousand_class_vgglib_net_named_by_imagenet_name_maps_wordnet_id_folders(tmp_path):
    """Its classes, in any order, are found by the folders' WordNet ids through the list."""
    names = [n for _, n in imagenet_synsets()][::-1]  # index i holds ImageNet class 999 - i
    for wnid in ("n01440764", "n15075141", "n02113186", "n02963159"):  # tench, toilet tissue, Cardigan, cardigan
        write_png(tmp_path / wnid / "a.png", torch.zeros(3, 8, 8, dtype=torch.uint8))
    net_names = class_names(names, 1000, tmp_path / "net.safetensors")
    assert class_columns(FolderImages(tmp_path), net_names, 1000, tmp_path, "here") == [999, 735, 525, 0]


def test_ambiguous_and_unknown_class_folders_are_refused(tmp_path, capsys):
    classes = ["T-shirt/top", "T-shirt top", "Trouser"]
    fashion_net(tmp_path / "net.safetensors", classes)
    for name in ("t-shirt-top", "Trouser"):
        write_png(tmp_path / "val" / name / "a.png", torch.zeros(3, 32, 32, dtype=torch.uint8))
    assert main(["evaluate", "--weights", str(tmp_path / "net.safetensors"), "--images", str(tmp_path / "val"),
                 "--q", "224"]) == 1
    err = capsys.readouterr().err
    assert "class folder 't-shirt-top'" in err and "is ambiguous" in err
    assert "'T-shirt/top', 'T-shirt top'" in err
    named = [(c,) for c in classes]
    assert match_classes(["T-shirt top"], named, "here", "") == [1]  # an exact name is not ambiguous
    with pytest.raises(ValueError, match="'Trouser' and 'trouser' in here both name the net's class 'Trouser'"):
        match_classes(["Trouser", "trouser"], named, "here", "")
    with pytest.raises(ValueError, match=r"'sock' in here names none of the net's 4 classes \(T-shirt/top, "
                                         r"T-shirt top, Trouser, bag\) \(its class folders: bag, sock\); rename it"):
        match_classes(["bag", "sock"], [*named, ("bag",)], "here", "rename it")
    with pytest.raises(ValueError, match="'CARDIGAN' .* is ambiguous.*'n02113186', 'n02963159'"):
        match_classes(["CARDIGAN"], list(imagenet_synsets()), "here", "")  # the corgi or the sweater
