"""Nothing stale: run keys follow the data's content and their kind's version (the behaviour
suite, tests/test_behaviour.py, guards the versions); weight files carry classes and a checksum,
byte-identical when their tensors are; a failed run leaves no directory behind."""
import pytest
import torch

from vgglib import arch, data
from vgglib.profiles import get_profile, parse_field
from vgglib.results import provenance_line
from vgglib.runs import Row, RunStore, make_spec
from vgglib.train import dataset_id, train

PROFILE = get_profile("smoke").with_(dataset="synthetic", width=1 / 16, fc_width=16, batch=16, max_epochs=1,
                                     val_size=32, train_limit=64, test_limit=32)


def test_changed_data_never_reuses_a_run():
    a = data.synthetic(n_train=64, seed=0)
    b = data.synthetic(n_train=64, seed=0)
    assert dataset_id(a) == dataset_id(b)
    b.train.images[0, 0, 0, 0] ^= 1
    b.meta.pop("fingerprint", None)
    changed = data.Splits(b.train, b.val, b.test, b.name)
    assert dataset_id(changed) != dataset_id(a)
    assert make_spec(Row("A", 256), PROFILE, dataset_id(changed), 0, None).key != \
        make_spec(Row("A", 256), PROFILE, dataset_id(a), 0, None).key


def test_weight_files_are_byte_identical_and_checked(tmp_path):
    torch.manual_seed(0)
    model = arch.build("A", num_classes=3, width=1 / 16, crop=32, fc_width=16)
    arch.save_weights(model, tmp_path / "a.safetensors", (1.0, 2.0, 3.0), ["x", "y", "z"])
    arch.save_weights(model, tmp_path / "b.safetensors", (1.0, 2.0, 3.0), ["x", "y", "z"])
    raw = (tmp_path / "a.safetensors").read_bytes()
    assert raw == (tmp_path / "b.safetensors").read_bytes()
    assert arch.weights_metadata(tmp_path / "a.safetensors")["classes"] == ["x", "y", "z"]
    flipped = bytearray(raw)
    flipped[-5] ^= 0xFF                       # a byte inside the last tensor
    (tmp_path / "c.safetensors").write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match="c.safetensors is damaged.*checksum"):
        arch.load_weights(tmp_path / "c.safetensors")


def test_a_failed_run_leaves_no_directory(tmp_path):
    splits = data.profile_splits(PROFILE)
    spec = make_spec(Row("A", 256), PROFILE.with_(batch=1000), dataset_id(splits), 0, None)
    with pytest.raises(ValueError, match="cannot fill one batch"):
        train(spec, RunStore(tmp_path), splits, PROFILE, progress=False)
    assert not (tmp_path / spec.dirname).exists()


@pytest.mark.parametrize("text, value", [("true", True), ("on", True), ("YES", True), ("1", True),
                                         ("off", False), ("no", False), ("0", False), ("False", False)])
def test_set_booleans(text, value):
    assert parse_field("bf16", text) is value


@pytest.mark.parametrize("pair, message", [
    ("bf16=maybe", "bf16 takes true/false"), ("batch=abc", "batch takes an integer"),
    ("max_epochs=-1", "max_epochs must be >= 1"), ("lr=0", "lr must be > 0"),
    ("val_size=1.5", "val_size must be a count"), ("dropout=1", r"dropout must be in \[0, 1\)"),
    ("colour=1", "no profile field 'colour'")])
def test_set_refuses_values_naming_the_field(pair, message):
    field, _, value = pair.partition("=")
    with pytest.raises(ValueError, match=message):
        parse_field(field, value)
    assert parse_field("val_size", "0.1") == 0.1 and parse_field("val_size", "100") == 100


def test_a_page_built_from_a_dirty_tree_says_so():
    prov = {"profile": "smoke", "hardware": "cpu", "date": "today", "wall_s": 60}
    assert "uncommitted" not in provenance_line({**prov, "commit": "abc1234"})
    assert "uncommitted changes" in provenance_line({**prov, "commit": "abc1234+dirty"})


def test_a_commit_is_dirty_for_code_changes_not_for_results(tmp_path, monkeypatch):
    """reproduce writes results/ as it goes: its own outputs must not mark the next table dirty."""
    import subprocess

    from vgglib import results

    def git(*args):
        subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=tmp_path, check=True,
                       capture_output=True)
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "t.json").write_text("{}")
    (tmp_path / "code.py").write_text("x = 1\n")
    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "c")
    monkeypatch.setattr(results, "REPO", tmp_path)
    (tmp_path / "results" / "t.json").write_text('{"new": 1}')
    assert not results.git_commit().endswith("+dirty")
    (tmp_path / "code.py").write_text("x = 2\n")
    assert results.git_commit().endswith("+dirty")


def test_a_fine_tuning_cap_retrains_only_the_fine_tuned_nets():
    """The learning rate and epoch cap are in a spec as resolved for its run, so changing the
    fine-tuning cap keeps the key of a net trained from scratch and changes a fine-tuned one's."""
    longer = PROFILE.with_(max_epochs_finetune=PROFILE.max_epochs_finetune + 1)
    assert make_spec(Row("A", 256), longer, "d", 0, None).key == make_spec(Row("A", 256), PROFILE, "d", 0, None).key
    assert make_spec(Row("D", 384), longer, "d", 0, "p").key != make_spec(Row("D", 384), PROFILE, "d", 0, "p").key
    assert make_spec(Row("D", 384), longer, "d", 0, "p").max_epochs == PROFILE.max_epochs_finetune + 1


def test_a_kinds_version_is_in_its_keys_and_caches(monkeypatch):
    """Bumping the classifier's version renews every net (and so the posteriors and features
    cached in their directories and the localisers keyed by them); bumping another kind's keeps
    the nets."""
    from vgglib import identity

    key = make_spec(Row("A", 256), PROFILE, "d", 0, None).key
    monkeypatch.setitem(identity.VERSIONS, "posteriors", identity.VERSIONS["posteriors"] + 1)
    assert make_spec(Row("A", 256), PROFILE, "d", 0, None).key == key
    monkeypatch.setitem(identity.VERSIONS, "classifier", identity.VERSIONS["classifier"] + 1)
    assert make_spec(Row("A", 256), PROFILE, "d", 0, None).key != key
    with pytest.raises(ValueError, match="unknown kind of computation 'net'; valid: classifier, localiser"):
        identity.version("net")


def test_every_profile_field_is_in_the_key_or_said_not_to_change_the_weights():
    """A new profile field that changes what a net computes must enter the spec's settings."""
    from vgglib.profiles import Profile
    from vgglib.runs import Settings

    speed = {"name", "workers", "eval_batch", "ckpt_every_steps", "train_folder", "decode"}
    data = {"dataset", "val_size", "train_limit", "test_limit"}              # keyed by the data's content
    resolved = {"lr", "lr_finetune", "max_epochs", "max_epochs_finetune"}    # per run: RunSpec.lr, .max_epochs
    sections = {"localisation", "transfer"}                                  # the localiser's own key, the features'
    nets = {"noise_seeds"}                                       # how many nets a table trains, not what one computes
    outside = speed | data | resolved | sections | nets
    assert set(Profile.__dataclass_fields__) == set(Settings.__dataclass_fields__) | outside
    assert set(Settings.__dataclass_fields__).isdisjoint(outside)
