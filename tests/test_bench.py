"""The benchmark scripts keep working: both run end to end on toy sizes and write reports."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def test_gpu_check_runs_on_the_cpu_with_tiny_sizes(tmp_path):
    subprocess.run([sys.executable, "bench/gpu.py", "--tiny", "--no-compile", "--out", str(tmp_path)],
                   check=True, cwd=ROOT, capture_output=True)
    report = json.loads((tmp_path / "gpu.json").read_text())
    assert report["tiny"] and report["eager"]["images_per_s"] > 0
    assert 0 < report["eager"]["fraction_of_peak"] and report["eager"]["projected_74_epochs_h"] > 0


def test_throughput_bench_writes_both_reports(tmp_path):
    subprocess.run([sys.executable, "bench/throughput.py", "--profile", "smoke", "--configs", "A",
                    "--steps", "2", "--repeats", "1", "--out", str(tmp_path)], check=True, cwd=ROOT,
                   capture_output=True)
    rows = json.loads((tmp_path / "throughput.json").read_text())["throughput"]
    assert rows[0]["config"] == "A" and rows[0]["model_only_img_s"] > 0 and rows[0]["ratio"] > 0
    assert "| A |" in (tmp_path / "throughput.md").read_text()
