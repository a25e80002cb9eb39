"""The compute floor counts a table's work from its declaration and the run store, and the
end-to-end driver puts wall time, floor and breakdown into one report."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vgglib import plan
from vgglib.bench import e2e, floor
from vgglib.parts.classification.rows import TABLE4_ROWS
from vgglib.profiles import get_profile

ROOT = Path(__file__).resolve().parent.parent


def test_table4_trains_its_rows_their_chains_and_the_noise_seeds():
    nets = plan.table_nets("table4", seeds=4)
    assert {r for r, s in nets if s == 0} >= set(TABLE4_ROWS) | {"A/256", "D/384"}
    assert nets[("D/256", 0)]["dense"] == {224, 256, 288}
    for seed in (1, 2, 3):   # the seed noise: D/256, D/384 and D/[256;512], each through its own chain
        assert nets[("A/256", seed)] == {}
        assert nets[("D/256", seed)] == {"dense": {224, 256, 288}}
        assert nets[("D/384", seed)] == {"dense": {352, 384, 416}}
        assert nets[("D/256-512", seed)] == {"dense": {256, 384, 512}}
    assert ("A/256", 4) not in nets and ("B-5x5/256", 0) not in nets
    assert len(nets) - len(plan.table_nets("table4", seeds=1)) == 3 * 4   # A, D/256, D/384, D/[256;512] per seed
    assert plan.table_nets("table3", seeds=1)[("B-5x5/256", 0)] == {"centre": {256}}


def fake_run(runs: Path, row: str, seed: int, epochs: int, posteriors: dict[str, float], done_at: float) -> None:
    run = runs / f"{row.replace('/', '_')}-smoke-{seed}"
    (run / "posteriors").mkdir(parents=True)
    (run / "spec.json").write_text(json.dumps({"row": row, "profile": "smoke", "seed": seed}))
    (run / "done.json").write_text(json.dumps({"epochs": epochs, "wall_s": 10.0}))
    (run / "metrics.json").write_text(json.dumps([{"epoch_s": 4.0}] * epochs))
    os.utime(run / "done.json", (done_at, done_at))
    for name, at in posteriors.items():
        (run / "posteriors" / name).write_bytes(b"")
        os.utime(run / "posteriors" / name, (at, at))


def test_floor_reads_epochs_from_the_store_and_divides_by_the_peak(tmp_path):
    p = get_profile("smoke")
    capped = {w.net: w for w in floor.table_work("table3", p) if w.part == "train"}
    assert capped["A/256 seed 0"].what.endswith("(profile cap)")
    fake_run(tmp_path, "A/256", 0, 1, {}, 1000.0)
    stored = {w.net: w for w in floor.table_work("table3", p, tmp_path) if w.part == "train"}
    assert stored["A/256 seed 0"].what == "1 epochs (run store)"
    assert stored["A/256 seed 0"].flops == pytest.approx(capped["A/256 seed 0"].flops / p.max_epochs)
    work = floor.table_work("table3", p, tmp_path)
    slow = floor.floor_summary(work, {"fp32": 10.0, "bf16": 20.0})
    fast = floor.floor_summary(work, {"fp32": 20.0, "bf16": 40.0})
    assert slow["floor_s"] == pytest.approx(2 * fast["floor_s"], rel=0.01)
    assert set(slow["by_part_s"]) == {"train", "validation", "test"}


def test_store_times_and_breakdown_add_up_to_the_wall_time(tmp_path):
    fake_run(tmp_path, "A/256", 0, 2, {"test128-dense-q32-5cdecd9a5e5c.pt": 1003.0,
                                       "test128-dense-q37-5cdecd9a5e5c.pt": 1005.0}, 1000.0)
    fake_run(tmp_path, "B/256", 0, 1, {"test128-multi-crop-q37-5cdecd9a5e5c.pt": 1020.0}, 1012.0)
    nets, evals = e2e.store_times(tmp_path)
    assert {n["net"]: n["train_s"] for n in nets} == {"A/256 seed 0": 8.0, "B/256 seed 0": 4.0}
    assert [(e["method"], e["q_px"], e["seconds"]) for e in evals] == [
        ("dense", 32, 3.0), ("dense", 37, 2.0), ("multi-crop", 37, 8.0)]
    work = floor.table_work("table3", get_profile("smoke"), tmp_path)
    summary = floor.floor_summary(work, {"fp32": 1e3, "bf16": 1e3})
    rows = e2e.breakdown({"reproduce": 60.0, "book": 5.0}, nets, evals, summary)
    assert sum(r["wall_s"] for r in rows) == pytest.approx(65.0)
    assert rows[-1] == {"component": "book", "wall_s": 5.0, "floor_s": 0.0}


@pytest.mark.slow
def test_e2e_driver_writes_wall_floor_and_ratio(tmp_path):
    out = tmp_path / "e2e.json"
    subprocess.run([sys.executable, "-m", "vgglib.bench", "e2e", "--profile", "smoke", "--table", "table3",
                    "--runs", str(tmp_path / "runs"), "--stage", "reproduce=true", "--stage", "book=true",
                    "--out", str(out)], check=True, cwd=ROOT, capture_output=True)
    report = json.loads(out.read_text())
    # smoke trains in fp32, so only the fp32 peak is measured: the bf16 one would divide nothing
    assert report["floor_s"] > 0 and list(report["peaks_gflop_s"]) == ["fp32"] and report["peaks_gflop_s"]["fp32"] > 0
    assert report["wall_over_floor"] == pytest.approx(report["wall_s"] / report["floor_s"], rel=0.05, abs=0.01)
    assert [r["component"] for r in report["breakdown"]][-1] == "book"
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_e2e_continues_an_unfinished_run_in_a_second_piece(tmp_path):
    """A stage that fails keeps the time spent; the same command continues without emptying the
    store or rerunning the finished stage, and the wall time is the sum over both pieces."""
    runs, out, flag = tmp_path / "runs", tmp_path / "e2e.json", tmp_path / "flag"
    cmd = [sys.executable, "-m", "vgglib.bench", "e2e", "--profile", "smoke", "--table", "table3",
           "--runs", str(runs), "--stage", f"first=sleep 1; echo x >> {tmp_path / 'first'}",
           "--stage", f"second=sleep 1; test -e {flag}", "--keep-runs", "--out", str(out)]
    failed = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert failed.returncode != 0 and "the same command continues" in failed.stderr
    state = json.loads((runs / e2e.STATE).read_text())
    assert state["done"] == ["first"] and state["stages_s"]["second"] >= 1.0
    (runs / "kept").write_text("")
    flag.write_text("")
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    report = json.loads(out.read_text())
    assert (tmp_path / "first").read_text() == "x\n"  # the finished stage did not run again
    assert (runs / "kept").exists() and not (runs / e2e.STATE).exists()
    assert len(report["pieces"]) == 2 and len(report["peaks_per_piece"]) == 2
    assert report["stages_s"]["second"] >= 2.0
    assert report["wall_s"] == pytest.approx(sum(report["stages_s"].values()), abs=0.2)


def test_e2e_refuses_a_store_begun_with_other_code(tmp_path):
    (tmp_path / e2e.STATE).write_text(json.dumps({"code": "0123456789ab", "stages_s": {}, "done": [],
                                                   "pieces": [], "peaks": []}))
    with pytest.raises(SystemExit, match="--fresh"):
        e2e.start_or_resume(tmp_path, fresh=False)
    assert e2e.start_or_resume(tmp_path, fresh=True)["done"] == [] and not (tmp_path / e2e.STATE).exists()


@pytest.mark.parametrize("table", ["table3", "table4", "table5"])
def test_the_floor_counts_the_nets_the_table_evaluates(smoke_results, table):
    """The floor's declaration of a table's nets is the set its driver actually evaluated (its
    record's runs), so the floor cannot fall behind a change of the drivers."""
    from vgglib.results import ResultSet

    evaluated = set(ResultSet(smoke_results)[table]["provenance"]["runs"])
    nets = plan.table_nets(table, get_profile("smoke").noise_seeds)
    declared = {row if seed == 0 else f"{row}#{seed}" for (row, seed), tests in nets.items()
                if tests}
    assert declared == evaluated


def test_the_benchmarks_floor_counts_the_end_to_end_runs_work(tmp_path, monkeypatch):
    """make bench's Table 4 floor divides the arithmetic the latest end-to-end run counted (the
    epochs its nets actually ran) by its own peaks, so it and the end-to-end report agree up to
    the peaks; with no end-to-end report for the profile, it counts from the run store."""
    from vgglib.bench import limits

    p = get_profile("smoke")
    work = floor.table_work("table3", p, tmp_path)
    peaks = {"fp32": 1e3, "bf16": 2e3}
    e2e_report = {"profile": "smoke", "date": "d", "commit": "c", "floor": floor.floor_summary(work, peaks)}
    counted, where = limits.table4_work(p, e2e_report)
    assert counted == work and "end-to-end run of d (commit c)" in where
    assert floor.floor_summary(counted, peaks)["floor_s"] == e2e_report["floor"]["floor_s"]
    halved = floor.floor_summary(counted, {k: 2 * v for k, v in peaks.items()})["floor_s"]
    assert halved == pytest.approx(e2e_report["floor"]["floor_s"] / 2, abs=0.1)
    monkeypatch.setenv("VGGLIB_RUNS", str(tmp_path))
    _, where = limits.table4_work(p, {**e2e_report, "profile": "quick"})
    assert where == "the run store's where it holds the nets, else the profile's caps"
