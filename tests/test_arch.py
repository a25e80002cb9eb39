"""Paper §2: configurations, parameter counts, dense mode, initialisation, interop, weights."""
import pytest
import torch
import torchvision

from vgglib import arch

TABLE2 = {"A": 132_863_336, "A-LRN": 132_863_336, "B": 133_047_848, "C": 133_638_952,
          "D": 138_357_544, "E": 143_667_240}
PAPER_MILLIONS = {"A": 133, "A-LRN": 133, "B": 133, "C": 134, "D": 138, "E": 144}


def small(config: str, **kw) -> arch.VGG:
    """A narrow analogue that runs in milliseconds."""
    args = dict(num_classes=7, width=1 / 16, crop=32, fc_width=16)
    return arch.build(config, **{**args, **kw})


@pytest.mark.parametrize("config", sorted(TABLE2))
def test_full_size_parameter_counts_match_table2(config):
    assert arch.count_params(config) == TABLE2[config]
    assert round(TABLE2[config] / 1e6) == PAPER_MILLIONS[config]


@pytest.mark.parametrize("name,config", sorted(arch.TORCHVISION_NAMES.items()))
def test_counts_equal_torchvision(name, config):
    tv = getattr(torchvision.models, name)()
    assert arch.count_params(config) == sum(p.numel() for p in tv.parameters())


def test_built_model_has_the_planned_parameters():
    for config in arch.CONFIGS:
        model = small(config)
        kw = dict(num_classes=7, width=1 / 16, crop=32, fc_width=16)
        assert sum(p.numel() for p in model.parameters()) == arch.count_params(config, **kw)


def test_table1_layer_structure():
    depth = {c: sum(layer.kind in ("conv", "fc") for layer in arch.plan(c)) for c in arch.CONFIGS}
    assert depth == {"A": 11, "A-LRN": 11, "B": 13, "C": 16, "D": 16, "E": 19, "B-5x5": 8}
    c = {layer.name: layer for layer in arch.plan("C")}
    assert c["conv3_3"].k == 1 and c["conv3_2"].k == 3
    assert any(layer.kind == "lrn" and layer.name == "norm1" for layer in arch.plan("A-LRN"))
    fc6 = arch.plan("D")[-3]
    assert (fc6.in_ch, fc6.k, fc6.out_ch) == (512, 7, 4096)
    assert arch.plan("D", crop=64)[-3].k == 2


def test_unknown_config_and_bad_crop_fail_clearly():
    with pytest.raises(ValueError, match="valid: A, A-LRN, B, C, D, E, B-5x5"):
        arch.build("F")
    with pytest.raises(ValueError, match="multiple of 32"):
        arch.build("A", crop=100)
    with pytest.raises(ValueError, match="not the 32×32 crop"):
        small("A")(torch.zeros(1, 3, 64, 64))


@pytest.mark.parametrize("config", ["A", "A-LRN", "C", "E", "B-5x5"])
def test_dense_equals_crop_at_crop_size(config):
    torch.manual_seed(0)
    model = small(config, crop=64).eval()
    x = torch.randn(3, 3, 64, 64) * 50
    plain = model(x)
    dense = model.score_map(x)
    assert dense.shape == (3, 7, 1, 1)
    torch.testing.assert_close(dense.flatten(1), plain, rtol=1e-5, atol=1e-5)


def test_dense_map_size_grows_with_input():
    model = small("A").eval()
    assert model.score_map(torch.zeros(1, 3, 96, 64)).shape == (1, 7, 3, 2)
    assert model.score_map(torch.zeros(2, 3, 64, 64), upto="fc7").shape == (2, 16, 2, 2)


def test_normal_init_keeps_each_layers_gain():
    torch.manual_seed(0)
    full = {layer.name: layer.fan_in for layer in arch.plan("A")}
    model = small("A", init="normal")
    for name, m in model.weight_layers().items():
        fan_in = m.weight[0].numel()
        gain = fan_in * m.weight.var().item()
        expect = full[name] * 0.01 ** 2
        assert gain == pytest.approx(expect, rel=0.35), name
        assert torch.count_nonzero(m.bias) == 0


def test_glorot_init_bounds():
    model = small("B", init="glorot")
    conv = model.weight_layers()["conv2_1"]
    bound = (6 / (conv.weight[0].numel() + conv.weight.shape[0] * 9)) ** 0.5
    assert conv.weight.abs().max() <= bound
    assert conv.weight.abs().max() > 0.8 * bound
    with pytest.raises(ValueError, match="valid: normal, glorot"):
        small("B", init="kaiming")


@pytest.mark.parametrize("config", ["B", "C", "D", "E"])
def test_init_from_a_copies_the_named_layers_only(config):
    torch.manual_seed(1)
    donor, model = small("A"), small(config)
    before = {n: m.weight.clone() for n, m in model.weight_layers().items()}
    arch.init_from(model, donor)
    for name, m in model.weight_layers().items():
        if name in arch.INIT_FROM_A:
            assert torch.equal(m.weight, donor.weight_layers()[name].weight), name
            assert torch.equal(m.bias, donor.weight_layers()[name].bias), name
        else:
            assert torch.equal(m.weight, before[name]), name


def test_init_from_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="cannot copy conv1_1"):
        arch.init_from(small("B-5x5"), small("A"))


@pytest.mark.parametrize("name", sorted(arch.TORCHVISION_NAMES))
def test_torchvision_round_trip_gives_identical_outputs(name):
    torch.manual_seed(0)
    tv = getattr(torchvision.models, name)().eval()
    model = arch.from_torchvision(tv.state_dict()).eval()
    assert model.config == arch.TORCHVISION_NAMES[name]
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        assert torch.equal(model(x), tv(x))
    back = arch.to_torchvision(model)
    assert back.keys() == tv.state_dict().keys()
    assert all(torch.equal(back[k], v) for k, v in tv.state_dict().items())


def test_from_torchvision_rejects_batchnorm_variant():
    state = torchvision.models.vgg11_bn().state_dict()
    with pytest.raises(ValueError, match="without batch norm"):
        arch.from_torchvision(state)


def test_weights_round_trip_with_safetensors(tmp_path):
    model = small("C", num_classes=3)
    arch.save_weights(model, tmp_path / "c.safetensors")
    again = arch.load_weights(tmp_path / "c.safetensors")
    assert arch.spec_of(again) == arch.spec_of(model)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))
    with pytest.raises(FileNotFoundError, match="no weight file"):
        arch.load_weights(tmp_path / "missing.safetensors")


def test_section_2_3_arithmetic():
    assert [arch.stacked_receptive_field(n) for n in (1, 2, 3)] == [3, 5, 7]
    assert arch.stacked_receptive_field(1, k=7) == 7


def test_multiply_adds_match_known_figure():
    # VGG-16 at 224: about 15.5 G multiply-adds (widely quoted); ours counts them exactly.
    assert 15.3e9 < arch.multiply_adds("D", 224) < 15.6e9
    assert arch.multiply_adds("D", 256) > arch.multiply_adds("D", 224)


def test_receptive_field_counts_the_reach_of_one_dense_output():
    """Counted by hand: D's 13 convs and 5 poolings reach 212 px; fc6's k×k window at the 32-px
    stride adds 32·(k−1): 404 at the paper's 224-px crop (k = 7). A (8 convs) reaches 150."""
    assert arch.receptive_field("D", 32) == 212
    assert arch.receptive_field("D", 224) == 404
    assert arch.receptive_field("A", 32) == 150
