"""The exploration of the paper's test takes it apart faithfully: its windows and crops average to
the evaluators' posteriors, it refuses to show pieces that do not, and a weight file's errors on
the test set are matched to the images' classes by name."""
import pytest
import torch

from vgglib import arch, evaluate
from vgglib.augment import Normalise
from vgglib.data import FASHION_MNIST_CLASSES, synthetic
from vgglib.parts.classification import explore
from vgglib.profiles import get_profile, to_pixels

MEAN = (100.0, 100.0, 100.0)


def tiny(classes: int) -> arch.VGG:
    torch.manual_seed(0)
    return arch.build("A", num_classes=classes, width=1 / 16, crop=32, fc_width=16, init="glorot").eval()


@pytest.fixture(scope="module")
def net() -> explore.Net:
    splits = synthetic()
    return explore.Net(tiny(len(splits.test.classes)), Normalise(MEAN), list(splits.test.classes),
                       get_profile("smoke"), splits, "A/256", None, "a net of the test's own")


def test_the_pieces_average_to_the_evaluators_posteriors(net):
    image, label, _ = explore.pick_image(net, 5)
    qs = explore.scales_of(net)
    look = explore.look(net, image, qs, label)
    assert qs == [224, 256, 288] and look.crops == 150
    assert look.windows == sum(len(evaluate.window_offsets(s.q_px, 32)) ** 2 for s in look.scales)
    one = net.splits.test.subset([5])
    for method in ("dense", "multi-crop", "dense+multi-crop"):
        theirs = evaluate.evaluate(net.model, one, net.normalise, method, [to_pixels(q, 32) for q in qs])[0]
        assert torch.allclose(look.final(method), theirs, atol=1e-5), method
    assert not torch.equal(look.final(view="image"), look.final()), "the mirror is tested too"
    assert list(look.frame(0).index) == qs


def test_pieces_that_differ_from_the_evaluator_are_refused(net, monkeypatch):
    image, label, _ = explore.pick_image(net, 0)
    monkeypatch.setattr(evaluate, "dense_posteriors", lambda model, images, *a, **k: torch.ones(1, 4) / 4)
    with pytest.raises(RuntimeError, match="differs from the evaluator's"):
        explore.look(net, image, [256], label)


def test_a_weight_file_is_scored_by_class_name(tmp_path):
    """The same net saved with its classes in another order (and its last layer's rows with
    them) makes the same errors on the same images: the columns follow the names."""
    model, order = tiny(10), torch.randperm(10, generator=torch.Generator().manual_seed(1))
    arch.save_weights(model, tmp_path / "net.safetensors", MEAN, FASHION_MNIST_CLASSES)
    with torch.no_grad():
        model.classifier.fc8.weight.copy_(model.classifier.fc8.weight[order])
        model.classifier.fc8.bias.copy_(model.classifier.fc8.bias[order])
    arch.save_weights(model, tmp_path / "shuffled.safetensors", MEAN, [FASHION_MNIST_CLASSES[i] for i in order])
    a, b = (explore.load_net("smoke", weights=tmp_path / f) for f in ("net.safetensors", "shuffled.safetensors"))
    assert a.run is None and explore.curves(a) is None and "weight file" in a.source
    scored_a, scored_b = explore.scored(a, [224, 256]), explore.scored(b, [224, 256])
    assert torch.allclose(scored_a.posteriors, scored_b.posteriors, atol=1e-6)
    assert int(scored_a.confusion().sum()) == len(scored_a.labels)
    worst = scored_a.worst(4)
    confidence, predicted = scored_a.posteriors.max(1)
    assert all(predicted[i] != scored_a.labels[i] for i in worst)
    assert confidence[worst].tolist() == sorted(confidence[worst].tolist(), reverse=True)
