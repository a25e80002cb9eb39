"""Appendix B: descriptors, scale aggregation, the feature cache, the SVM protocols and their
metrics, the analogue targets (test images only) and the full-scale readers."""
import re

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score

from vgglib import arch, paper
from vgglib import features as tr
from vgglib import targets as td
from vgglib.augment import Normalise, rescale
from vgglib.data import Splits
from vgglib.evaluate import window_scores
from vgglib.images import TensorImages
from vgglib.parts.transfer import report

NORM = Normalise((120.0, 115.0, 100.0))
CLASSES = [f"c{k}" for k in range(10)]


def tiny_net(fc_width=16, seed=0):
    torch.manual_seed(seed)
    return arch.build("A", num_classes=5, width=1 / 16, crop=32, fc_width=fc_width, init="glorot").eval()


def random_set(n, side=48, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (n, 3, side, side), dtype=torch.uint8, generator=g)
    return TensorImages(x, torch.zeros(n, dtype=torch.long), ["x"])


# --------------------------------------------------------------------------- features

def test_l2_normalise_and_stacking():
    x = torch.tensor([[3.0, 4.0], [0.0, 0.0], [-2.0, 0.0]])
    assert torch.allclose(tr.l2_normalise(x), torch.tensor([[0.6, 0.8], [0.0, 0.0], [-1.0, 0.0]]))
    a, b = torch.randn(4, 3, generator=torch.Generator().manual_seed(0)), torch.ones(4, 2)
    s = tr.stacked([a, b])
    assert s.shape == (4, 5)
    assert torch.allclose(s.norm(dim=1), torch.ones(4))
    assert torch.allclose(s[:, :3] / s[:, 3:4], a)   # stacking keeps each part's direction


def test_flip_averaging():
    net, images = tiny_net(), random_set(4, side=48)
    d = tr.descriptors(net, images, 64, NORM, batch_size=3)
    mirrored = TensorImages(images.images.flip(-1), images.labels, images.classes)
    assert torch.allclose(d, tr.descriptors(net, mirrored, 64, NORM), atol=1e-5)
    x = NORM(rescale(images.images, 64))
    with torch.no_grad():                            # fc7 at every dense window (every crop/8 px), averaged
        one = window_scores(net, x, "fc7")[0].mean(dim=(2, 3))
        other = window_scores(net, x.flip(-1), "fc7")[0].mean(dim=(2, 3))
    assert (one - other).abs().max() > 1e-3, "guard: the net itself is not mirror-symmetric"
    assert torch.allclose(d, (one + other) / 2, atol=1e-5)
    assert d.shape == (4, 16)


def test_stacking_vs_averaging_shapes(tmp_path):
    g = torch.Generator().manual_seed(1)
    scales = [torch.randn(5, 4, generator=g) for _ in range(3)]
    assert torch.equal(tr.aggregate(scales, "stack"), torch.cat(scales, 1))
    assert torch.allclose(tr.aggregate(scales, "average"), sum(scales) / 3)
    with pytest.raises(ValueError, match="aggregation"):
        tr.aggregate(scales, "max")
    images = random_set(3)
    nets = [tr.Extractor(tiny_net(16), tmp_path / "d", NORM), tr.Extractor(tiny_net(8, seed=1), tmp_path / "e", NORM)]
    stack = tr.describe(nets, images, "set", [32, 48], "stack")
    average = tr.describe(nets, images, "set", [32, 48], "average")
    assert stack.shape == (3, 2 * 16 + 2 * 8) and average.shape == (3, 16 + 8)
    assert torch.allclose(stack.norm(dim=1), torch.ones(3)) and torch.allclose(average.norm(dim=1), torch.ones(3))


def test_feature_cache_skips_the_forward_pass(tmp_path):
    net, images = tiny_net(), random_set(6)
    calls = []
    original = net.score_map

    def counting(x, upto="fc8", stride=32):
        calls.append(len(x))
        return original(x, upto, stride)

    net.score_map = counting
    first = tr.Extractor(net, tmp_path / "run", NORM, batch_size=4).features(images, "set", [32, 48], "stack")
    assert len(calls) == 2 * 2 * 2              # two scales × two batches × (image, mirror image)
    fresh = tr.Extractor(net, tmp_path / "run", NORM, batch_size=4)
    again = fresh.features(images, "set", [48, 32], "average")
    assert len(calls) == 8                      # another Q order and aggregation: from the cache
    assert torch.allclose(again, (first[:, :16] + first[:, 16:]) / 2)
    fresh.scale(images, "another-set", 32)
    assert len(calls) == 12                     # another data set name: computed
    with pytest.raises(RuntimeError, match="must identify its images"):
        fresh.scale(random_set(2), "set", 32)


# --------------------------------------------------------------------------- metrics and protocols

def test_mean_class_recall_on_a_hand_made_confusion():
    # class 0: 4 images, 3 right; class 1: 2 images, 1 right; class 2: 6 images, 2 right.
    # Mean class recall = (3/4 + 1/2 + 2/6) / 3 = (9/12 + 6/12 + 4/12) / 3 = 19/36 ≈ 0.528,
    # while plain accuracy is (3 + 1 + 2) / 12 = 0.5.
    truth = np.array([0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 2, 2])
    pred = np.array([0, 0, 0, 1, 1, 0, 2, 2, 0, 0, 1, 1])
    assert tr.mean_class_recall(truth, pred, 3) == pytest.approx(19 / 36)
    assert tr.mean_class_recall(truth, pred, 4) == pytest.approx(19 / 36)   # a class with no test image is left out


def test_mean_ap_matches_scikit_learn():
    g = np.random.default_rng(0)
    scores = np.round(g.normal(size=(60, 4)), 1)          # rounding makes tied scores
    labels = (g.random((60, 4)) < 0.3).astype(int)
    expected = [average_precision_score(labels[:, k], scores[:, k]) for k in range(4)]
    m, aps = tr.mean_ap(scores, labels)
    assert aps == pytest.approx(expected) and m == pytest.approx(np.mean(expected))
    difficult = labels.copy()
    difficult[:10, 0] = -1                                 # ignored, as VOC's "difficult" images
    expected = average_precision_score(labels[10:, 0], scores[10:, 0])
    assert tr.mean_ap(scores, difficult)[1][0] == pytest.approx(expected)


def test_caltech_splits_are_reproducible_from_a_seed():
    labels = torch.arange(4).repeat_interleave(20)
    a, b, c = (tr.caltech_splits(labels, 10, 5, seed=s) for s in (3, 3, 4))
    assert all(torch.equal(x[p], y[p]) for x, y in zip(a, b) for p in ("train", "val", "test"))
    assert any(not torch.equal(x["test"], y["test"]) for x, y in zip(a, c))
    assert not torch.equal(a[0]["train"], a[1]["train"])
    for sp in a:
        for part, n in (("val", 2), ("train", 8), ("test", 5)):   # 20% of 10 held out for C
            assert torch.bincount(labels[sp[part]], minlength=4).tolist() == [n] * 4
        every = torch.cat(list(sp.values()))
        assert len(every.unique()) == len(every)
    rest = tr.caltech_splits(labels, 10, None, seed=0)[0]["test"]
    assert torch.bincount(labels[rest]).tolist() == [10] * 4
    with pytest.raises(ValueError, match="needs more than 20"):
        tr.caltech_splits(labels, 20, 5)


def test_protocols_on_separable_and_on_random_features():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(3).repeat(30)
    separable = torch.nn.functional.one_hot(y, 3).float() + 0.05 * torch.randn(90, 3, generator=g)
    r = tr.caltech_protocol(separable, y, tr.caltech_splits(y, 10, 10, seed=0))
    assert r["mean"] == 100.0 and r["std"] == 0.0 and len(r["splits"]) == 3
    multi = torch.stack([y == 0, y != 1, (y == 2) | (torch.arange(90) % 2 == 0)], 1).long()
    parts = {"train": torch.arange(40), "val": torch.arange(40, 60), "test": torch.arange(60, 90)}
    good, scores = tr.voc_protocol(multi.float() + 0.05 * torch.randn(90, 3, generator=g), multi, parts)
    assert good["mAP"] == 100.0 and scores.shape == (30, 3) and good["C"] in tr.C_GRID
    noise, _ = tr.voc_protocol(torch.randn(90, 3, generator=g), multi, parts)
    assert noise["mAP"] < 90.0


# --------------------------------------------------------------------------- targets

def two_tone_splits(n=40) -> Splits:
    """Training images all bright (250), test images dim (1–60): a bright canvas pixel would
    betray a training image."""
    g = torch.Generator().manual_seed(0)
    train = TensorImages(torch.full((n, 1, 28, 28), 250, dtype=torch.uint8), torch.arange(n) % 10, CLASSES)
    test = TensorImages(torch.randint(1, 61, (n, 1, 28, 28), generator=g).to(torch.uint8),
                        torch.arange(n) % 10, CLASSES)
    return Splits(train, train, test, "toy")


def test_compose_pastes_items_inside_their_boxes():
    test = two_tone_splits().test
    pool = torch.arange(20, 40)
    images, items, boxes, origin = td.compose(test, pool, 30, 56, (1, 3), (0.3, 0.5), seed=1)
    present = origin >= 0
    assert ((origin[present] >= 20) & (origin[present] < 40)).all()
    assert torch.equal(items[present], test.labels[origin[present]])
    b = boxes[present]
    assert (b >= 0).all() and (b <= 56).all() and (b[:, 2] > b[:, 0]).all() and (b[:, 3] > b[:, 1]).all()
    for i in range(30):
        x1, y1, x2, y2 = boxes[i, 0].long().tolist()
        item = rescale(test.load([int(origin[i, 0])])[0], x2 - x1)[0].round()
        assert (images[i][:, y1:y2, x1:x2].float() >= item).all()      # the first item, on top, in its box
        inside = torch.zeros(56, 56, dtype=torch.bool)
        for x1, y1, x2, y2 in boxes[i][present[i]].long().tolist():
            inside[y1:y2, x1:x2] = True
        assert images[i][:, ~inside].max() == 0                         # nothing outside the boxes
    assert torch.equal(images, td.compose(test, pool, 30, 56, (1, 3), (0.3, 0.5), seed=1)[0])


def test_canvases_use_test_images_only():
    splits = two_tone_splits()
    settings = td.TransferSettings(canvas=56, voc=(12, 4, 10), action=(12, 4, 10), digits_per_class=0)
    voc = td.canvas_target("voc", splits, settings)
    assert 0 < voc.images.images.max() <= 60
    fit = voc.origin[torch.cat([voc.parts["train"], voc.parts["val"]])]
    held = voc.origin[voc.parts["test"]]
    assert not set(fit[fit >= 0].tolist()) & set(held[held >= 0].tolist())
    present = torch.zeros(26, 10, dtype=torch.long)
    for i, row in enumerate(voc.origin.tolist()):
        for j in row:
            if j >= 0:
                present[i, splits.test.labels[j]] = 1
    assert torch.equal(voc.labels, present)
    action = td.canvas_target("action", splits, settings)
    assert action.name != voc.name and action.images.images.max() <= 60
    assert torch.equal(action.labels.argmax(1), splits.test.labels[action.origin[:, 0]])
    assert (action.labels.sum(1) == 1).all()
    crops, _ = td.BoxCrops(action.images, action.boxes).load(range(26))
    for crop, box in zip(crops, action.boxes):
        assert crop.shape[-1] == crop.shape[-2] == int(box[2] - box[0]) and crop.max() > 0


def test_digits_target():
    t = td.digits_target(td.TransferSettings(56, (1, 1, 1), (1, 1, 1), digits_per_class=24, per_class=(8, 8)))
    assert len(t.labels) == 240 and torch.bincount(t.labels).tolist() == [24] * 10
    x, _ = t.images.load(range(240))
    assert x.shape == (240, 3, 8, 8) and x.dtype == torch.uint8 and int(x.max()) == 255
    assert t.kind == "caltech" and t.column == "Caltech-101"


# --------------------------------------------------------------------------- full-scale readers

def test_full_readers_name_the_missing_path(tmp_path):
    where = re.escape(str(tmp_path))
    with pytest.raises(FileNotFoundError, match=where):
        td.voc_classification(tmp_path, 2007)
    with pytest.raises(FileNotFoundError, match=where):
        td.caltech_target(tmp_path, 101)
    with pytest.raises(FileNotFoundError, match=where):
        td.voc_action(tmp_path)


def test_voc_classification_reads_the_devkit_layout(tmp_path):
    base = tmp_path / "VOCdevkit" / "VOC2007"
    main = base / "ImageSets" / "Main"
    main.mkdir(parents=True)
    (base / "JPEGImages").mkdir()
    sets = {"train": ["a1", "a2"], "val": ["b1"], "test": ["c1", "c2"]}
    order = [i for ids in sets.values() for i in ids]
    for name, ids in sets.items():
        (main / f"{name}.txt").write_text("\n".join(ids) + "\n")
        for k, cls in enumerate(td.VOC_CLASSES):   # image j: class j present, class j+1 difficult
            flags = {i: 1 if k == order.index(i) else 0 if k == order.index(i) + 1 else -1 for i in ids}
            (main / f"{cls}_{name}.txt").write_text("".join(f"{i} {f:2d}\n" for i, f in flags.items()))
    t = td.voc_classification(tmp_path, 2007)
    assert [p.tolist() for p in t.parts.values()] == [[0, 1], [2], [3, 4]]
    for j in range(5):
        assert t.labels[j, j] == 1 and t.labels[j, j + 1] == -1 and t.labels[j].sum() == 0
    assert t.images.paths[3].endswith("JPEGImages/c1.jpg") and t.column == "VOC-2007"


def voc_person(action, x1, y1, x2, y2) -> str:
    """A VOC-2012 person object; ``action`` None means one without action labels."""
    acts = "" if action is None else \
        "<actions>" + "".join(f"<{c}>{int(c == action)}</{c}>" for c in td.ACTION_CLASSES) + "</actions>"
    return (f"<object><name>person</name>{acts}<bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin>"
            f"<xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>")


def test_voc_action_reads_people_and_their_boxes(tmp_path):
    from PIL import Image

    base = tmp_path / "VOC2012"
    for d in ("JPEGImages", "Annotations", "ImageSets/Action"):
        (base / d).mkdir(parents=True)
    images = {"i1": [("phoning", 3, 5, 10, 20), (None, 1, 1, 4, 4)], "i2": [("walking", 1, 1, 32, 24)]}
    for image_id, people in images.items():
        Image.new("RGB", (32, 24), (128, 128, 128)).save(base / "JPEGImages" / f"{image_id}.jpg")
        xml = "".join(voc_person(*p) for p in people)
        (base / "Annotations" / f"{image_id}.xml").write_text(f"<annotation>{xml}</annotation>")
    (base / "ImageSets" / "Action" / "train.txt").write_text("i1\n")
    (base / "ImageSets" / "Action" / "val.txt").write_text("i2\n")
    t = td.voc_action(tmp_path)
    assert len(t.labels) == 2                                           # the person without actions is skipped
    assert t.labels.argmax(1).tolist() == [td.ACTION_CLASSES.index("phoning"), td.ACTION_CLASSES.index("walking")]
    assert t.boxes[0].tolist() == [2.0, 4.0, 10.0, 20.0]                # 1-based inclusive → pixel edges
    assert t.parts["test"].tolist() == [1]
    crops, _ = td.BoxCrops(t.images, t.boxes).load([0, 1])
    assert tuple(crops[0].shape) == (3, 16, 8) and tuple(crops[1].shape) == (3, 24, 32)


# --------------------------------------------------------------------------- report

def test_report_verdicts_follow_the_numbers():
    summary = {"average": {"mAP": 60.0}, "stack": {"mAP": 61.0}}
    caltech = {"average": {"mean": 80.0, "std": 1.0, "splits": [79.0, 80.0, 81.0]},
               "stack": {"mean": 82.0, "std": 0.5, "splits": [81.5, 82.0, 82.5]}}
    result = {"targets": {
        "v": {"kind": "voc", "label": "VOC-style", "column": "VOC-2007", "aggregation": "average",
              "rows": {n: summary for n in ("D", "E", "D&E")},
              "claims": {"E ≥ D": {"a": 60.5, "b": 60.0, "noise": 0.1, "strict": False}}},
        "c": {"kind": "caltech", "label": "Caltech-style", "column": "Caltech-101", "aggregation": "stack",
              "rows": {n: caltech for n in ("D", "E", "D&E")},
              "claims": {"stacking beats averaging (D&E)": {"a": 82.0, "b": 80.0, "noise": 3.0, "strict": True}}}}}
    t11 = report.table11_frame(result)
    assert t11["VOC-2007 (paper)"].tolist() == [f"{paper.TABLE11[m][0]:.1f}" for m in report.NET_ROWS.values()]
    assert t11["Caltech-style (ours)"].tolist() == ["82.0 ± 0.5"] * 3
    found = {c.statement.split(" — ")[0]: c for c in report.table11_claims(result)}
    assert found["E ≥ D"].verdict == "holds" and found["E ≥ D"].paper == (89.3, 89.3)
    assert found["stacking beats averaging (D&E)"].verdict == "inconclusive"       # gap 2 < 4.30 × 1.5
    assert found["stacking beats averaging (D&E)"].paper is None
