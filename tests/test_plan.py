"""The plan before a long run: the nets a table trains and those the store has, their epochs,
an estimate of the wall time that a real run bears out, and one progress bar over the table."""
import json
import subprocess
import sys
import time
from pathlib import Path

from vgglib import data
from vgglib.plan import NetPlan, Plan, plan_table
from vgglib.profiles import get_profile
from vgglib.reproduce import reproduce
from vgglib.runs import RunStore

ROOT = Path(__file__).resolve().parent.parent


def test_plan_trains_nothing_and_its_estimate_holds_within_a_factor_of_two(tmp_path):
    runs, results = tmp_path / "runs", tmp_path / "results"
    shown = subprocess.run([sys.executable, "-m", "vgglib", "reproduce", "table4", "--plan", "--profile", "smoke",
                            "--runs", str(runs), "--results", str(results)],
                           cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "Plan for table4 at profile smoke: 19 of 19 nets to train" in shown
    assert "Estimated wall time on this machine:" in shown
    assert not list(runs.glob("*/spec.json")) and not list(results.glob("*.json"))   # nothing trained or written

    p = get_profile("smoke")
    splits = data.profile_splits(p)
    estimate = plan_table("table4", p, splits, RunStore(runs)).estimate_s
    started = time.perf_counter()
    reproduce("table4", "smoke", results_root=results, runs=runs, progress=False)
    wall = time.perf_counter() - started
    assert estimate / 2 <= wall <= 2 * estimate, (estimate, wall)

    after = plan_table("table4", p, splits, RunStore(runs), results, probe=False)
    assert all(n.stored and n.epochs_from == "run store" for n in after.nets) and after.epochs == 0
    done = {n.name: n.epochs for n in after.nets}
    record = (results / "table4.json").read_text()
    assert f'"epochs": {done["D/256"]}' in record


def test_the_table_bar_counts_every_epoch_and_drops_those_a_schedule_saves():
    plan = Plan("table4", "smoke", [NetPlan("A/256", 0, False, 4, "profile cap"),
                                    NetPlan("B/256", 0, False, 4, "records"),
                                    NetPlan("C/256", 0, True, 3, "run store")])
    bar = plan.bar(enabled=False)
    assert bar.total == 8
    for _ in range(2):
        bar.epoch_done("A/256", 0)
    bar.net_done("A/256", 0)                   # the schedule stopped A after 2 of its 4 epochs
    assert (bar.done, bar.total) == (2, 6)
    for _ in range(5):                         # B ran one epoch more than its records said
        bar.epoch_done("B/256", 0)
    bar.net_done("B/256", 0)
    assert (bar.done, bar.total) == (7, 7)


def test_a_seed_the_records_lack_expects_the_epochs_of_its_rows_first_seed(tmp_path):
    """A profile with more noise seeds than the records hold: a new seed is expected to take the
    epochs its row's first seed took, not the profile's cap."""
    results = tmp_path / "results"
    results.mkdir()
    training = {"D/256": {"epochs": 7, "stopped_by": "schedule"}, "D/256#1": {"epochs": 9, "stopped_by": "schedule"}}
    (results / "table4.json").write_text(json.dumps({"provenance": {"commit": "abc1234", "training": training}}))
    p = get_profile("smoke").with_(noise_seeds=3, max_epochs=50, max_epochs_finetune=50)
    plan = plan_table("table4", p, data.profile_splits(p), RunStore(tmp_path / "runs"), results, probe=False)
    by = {n.name: n for n in plan.nets}
    assert (by["D/256#1"].epochs, by["D/256#1"].epochs_from) == (9, "records")
    assert (by["D/256#2"].epochs, by["D/256#2"].epochs_from) == (7, "records, seed 0")
    assert (by["D/384#2"].epochs, by["D/384#2"].epochs_from) == (50, "profile cap")
