"""The benchmark's command keeps working: each subcommand runs end to end on toy sizes and writes
its report, and the page helpers read it."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def test_gpu_check_runs_on_the_cpu_with_tiny_sizes(tmp_path):
    subprocess.run([sys.executable, "-m", "vgglib.bench", "gpu", "--tiny", "--no-compile",
                    "--out", str(tmp_path)],
                   check=True, cwd=ROOT, capture_output=True)
    report = json.loads((tmp_path / "gpu.json").read_text())
    assert report["tiny"] and report["eager"]["images_per_s"] > 0
    assert 0 < report["eager"]["fraction_of_peak"] and report["eager"]["projected_74_epochs_h"] > 0
    # the fed check trains through vgglib.train.train from generated JPEGs, by each data path
    assert set(report["fed"]) == {"cpu decode, eager", "device decode, eager"}
    for fed in report["fed"].values():
        assert fed["images_per_s"] > 0 and fed["of_step_alone"] > 0
        assert fed["projected_74_epochs_h"] == pytest.approx(74 * 1_281_167 / fed["images_per_s"] / 3600, rel=0.01)
    # and the Performance page's table of it, or its absence said plainly
    from vgglib.bench import report as summary
    frame = summary.gpu_frame(report)
    assert list(frame.index) == ["step alone, eager", "fed from JPEGs: cpu decode, eager",
                                 "fed from JPEGs: device decode, eager"]
    assert frame.loc["step alone, eager", "images_per_s"] == report["eager"]["images_per_s"]
    shown = summary.gpu_outputs(tmp_path / "gpu.json")
    assert "on CPU (tiny sizes" in shown[2].data and "fed from JPEGs: cpu decode" in shown[3].data
    assert "Not run on a GPU yet" in summary.gpu_outputs(tmp_path / "absent.json")[0].data
    # the quick Table 4's nets, trained from an empty store, and the table projected from them
    quick = report["quick"]
    assert list(quick["nets"]) == ["A/256", "B/256", "C/256", "D/256", "E/256"]
    assert all(n["images_per_s"] > 0 and 0 < n["fraction_of_peak"] for n in quick["nets"].values())
    assert quick["table4_nets"] == 19 and quick["table4_projected_min"] > 0
    assert any(k.startswith("D Q=") for k in quick["dense_test_ms_per_image"])
    assert "projected to take" in shown[0].data and "A/256" in shown[1].data


def test_throughput_bench_writes_both_reports(tmp_path):
    subprocess.run([sys.executable, "-m", "vgglib.bench", "throughput", "--profile", "smoke", "--configs", "A",
                    "--steps", "2", "--repeats", "1", "--out", str(tmp_path)], check=True, cwd=ROOT,
                   capture_output=True)
    rows = json.loads((tmp_path / "throughput.json").read_text())["throughput"]
    assert rows[0]["config"] == "A" and rows[0]["model_only_img_s"] > 0 and rows[0]["ratio"] > 0
    assert "| A |" in (tmp_path / "throughput.md").read_text()


def test_an_unknown_subcommand_names_the_valid_ones():
    out = subprocess.run([sys.executable, "-m", "vgglib.bench", "sections"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2 and "invalid choice: 'sections'" in out.stderr
    assert all(f"'{name}'" in out.stderr for name in ("all", "throughput", "accuracy", "e2e", "gpu"))


SECTIONS = ("throughput", "torchvision", "fast_paths", "eval_cost", "pipeline", "memory", "limits")


def test_the_page_reads_the_committed_report():
    """The Performance page renders the committed snapshot, whatever code wrote it: every
    section's tables and the throughput bars."""
    from vgglib.bench import report as summary

    committed = json.loads((ROOT / "results" / "quick" / "bench.json").read_text())
    assert set(summary.frames(committed)) == set(SECTIONS)
    bars = summary.throughput_bars(committed)
    assert set(bars["section"]) == {"throughput", "fast_paths"} and (bars["images_per_s"] > 0).all()
    assert "## 7. How far from the machine's limit" in summary.markdown(committed)


@pytest.fixture(scope="module")
def tiny_report(tmp_path_factory):
    """The benchmark driver run once at toy sizes: (bench.json as a dict, bench.md as text)."""
    out = tmp_path_factory.mktemp("bench")
    snapshot = ROOT / "results" / "smoke" / "bench.json"
    existed = snapshot.exists()
    subprocess.run([sys.executable, "-m", "vgglib.bench", "all", "--tiny", "--out", str(out)], check=True,
                   cwd=ROOT, capture_output=True)
    assert snapshot.exists() == existed, "a --tiny run must not write the committed snapshot"
    return json.loads((out / "bench.json").read_text()), (out / "bench.md").read_text()


def rows(report, key, index=0):
    return report["sections"][key]["tables"][index]["rows"]


def test_bench_driver_reports_every_section_with_units(tiny_report):
    report, md = tiny_report
    assert report["tiny"] and report["hardware"] and report["torch"] and report["threads"] > 0
    for n, key in enumerate(SECTIONS, start=1):
        sec = report["sections"][key]
        assert sec["title"].startswith(f"{n}. ")
        assert f"## {sec['title']}" in md
        for tab in sec["tables"]:
            assert tab["rows"] and tab["units"]
            for row in tab["rows"]:
                for column in tab["units"]:
                    value = row.get(column)
                    assert value is None or isinstance(value, (int, float)), (key, column, value)


def test_bench_driver_figures_are_positive_and_consistent(tiny_report):
    report, _ = tiny_report
    t = rows(report, "throughput")[0]
    assert t["model_only_img_s"] > 0 and t["vgglib_step_img_s"] > 0
    tv = rows(report, "torchvision")[0]
    assert min(tv["forward_vgglib"], tv["forward_torchvision"], tv["train_vgglib"], tv["train_torchvision"]) > 0
    assert tv["max_logit_difference"] < 1e-3, "torchvision's net with vgglib's weights computes the same function"
    paths = {r["path"]: r for r in rows(report, "fast_paths")}
    assert paths["fp32 eager"]["images_per_s"] > 0 and paths["fp32 eager"]["speedup"] == 1
    assert paths["bf16 + channels-last"]["images_per_s"] > 0
    assert 0 <= paths["bf16 + channels-last"]["top1_error"] <= 100
    assert paths["bf16 + channels-last + compile"]["decision"].startswith("not measured")
    for r in rows(report, "eval_cost"):
        assert r["dense_ms"] > 0 and r["multicrop_ms"] > 0 and r["macs_ratio"] > 1
    assert all(r["images_per_s_per_core"] > 0 for r in rows(report, "pipeline"))
    paths = {(r["data path"], r["photos"]) for r in rows(report, "pipeline")}
    for photos in ("500×375", "1000×750"):
        assert {("CPU decode, train/", photos), ("CPU decode, pre-resized train-s512/", photos),
                ("device decode (the CPU reads the files)", photos)} <= paths
    cores = rows(report, "pipeline", 1)
    assert len(cores) == len(paths) - 1 and all(v >= 1 for r in cores for k, v in r.items() if "images/s" in k)
    assert rows(report, "memory")[0]["peak_rss"] > 0
    for r in rows(report, "memory", 1):
        assert r["measured_per_image"] == pytest.approx(r["analytic_per_image"], rel=0.05)
    assert all(r["max_batch"] > 256 for r in rows(report, "memory", 2))


def test_performance_page_helpers_read_the_report(tiny_report):
    from vgglib.bench import report as summary

    report, _ = tiny_report
    tables = summary.frames(report)
    assert set(tables) == set(SECTIONS)
    assert any("(images/s)" in c for c in tables["throughput"][0][1].columns)
    bars = summary.throughput_bars(report)
    assert set(bars["section"]) == {"throughput", "fast_paths"} and (bars["images_per_s"] > 0).all()


def test_accuracy_check_trains_fp32_beside_the_profile_run(tmp_path):
    subprocess.run([sys.executable, "-m", "vgglib.bench", "accuracy", "--profile", "smoke",
                    "--runs", str(tmp_path / "runs"), "--out", str(tmp_path)],
                   check=True, cwd=ROOT, capture_output=True)
    report = json.loads((tmp_path / "accuracy.json").read_text())
    assert len(report["rows"]) == 2 and "fp32 eager" in report["rows"]
    assert all(0 <= r["top1"] <= 100 and r["epochs"] >= 1 for r in report["rows"].values())
    assert len(list((tmp_path / "runs").glob("D_256-smoke-*"))) == 2     # the profile's run and the fp32 one


def test_performance_figures_plot_the_reports_rows(tiny_report):
    from vgglib.bench import figures
    from vgglib.bench import report as summary

    report, _ = tiny_report
    ax = figures.throughput(report).axes[0]
    bars = summary.throughput_bars(report)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(bars["net"] + ": " + bars["path"])
    assert [p.get_width() for p in ax.patches] == list(bars["images_per_s"])
    assert figures.breakdown(None).axes[0].texts[0].get_text().startswith("no end-to-end run")


def test_regeneration_table_sums_each_records_wall_time_in_the_paper_order(tmp_path):
    """The Performance page's regeneration table: one row per record with a provenance, in
    reproduce-all's order (not the files' alphabetical one), the benchmarks' files left out,
    and a total that is the sum, said in one sentence."""
    from vgglib.bench import report
    from vgglib.results import ResultSet

    def record(name: str, wall_s: float, pieces: int = 1) -> None:
        prov = {"commit": "abc1234", "wall_s": wall_s, "pieces": pieces, "nets_train_s": 60.0,
                "hardware": "AMD EPYC, 2 cores, CPU only"}
        (tmp_path / f"{name}.json").write_text(json.dumps({"provenance": prov}))

    record("table4", 50 * 60, pieces=3)
    record("table10", 6.0)
    record("table3", 20 * 60)
    (tmp_path / "bench.json").write_text(json.dumps({"wall_s": 300.0}))
    frame = report.regeneration_frame(ResultSet(tmp_path))
    assert list(frame["record"]) == ["table3", "table4", "table10", "all"]
    assert list(frame["wall (min)"]) == [20.0, 50.0, 0.1, 70.1]
    assert list(frame["machine"]) == ["AMD EPYC"] * 3 + [""]
    assert frame["runs of the command"].iloc[-1] == 5
    sentence = report.regeneration_sentence(frame)
    assert "Table 4 (`make reproduce-table4`) took 50 minutes (0.8 h) from an empty run store" in sentence
    record("table2", 100 * 60)
    sentence = report.regeneration_sentence(report.regeneration_frame(ResultSet(tmp_path)), "2 CPU cores")
    assert "all 4 records together (`make reproduce-all`) took 170 minutes" in sentence
    assert sentence.endswith("on 2 CPU cores.")


def test_precision_sentence_weighs_bf16_against_fp32_as_two_different_nets():
    """The Departures page's bf16 measurement: the gap between the two D/256 runs, judged with the
    noise of two different nets (Table 4's pooled multi-scale seed variance and the unpaired
    bound on its test images); without the report, the command."""
    from vgglib import noise
    from vgglib.bench import report

    def acc(bf16: float, fp32: float) -> dict:
        row = {"epochs": 20, "train_s": 600}
        return {"row": "D/256", "commit": "abc1234", "rows": {"bf16 + channels-last": {**row, "top1": bf16},
                                                              "fp32 eager": {**row, "top1": fp32}}}
    table4 = {"noise": {"D/256": {"seeds": {"0": {"multi": 8.4, "single": 9.0}, "1": {"multi": 8.6, "single": 8.0}}}},
              "provenance": {"test_images": 10_000}}
    width, _ = noise.between(table4, "bf16", "fp32", 8.5, 8.4, measure="multi")
    inside = report.precision_sentence(acc(8.5, 8.4), table4)
    assert "8.50%" in inside and "8.40%" in inside and "bf16 is 0.10 points worse, inside" in inside
    assert f"± {width:.2f} points" in inside and width > 0.1
    outside = report.precision_sentence(acc(8.1, 9.4), table4)
    assert "bf16 is 1.30 points better, outside" in outside and "a single comparison" in outside
    assert "make bench-accuracy" in report.precision_sentence(None, table4)


def test_readmes_regeneration_total_is_the_committed_records():
    """The README's reproduce-all row quotes the regeneration's total; it must be the committed
    quick records' total (as the Performance page computes it), so a regeneration updates both."""
    import re

    from vgglib.bench import report
    from vgglib.results import ResultSet

    readme = (ROOT / "README.md").read_text()
    quoted = re.search(r"the committed records took ([\d.]+) h together", readme)
    frame = report.regeneration_frame(ResultSet(ROOT / "results" / "quick"))
    assert quoted and float(quoted[1]) == round(frame["wall (min)"].iloc[-1] / 60, 1)
    lead = re.search(r"`quick` Table 4 took ([\d.]+) h from an empty run\s+store, and all records ([\d.]+) h", readme)
    walls = dict(zip(frame["record"], frame["wall (min)"]))
    assert lead and (float(lead[1]), float(lead[2])) == (round(walls["table4"] / 60, 1), round(walls["all"] / 60, 1))
    gpu = report.GPU_REPORT
    assert ("On one GPU: not measured yet" in readme) == (not gpu.exists())
