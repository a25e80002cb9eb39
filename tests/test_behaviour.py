"""Run keys by behaviour: the suite of tiny deterministic runs matches its committed reference;
a pure refactor of a copy of the package keeps every key and every output; a change of the
augmentation's semantics fails the suite, naming the version to bump, until it is bumped; and
an edit of Appendix A's code moves the localiser's outputs, never a classification net's key."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vgglib import behaviour, identity

ROOT = Path(__file__).resolve().parent.parent

#: Run in a copy of the package: every run key of the rows a profile trains, and the suite's
#: verdict on the kinds asked for.
PROBE = """
import json, sys
from vgglib import behaviour, boxes, identity
from vgglib.box_data import LocSplits
from vgglib.profiles import get_profile
from vgglib.runs import Row, make_spec
rows = ["A/256", "A-LRN/256", "B/256", "C/384", "D/256-512", "E/256:glorot", "B-5x5/256"]
keys = {f"{r}@{p}": make_spec(Row.parse(r), get_profile(p), "data", 0, "parent").key
        for r in rows for p in ("smoke", "quick", "full")}
data = LocSplits(None, None, None, name="canvases")
keys["localiser"] = boxes.localiser_spec("D/384", "PCR", "all", get_profile("quick"), data, 0, "parent",
                                         ("conv1_1",), 80).key
kinds = tuple(sys.argv[1:])
measured = behaviour.measure(kinds) if kinds else {}
problems = behaviour.check(measured, json.loads(behaviour.REFERENCE.read_text()))
print(json.dumps({"keys": keys, "problems": problems}))
"""


def probe(package: Path, *kinds: str) -> dict:
    """Keys and the suite's problems, computed by the package at ``package`` (a copy)."""
    env = {**os.environ, "PYTHONPATH": str(package.parent)}
    out = subprocess.run([sys.executable, "-c", PROBE, *kinds], env=env, capture_output=True, text=True,
                         cwd=package.parent, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture
def package_copy(tmp_path) -> Path:
    """A copy of vgglib's sources (with its committed reference), importable on its own."""
    copy = tmp_path / "vgglib"
    shutil.copytree(ROOT / "vgglib", copy, ignore=shutil.ignore_patterns("__pycache__", "parts", "bench"))
    (copy / "parts").mkdir()
    (copy / "parts" / "__init__.py").write_text("")
    return copy


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace ``old`` in a file, checking that it was there."""
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, count))


def test_the_suite_matches_its_committed_reference():
    reference = json.loads(behaviour.REFERENCE.read_text())
    measured = behaviour.measure()
    assert behaviour.check(measured, reference) == []
    assert {kind: ref["version"] for kind, ref in reference.items()} == identity.VERSIONS
    assert len(measured["classifier"]) == 19 and all(measured.values())


def test_the_check_names_the_version_to_bump_and_a_stale_reference():
    probe_ = behaviour.summary([1.0, 2.0, 3.0])
    reference = {"posteriors": {"version": 1, "probes": {"dense": probe_}}}
    moved = {"posteriors": {"dense": behaviour.summary([1.0, 2.0, 3.01])}}
    assert behaviour.check({"posteriors": {"dense": behaviour.summary([1.0, 2.0, 3.0000001])}}, reference,
                           {"posteriors": 1}) == []
    [problem] = behaviour.check(moved, reference, {"posteriors": 1})
    assert "posteriors: outputs moved without a version bump (dense)" in problem
    assert "bump VERSIONS['posteriors'] in vgglib/identity.py (to 2)" in problem
    [problem] = behaviour.check(moved, reference, {"posteriors": 2})
    assert "version 1's values and the code is at version 2" in problem and "--write" in problem


def test_a_pure_refactor_keeps_every_key_and_every_output(package_copy):
    """A module moved (dropout → masks), a helper renamed (derived_seed → seed_of) and type
    hints added: nothing a run computes changes, so no key moves and the suite passes."""
    before = probe(package_copy)
    (package_copy / "dropout.py").rename(package_copy / "masks.py")
    for path in package_copy.rglob("*.py"):
        text = path.read_text()
        text = text.replace("from .dropout import", "from .masks import")
        text = re.sub(r"\bderived_seed\b", "seed_of", text)
        path.write_text(text)
    edit(package_copy / "masks.py", "        keep = keep_mask(", "        keep: torch.Tensor = keep_mask(")
    after = probe(package_copy, *identity.VERSIONS)
    assert after["problems"] == []
    assert after["keys"] == before["keys"]


def test_a_change_of_the_augmentations_semantics_fails_until_its_version_is_bumped(package_copy):
    before = probe(package_copy)
    edit(package_copy / "augment.py", '"flip": torch.rand(n, generator=generator) < 0.5',
         '"flip": torch.rand(n, generator=generator) < 0.25')
    changed = probe(package_copy, "classifier")
    [problem] = changed["problems"]
    assert problem.startswith("classifier: outputs moved without a version bump (")
    assert "augment, fixed S;" in problem and "augment, jittered S;" in problem
    assert "bump VERSIONS['classifier'] in vgglib/identity.py" in problem
    assert changed["keys"] == before["keys"]
    edit(package_copy / "identity.py", '"classifier": 3', '"classifier": 4')
    bumped = probe(package_copy)
    nets = set(before["keys"]) - {"localiser"}      # a localiser's key moves with its donor's key
    assert all(bumped["keys"][k] != before["keys"][k] for k in nets)
    assert subprocess.run([sys.executable, "-m", "vgglib.behaviour", "--kinds", "classifier"], cwd=package_copy.parent,
                          env={**os.environ, "PYTHONPATH": str(package_copy.parent)},
                          capture_output=True, text=True).stderr.count("--write") == 1


def test_editing_appendix_a_code_moves_the_localiser_and_no_classification_key(package_copy):
    before = probe(package_copy)
    edit(package_copy / "boxes.py", "return box_loss(output, boxes, labels)",
         "return 2 * box_loss(output, boxes, labels)")
    after = probe(package_copy, "classifier", "localiser")
    assert after["keys"] == before["keys"]
    [problem] = after["problems"]
    assert problem.startswith("localiser: outputs moved without a version bump")
