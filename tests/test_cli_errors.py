"""Every bad input a clear error: the CLI names the file or value and the fix, exits non-zero,
and prints no traceback unless --debug asks for it (one test per class of failure)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torchvision

from vgglib import arch, data
from vgglib.__main__ import main
from vgglib.profiles import get_profile
from vgglib.runs import Row, RunStore, make_spec
from vgglib.train import dataset_id

ROOT = Path(__file__).resolve().parent.parent


def fails(capsys, *argv: str) -> str:
    """Run the CLI, assert it failed without a traceback, and return its error message."""
    assert main(list(argv)) != 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith("vgglib ")
    return err


def train_args(runs: Path, *extra: str) -> list[str]:
    return ["train", "--row", "A/256", "--profile", "smoke", "--dataset", "synthetic", "--runs", str(runs),
            "--quiet", *extra]


@pytest.fixture
def run_dir(tmp_path) -> tuple[RunStore, Path]:
    """The run directory the CLI's ``train_args`` would use, made by hand (holding its spec)."""
    profile = get_profile("smoke").with_(dataset="synthetic")
    splits = data.profile_splits(profile)
    store = RunStore(tmp_path / "runs")
    spec = make_spec(Row.parse("A/256"), profile, dataset_id(splits), 0, None)
    return store, store.path(spec)


@pytest.fixture
def weights(tmp_path) -> Path:
    """A smoke-sized A net saved by vgglib, with the synthetic set's four class names."""
    torch.manual_seed(0)
    model = arch.build("A", num_classes=4, width=1 / 16, crop=32, fc_width=16)
    path = tmp_path / "a.safetensors"
    arch.save_weights(model, path, (100.0, 100.0, 100.0), data.synthetic().train.classes)
    return path


def test_missing_data_folder(tmp_path, capsys):
    err = fails(capsys, "train", "--row", "A/256", "--profile", "smoke", "--data", str(tmp_path / "nowhere"),
                "--runs", str(tmp_path / "runs"), "--quiet")
    assert str(tmp_path / "nowhere") in err and "does not exist" in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").glob("A_256*"))


@pytest.mark.parametrize("pair, message", [("bf16=maybe", "bf16 takes true/false"),
                                           ("batch=abc", "batch takes an integer"),
                                           ("max_epochs=-1", "max_epochs must be >= 1"),
                                           ("max_epochs", "expected FIELD=VALUE")])
def test_bad_set(tmp_path, capsys, pair, message):
    err = fails(capsys, *train_args(tmp_path, "--set", pair))
    assert message in err and pair.partition("=")[0] in err


def test_bad_row(tmp_path, capsys):
    err = fails(capsys, *train_args(tmp_path / "runs", "--row", "F/256"))
    assert "'F'" in err and "valid: A, A-LRN" in err


def test_bad_q(weights, capsys):
    err = fails(capsys, "evaluate", "--weights", str(weights), "--synthetic", "--q", "32", "37")
    assert "--q 32 37" in err and "paper's units" in err and "--q 256 384 512" in err


def test_truncated_weights(weights, capsys):
    weights.write_bytes(weights.read_bytes()[:-100])
    err = fails(capsys, "evaluate", "--weights", str(weights), "--synthetic", "--q", "256")
    assert f"cannot read weight file {weights}" in err and "truncated" in err


def test_flipped_bytes_in_weights(weights, capsys):
    raw = bytearray(weights.read_bytes())
    raw[-3] ^= 0x55
    weights.write_bytes(bytes(raw))
    err = fails(capsys, "evaluate", "--weights", str(weights), "--synthetic", "--q", "256")
    assert f"{weights} is damaged" in err and "checksum" in err


def test_truncated_checkpoint(tmp_path, run_dir, capsys):
    store, run = run_dir
    torch.save({"model": {"w": torch.zeros(1000)}}, run / "checkpoint.pt")
    (run / "checkpoint.pt").write_bytes((run / "checkpoint.pt").read_bytes()[:300])
    err = fails(capsys, *train_args(store.root))
    assert f"checkpoint {run / 'checkpoint.pt'} is damaged" in err and "delete it" in err


def test_damaged_spec_json(run_dir, capsys):
    store, run = run_dir
    (run / "spec.json").write_text('{"key": "abc", ')
    err = fails(capsys, *train_args(store.root))
    assert f"{run / 'spec.json'} is damaged" in err and "remove that run directory" in err


def test_damaged_stats_json(run_dir, capsys):
    store, run = run_dir
    profile = get_profile("smoke").with_(dataset="synthetic")
    stats = store.data_dir(dataset_id(data.profile_splits(profile))) / "stats.json"
    stats.parent.mkdir(parents=True)
    stats.write_text("{not json")
    err = fails(capsys, *train_args(store.root))
    assert f"{stats} is damaged" in err and "delete it" in err


def test_pth_holding_a_bare_tensor(tmp_path, capsys):
    torch.save(torch.zeros(3), tmp_path / "t.pth")
    err = fails(capsys, "evaluate", "--weights", str(tmp_path / "t.pth"), "--synthetic")
    assert f"{tmp_path / 't.pth'} holds a Tensor, not a state dict" in err


def test_torchvision_format_on_a_safetensors_file(weights, capsys):
    err = fails(capsys, "evaluate", "--weights", str(weights), "--format", "torchvision", "--synthetic")
    assert f"{weights} is a safetensors file" in err and "--format vgglib" in err


class Pickled:
    """Any class: a file holding it is not a plain state dict."""


def test_pickled_object_refused_without_suggesting_unsafe_loading(tmp_path, capsys):
    torch.save({"net": Pickled()}, tmp_path / "obj.pth")
    err = fails(capsys, "evaluate", "--weights", str(tmp_path / "obj.pth"), "--synthetic")
    assert "pickled Python objects" in err and "state_dict()" in err
    assert "weights_only=False" not in err


def test_class_mismatch(tmp_path, capsys):
    torch.manual_seed(0)
    model = arch.build("A", num_classes=4, width=1 / 16, crop=32, fc_width=16)
    names = ["bar0", "bar30", "bar60", "bar99"]
    arch.save_weights(model, tmp_path / "m.safetensors", (100.0, 100.0, 100.0), names)
    err = fails(capsys, "evaluate", "--weights", str(tmp_path / "m.safetensors"), "--synthetic", "--q", "256")
    assert "bar0, bar30, bar60, bar99" in err and "bar0, bar30, bar60, bar90" in err
    torch.save(torchvision.models.vgg11(num_classes=5).state_dict(), tmp_path / "vgg11.pth")
    err = fails(capsys, "evaluate", "--weights", str(tmp_path / "vgg11.pth"), "--synthetic", "--q", "224")
    assert "5 outputs" in err and "4 classes" in err


def test_classes_are_matched_by_name(tmp_path, capsys):
    """A net whose outputs are in another order than the folder's sorted names scores as itself."""
    torch.manual_seed(0)
    model = arch.build("A", num_classes=4, width=1 / 16, crop=32, fc_width=16)
    names = data.synthetic().train.classes
    arch.save_weights(model, tmp_path / "m.safetensors", (100.0, 100.0, 100.0), names)
    with torch.no_grad():
        for p in (model.classifier.fc8.weight, model.classifier.fc8.bias):
            p.copy_(p.flip(0))
    arch.save_weights(model, tmp_path / "r.safetensors", (100.0, 100.0, 100.0), names[::-1])
    outs = []
    for name in ("m", "r"):
        assert main(["evaluate", "--weights", str(tmp_path / f"{name}.safetensors"), "--synthetic", "--q", "256"]) == 0
        outs.append(capsys.readouterr().out.splitlines()[1:])
    assert outs[0] == outs[1]


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(ValueError, match="bf16 takes"):
        main(train_args(tmp_path, "--set", "bf16=maybe", "--debug"))


def test_no_traceback_from_a_real_process(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "vgglib", *train_args(tmp_path, "--set", "lr=-1")],
                         capture_output=True, text=True, cwd=ROOT, env=env)
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "lr must be > 0" in out.stderr and len(out.stderr.strip().splitlines()) == 2
