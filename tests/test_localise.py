"""Appendix A: box parameterisation, IoU, greedy merge, SCR/PCR heads, fine-tuning, dense
application and the localisation data (canvases, ILSVRC XML)."""
import re

import pytest
import torch

from vgglib import arch, paper
from vgglib import box_data as ld
from vgglib import boxes as loc
from vgglib.augment import Augmenter, Normalise
from vgglib.data import Splits, synthetic
from vgglib.images import TensorImages
from vgglib.noise import paired_se
from vgglib.parts.localisation import report
from vgglib.parts.localisation import rows as loc_rows
from vgglib.parts.localisation import run as loc_run
from vgglib.profiles import LocalisationSettings, get_profile
from vgglib.runs import RunStore
from vgglib.stats import Stats

IDENTITY = Normalise((0.0, 0.0, 0.0))
NO_COLOUR = Stats((0.0, 0.0, 0.0), (0.0, 0.0, 0.0), [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])


def tiny_d(num_classes=4, seed=0):
    torch.manual_seed(seed)
    return arch.build("D", num_classes=num_classes, width=1 / 16, crop=32, fc_width=16, init="glorot").eval()


def constant_box_net(params, head="SCR", classes=4):
    """A localisation net whose every window predicts the same crop-normalised box."""
    net = loc.build_localiser(tiny_d(classes), head, classes)
    with torch.no_grad():
        net.classifier.fc8.weight.zero_()
        net.classifier.fc8.bias.copy_(torch.tensor(params).repeat(1 if head == "SCR" else classes))
    return net.eval()


# --------------------------------------------------------------------------- boxes

def test_box_parameterisation_round_trip():
    boxes = torch.tensor([[10.0, 20.0, 30.0, 60.0], [0.0, 0.0, 32.0, 32.0], [-4.0, 3.5, 7.0, 40.0]])
    params = loc.to_params(boxes, 40)
    torch.testing.assert_close(params[0], torch.tensor([0.5, 1.0, 0.5, 1.0]))
    torch.testing.assert_close(params[1], torch.tensor([0.4, 0.4, 0.8, 0.8]))
    torch.testing.assert_close(loc.from_params(params, 40), boxes)
    g = torch.Generator().manual_seed(0)
    corners = torch.rand(50, 2, 2, generator=g).sort(1).values * 100
    random = torch.stack([corners[:, 0, 0], corners[:, 0, 1], corners[:, 1, 0], corners[:, 1, 1]], 1)
    torch.testing.assert_close(loc.from_params(loc.to_params(random, 32), 32), random, atol=1e-4, rtol=0)


def test_iou_on_hand_made_boxes():
    a = torch.tensor([0.0, 0.0, 2.0, 2.0])
    assert loc.iou(a, a).item() == pytest.approx(1.0)
    assert loc.iou(a, torch.tensor([1.0, 1.0, 3.0, 3.0])).item() == pytest.approx(1 / 7)
    assert loc.iou(torch.tensor([0.0, 0.0, 4.0, 4.0]), a).item() == pytest.approx(0.25)
    assert loc.iou(a, torch.tensor([2.0, 0.0, 4.0, 2.0])).item() == 0.0          # touching edges
    assert loc.iou(a, torch.tensor([5.0, 5.0, 6.0, 6.0])).item() == 0.0
    assert loc.iou(a, torch.tensor([1.0, 1.0, 1.0, 1.0])).item() == 0.0          # empty box
    grid = loc.iou(torch.stack([a, a + 1])[:, None], torch.stack([a, a + 1, a + 5])[None])
    assert grid.shape == (2, 3)
    torch.testing.assert_close(grid, torch.tensor([[1.0, 1 / 7, 0.0], [1 / 7, 1.0, 0.0]]))


def test_greedy_merge_on_hand_made_boxes():
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0],      # A, close to B (IoU 0.68)
                          [1.0, 1.0, 11.0, 11.0],      # B
                          [30.0, 30.0, 40.0, 40.0],    # C, close to D (IoU 0.82)
                          [31.0, 30.0, 41.0, 40.0]])   # D
    merged, scores = loc.greedy_merge(boxes, torch.tensor([0.5, 0.3, 0.6, 0.1]))
    torch.testing.assert_close(merged, torch.tensor([[0.5, 0.5, 10.5, 10.5], [30.5, 30.0, 40.5, 40.0]]))
    torch.testing.assert_close(scores, torch.tensor([0.8, 0.7]))      # sums of class scores, best first


def test_greedy_merge_averages_all_members_and_respects_the_threshold():
    chain = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 0.0, 11.0, 10.0], [2.0, 0.0, 12.0, 10.0]])
    merged, scores = loc.greedy_merge(chain, torch.ones(3))
    torch.testing.assert_close(merged, torch.tensor([[1.0, 0.0, 11.0, 10.0]]))   # the mean of all three
    torch.testing.assert_close(scores, torch.tensor([3.0]))
    apart = torch.tensor([[0.0, 0.0, 10.0, 10.0], [4.0, 0.0, 14.0, 10.0]])         # IoU 6/14 < 0.5
    merged, scores = loc.greedy_merge(apart, torch.tensor([0.2, 0.9]))
    torch.testing.assert_close(merged, apart.flip(0))
    torch.testing.assert_close(scores, torch.tensor([0.9, 0.2]))


def test_hits_need_the_right_class_and_overlap():
    images = TensorImages(torch.zeros(2, 1, 8, 8, dtype=torch.uint8), [1, 2], ["a", "b", "c"])
    data = ld.BoxSet(images, [torch.tensor([[0.0, 0.0, 4.0, 4.0]]),
                              torch.tensor([[9.0, 9.0, 10.0, 10.0], [0.0, 0.0, 4.0, 4.0]])])
    good, poor = [0.0, 0.0, 4.0, 3.0], [0.0, 0.0, 4.0, 1.5]                          # IoU 0.75, 0.375
    boxes = torch.tensor([[good, good], [poor, good]])
    assert loc.hits(boxes, torch.tensor([[0, 1], [2, 0]]), data).tolist() == [True, False]
    assert loc.hits(boxes, torch.tensor([[1, 0], [0, 2]]), data).tolist() == [True, True]   # any GT box
    assert loc.error(torch.tensor([True, False, False, True])) == 50.0
    assert paired_se(torch.tensor([True, False] * 5), torch.tensor([True, False] * 5)) == 0.0


# --------------------------------------------------------------------------- the net and its training

def test_scr_and_pcr_heads():
    donor = tiny_d(num_classes=10)
    scr, pcr = (loc.build_localiser(donor, head, 10) for head in ("SCR", "PCR"))
    x = torch.randn(3, 3, 32, 32)
    assert scr(x).shape == (3, 4) and pcr(x).shape == (3, 40)
    assert pcr.score_map(torch.randn(1, 3, 64, 64)).shape == (1, 40, 2, 2)
    for name, layer in pcr.weight_layers().items():
        if name != "fc8":
            assert torch.equal(layer.weight, donor.weight_layers()[name].weight)
    assert loc.select(pcr(x), torch.tensor([0, 9, 3])).shape == (3, 4)
    with pytest.raises(ValueError, match="SCR, PCR"):
        loc.build_localiser(donor, "XYZ", 10)


def test_pcr_loss_counts_only_the_true_class_box():
    target = torch.tensor([[0.5, 0.5, 0.2, 0.4]])
    output = torch.full((1, 3, 4), 9.0)
    output[0, 2] = target[0]
    assert loc.box_loss(output.view(1, 12), target, torch.tensor([2])).item() == 0.0
    assert loc.box_loss(output.view(1, 12), target, torch.tensor([1])).item() > 10
    scr = torch.tensor([[0.5, 0.5, 0.2, 1.4]])                          # one box for every class
    assert loc.box_loss(scr, target, torch.tensor([1])).item() == pytest.approx(0.5)


def test_crop_targets_follow_the_augmentation():
    images = torch.zeros(6, 3, 48, 64, dtype=torch.uint8)
    boxes = torch.tensor([[10.0, 8.0, 40.0, 30.0], [20.0, 12.0, 50.0, 44.0], [5.0, 5.0, 45.0, 40.0]] * 2)
    for im, b in zip(images, boxes.long()):
        im[:, b[1]:b[3], b[0]:b[2]] = 255
    aug = Augmenter(32, (40, 60), NO_COLOUR, IDENTITY, colour_std=0.0)
    geometry = aug.sample(6, torch.Generator().manual_seed(3))
    crops = aug(images, geometry)
    targets = loc.from_params(loc.crop_targets(boxes, [(48, 64)] * 6, geometry, 32), 32).clamp(0, 32)
    checked = 0
    for crop, t in zip(crops, targets):
        if (t[2] - t[0]) < 4 or (t[3] - t[1]) < 4:
            continue
        seen = ld.tight_box((crop > 127).float())
        torch.testing.assert_close(seen, t, atol=1.0, rtol=0)
        checked += 1
    assert checked >= 4 and geometry["flip"].any() and not geometry["flip"].all()


def tiny_loc_data(seed=0):
    splits = synthetic(n_train=64, n_val=16, n_test=16, seed=seed)
    settings = LocalisationSettings(lr=1e-3, canvas=48, train=64, val=16, test=16, clutter=1)
    return ld.canvas_splits(splits, settings, seed), splits


def test_frozen_layers_unchanged_after_fc_only_fine_tuning(tmp_path):
    (data, splits), donor = tiny_loc_data(), tiny_d()
    profile = get_profile("smoke").with_(width=1 / 16, fc_width=16, batch=16)
    store = RunStore(tmp_path)
    nets = {}
    for tune in ("fc", "all"):
        spec = loc.localiser_spec("D/256", "PCR", tune, profile, data, 0, "parent", ("conv1_1",), epochs=1)
        nets[tune] = loc.train_localiser(spec, store, data, donor, splits, profile)
        assert (store.root / spec.dirname / "done.json").exists()
    theirs = donor.weight_layers()
    for name, layer in nets["fc"].weight_layers().items():
        if name.startswith("conv"):
            assert torch.equal(layer.weight, theirs[name].weight), name
            assert torch.equal(layer.bias, theirs[name].bias), name
        elif name in ("fc6", "fc7"):
            assert not torch.equal(layer.weight, theirs[name].weight), name
    assert not torch.equal(nets["all"].weight_layers()["conv1_1"].weight, theirs["conv1_1"].weight)
    again = loc.train_localiser(spec, store, data, donor, splits, profile)       # reused from the store
    assert torch.equal(again.classifier.fc8.weight, nets["all"].classifier.fc8.weight)


def test_localisers_take_their_sections_cap_else_the_profiles():
    quick, smoke = get_profile("quick"), get_profile("smoke")
    assert loc_run.localiser_epochs(quick) == quick.localisation.max_epochs
    assert loc_run.localiser_epochs(quick) > quick.max_epochs
    assert smoke.localisation.max_epochs is None
    assert loc_run.localiser_epochs(smoke) == smoke.max_epochs


# --------------------------------------------------------------------------- testing protocols

def test_dense_and_centre_boxes_land_in_image_pixels():
    net = constant_box_net([0.5, 0.5, 0.25, 0.5])              # a 8×16 box centred on each window
    images = TensorImages(torch.randint(0, 255, (2, 3, 90, 100), dtype=torch.uint8), [0, 3], list("abcd"))
    data = ld.BoxSet(images, [torch.tensor([[0.0, 0.0, 10.0, 10.0]])] * 2)
    centre = loc.centre_boxes(net, data, 45, IDENTITY, data.labels)    # image shrunk by 2: 45×50
    torch.testing.assert_close(centre, torch.tensor([[42.0, 28.0, 58.0, 60.0]] * 2))
    classes = torch.tensor([[0, 3], [1, 2]])
    preds = loc.dense_predictions(net, [tiny_d()], data, 45, IDENTITY, classes)
    boxes, scores = preds[0]
    assert boxes.shape == (4 * 5, 2, 4) and scores.shape == (20, 2)     # windows every crop/8 px, as dense testing
    # windows at (x 0, y 0) and at (x 16, y 12); its box is x 12..20, y 8..24 of the crop; image is 2× larger
    torch.testing.assert_close(boxes[0, 0], 2 * torch.tensor([0 + 12.0, 0 + 8.0, 0 + 20.0, 0 + 24.0]))
    torch.testing.assert_close(boxes[-1, 1], 2 * torch.tensor([16 + 12.0, 12 + 8.0, 16 + 20.0, 12 + 24.0]))
    assert ((scores > 0) & (scores < 1)).all()
    best = loc.merged_boxes([preds])
    assert best.shape == (2, 2, 4)


def test_windows_alone_sets_the_one_pass_against_each_window_run_by_itself():
    """A net whose boxes ignore the image gives the same box either way (nothing moved, the
    same hits, counted by hand); a real net moves its boxes once the image surrounds its windows,
    and not where the image is the one window."""
    net = constant_box_net([0.5, 0.5, 0.25, 0.5])              # x 12..20, y 8..24 of each window
    pixels = torch.randint(0, 255, (2, 3, 90, 100), dtype=torch.uint8)
    data = ld.BoxSet(TensorImages(pixels, [0, 3], list("abcd")), [torch.tensor([[24.0, 16.0, 40.0, 48.0]])] * 2)
    same = loc.windows_alone(net, data, 45, IDENTITY)
    # of 4 × 5 windows, (0, 0) and the one 4 px lower (IoU 0.6) hit; 8 px to the side is IoU 0.33
    assert same == {"crop": 32, "windows": 20, "one_pass_hits": 10.0, "alone_hits": 10.0, "moved_px": 0.0}
    real = loc.build_localiser(tiny_d(), "PCR", 4).eval()
    assert loc.windows_alone(real, data, 45, IDENTITY)["moved_px"] > 0.01
    whole = ld.BoxSet(TensorImages(pixels[..., :64, :64], [0, 3], list("abcd")), data.boxes)
    one = loc.windows_alone(real, whole, 32, IDENTITY)
    assert one["windows"] == 1 and one["moved_px"] < 1e-4 and one["one_pass_hits"] == one["alone_hits"]


def test_windows_sentence_says_how_far_d_reaches_past_its_crop():
    alone = {"D/384": {"crop": 32, "windows": 36, "one_pass_hits": 39.7, "alone_hits": 81.6, "moved_px": 5.62}}
    sentence = report.windows_sentence(alone)
    assert "212 px, 6.6 times its 32-px crop (404 px, 1.8 times, at the paper's 224)" in sentence
    assert "D/384 (36 windows an image): 81.6% alone, 39.7% in the one pass, boxes moved 5.6 px" in sentence


def test_central_crop_is_the_window_the_centre_protocol_uses():
    window = loc.central_crop(90, 100, 45, 32)                     # 45×50 after rescaling, crop at (9, 6)
    torch.testing.assert_close(window, 2 * torch.tensor([9.0, 6.0, 41.0, 38.0]))
    whole = constant_box_net([0.5, 0.5, 1.0, 1.0])                 # predicts its whole window
    images = TensorImages(torch.randint(0, 255, (1, 3, 90, 100), dtype=torch.uint8), [2], list("abcd"))
    data = ld.BoxSet(images, [torch.tensor([[0.0, 0.0, 10.0, 10.0]])])
    torch.testing.assert_close(loc.centre_boxes(whole, data, 45, IDENTITY, data.labels)[0], window)


# --------------------------------------------------------------------------- data

def marker_set(value, n, seed):
    """Images that are black except for one block of ``value``, so a canvas shows its source."""
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(n, 1, 28, 28, dtype=torch.uint8)
    for im in x:
        top, left = torch.randint(0, 8, (2,), generator=g).tolist()
        im[:, top:top + 20, left:left + 16] = value
    return TensorImages(x, torch.arange(n) % 3, ["a", "b", "c"])


def test_canvases_come_from_their_own_split_with_boxes_inside():
    splits = Splits(marker_set(200, 40, 0), marker_set(150, 20, 1), marker_set(100, 20, 2), "markers")
    settings = LocalisationSettings(lr=1e-3, canvas=56, train=50, val=10, test=30, clutter=2)
    data = ld.canvas_splits(splits, settings, seed=0)
    for part, value, source in ((data.train, 200, splits.train), (data.val, 150, splits.val),
                                (data.test, 100, splits.test)):
        images, labels = part.images.load(range(len(part)))
        assert images.shape[1:] == (3, 56, 56) and int(images.max()) == value
        assert torch.equal(labels, source.labels[part.origin])
        b = torch.cat(part.boxes)
        assert (b[:, :2] >= 0).all() and (b[:, 2:] <= 56).all() and (b[:, 2:] > b[:, :2]).all()
    assert len(data.train) == 50 and len(set(data.train.origin.tolist())) == 40    # cycles through its source
    again = ld.canvas_splits(splits, settings, seed=0)
    assert torch.equal(again.test.images.images, data.test.images.images)
    assert not torch.equal(ld.canvas_splits(splits, settings, seed=1).test.images.images, data.test.images.images)


def test_canvas_boxes_are_tight():
    data = ld.canvases(marker_set(255, 12, 3), 12, 56, seed=5, clutter=0)
    for i in range(len(data)):
        image = data.images.images[i, 0].float()
        x1, y1, x2, y2 = data.boxes[i][0].tolist()
        inside = torch.zeros_like(image, dtype=torch.bool)
        inside[max(0, int(y1) - 1):int(y2) + 2, max(0, int(x1) - 1):int(x2) + 2] = True
        assert image[~inside].max() == 0                                      # nothing outside the box
        assert image[int(y1) + 2:int(y2) - 1, int(x1) + 2:int(x2) - 1].min() == 255   # its interior is the item


def test_ilsvrc_annotations(tmp_path):
    xml = tmp_path / "n01440764_10026.xml"
    xml.write_text("<annotation><size><width>250</width><height>200</height></size>"
                   "<object><name>n01440764</name><bndbox><xmin>10</xmin><ymin>20</ymin>"
                   "<xmax>99</xmax><ymax>149</ymax></bndbox></object>"
                   "<object><name>n01440764</name><bndbox><xmin>0</xmin><ymin>0</ymin>"
                   "<xmax>9</xmax><ymax>9</ymax></bndbox></object></annotation>")
    size, objects = ld.read_annotation(xml)
    assert size == (250, 200) and [name for name, _ in objects] == ["n01440764"] * 2
    torch.testing.assert_close(objects[0][1], torch.tensor([10.0, 20.0, 100.0, 150.0]))
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "Annotations" / "CLS-LOC"))):
        ld.annotation_dir(tmp_path)


# --------------------------------------------------------------------------- tables

def test_frames_put_the_papers_numbers_beside_ours_and_judge_by_the_numbers():
    rows = {name: {"error": e, "training": {"epochs": 2, "wall_s": 10.0}}
            for name, e in zip(reversed(loc_rows.TABLE8_ROWS), (30.0, 35.0, 40.0))}       # stored order differs
    frame = report.table8_frame({"rows": rows})
    assert frame["error paper (%)"].tolist() == [36.4, 34.3, 33.1]
    assert frame["error ours (%)"].tolist() == [40.0, 35.0, 30.0]
    claims = {"fine-tuning all layers beats fc6–fc7 only (PCR)": {"a": 34.0, "b": 35.0, "noise": 2.0},
              "PCR beats SCR (fc6–fc7 fine-tuned)": {"a": 41.0, "b": 35.0, "noise": 2.0}}
    verdicts = report.claims_frame(report.claims({"table8": {"claims": claims}}))
    assert sorted(verdicts["claim"].tolist()) == ["PCR beats SCR (fc6–fc7 fine-tuned)",
                                                  "fine-tuning all layers beats fc6–fc7 only (PCR)"]
    by_claim = dict(zip(verdicts["claim"], verdicts["verdict"]))
    assert by_claim["PCR beats SCR (fc6–fc7 fine-tuned)"] == "does not hold"
    assert by_claim["fine-tuning all layers beats fc6–fc7 only (PCR)"] == "inconclusive"
    r9 = {"rows": {name: {"top5": 50.0 - i, "gt_class": 40.0, "Q_px": [55], "boxes_per_image": 36}
                   for i, name in enumerate(loc_rows.TABLE9_ROWS)}, "data": {"name": "canvas-x"}}
    t10 = report.table10_frame(r9, "quick")
    assert "NOT ILSVRC" in t10["method"][0] and "fusion" in t10["method"][0]
    assert t10["top-5 error (%)"][0] == 47.0 and len(t10) == 1 + len(paper.TABLE10)
    assert t10["measured on"][0] == "our test set" and set(t10["measured on"][1:]) == {"ILSVRC-2012 validation"}


def test_the_paired_standard_error_is_that_of_the_per_image_difference():
    a = torch.tensor([True] * 6 + [False] * 4)
    b = torch.tensor([True] * 4 + [False] * 6)
    d = torch.tensor([0.0] * 4 + [-1.0] * 2 + [0.0] * 4)              # b − a per image
    assert paired_se(a, b) == pytest.approx(100 * d.std().item() / 10 ** 0.5)
