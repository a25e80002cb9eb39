"""Section notebooks compute their section: Table 4's notebook, executed by papermill with compute
on from an empty run store, writes the record the command line writes; a part of the table gets
a folder of its own and never replaces the table; ``make reproduce-table4`` keeps the executed
notebook beside the record and builds the book from it."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow
TABLE4 = ROOT / "notebooks" / "table4_multi_scale.md"


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """An empty run store of this module's own, which every kernel and command it starts uses."""
    base = tmp_path_factory.mktemp("compute")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("VGGLIB_RUNS", str(base / "runs"))
        yield base


def numbers(record: dict) -> dict:
    """A record without its provenance (when, where, how long): what was measured."""
    return {k: v for k, v in record.items() if k != "provenance"}


def outputs(notebook: Path) -> list[dict]:
    """Every output of an executed notebook's code cells."""
    nb = nbformat.read(notebook, as_version=4)
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def test_table4_notebook_computes_the_record_the_command_line_writes(store):
    from vgglib.notebook import run

    assert not (store / "runs").exists(), "the run store starts empty"
    log = run("table4", "smoke", store / "notebook")
    record = json.loads((store / "notebook" / "table4.json").read_text())
    assert log == store / "notebook" / "logs" / "table4.ipynb"
    printed = "".join(o.get("text", "") for o in outputs(log) if o["output_type"] == "stream")
    assert "A/256 epoch" in printed and "table4: " in printed, "the log shows the training and its time"
    assert not [o for o in outputs(log) if o["output_type"] == "error"]
    assert nbformat.read(log, as_version=4).metadata.papermill.parameters["compute"] == "recompute"

    subprocess.run([sys.executable, "-m", "vgglib", "reproduce", "table4", "--profile", "smoke", "--quiet",
                    "--results", str(store / "cli")], check=True, cwd=ROOT)
    cli = json.loads((store / "cli" / "table4.json").read_text())
    assert numbers(record) == numbers(cli)
    assert record["provenance"]["runs"] == cli["provenance"]["runs"], "the same nets, from the same store"
    assert set(record["rows"]) == set(cli["rows"]) and "selection" not in record


def test_a_part_of_table4_is_named_for_its_rows_and_scales(store, tmp_path):
    """Two rows at other test scales, through papermill as a user would run it: the record
    lands in a folder named for them, says what it holds, and the full record stays as it was."""
    import papermill as pm

    from vgglib.book import check_parameters, convert

    results = store / "notebook"
    full = (results / "table4.json").read_bytes()
    src = convert(TABLE4, tmp_path / "table4.ipynb")
    params = {"profile": "smoke", "results_dir": str(results), "compute": "missing",
              "rows": ["E/256", "D/256"], "scales": [320, 256]}
    check_parameters(src, params)
    pm.execute_notebook(str(src), str(tmp_path / "out.ipynb"), parameters=params, kernel_name="vgglib",
                        cwd=str(ROOT), progress_bar=False)
    part = results / "table4-D256-E256-q256_320" / "table4.json"
    record = json.loads(part.read_text())
    assert record["selection"] == {"rows": ["D/256", "E/256"], "scales": [256, 320]}
    assert list(record["rows"]) == ["D/256", "E/256"]
    assert all(r["multi"]["Q"] == [256, 320] for r in record["rows"].values())
    assert set(record["pairs"]) == {"E/256 vs D/256"}
    assert (results / "table4.json").read_bytes() == full, "the full record is never overwritten"
    shown = "".join(str(o.get("data", {}).get("text/html", "")) for o in outputs(tmp_path / "out.ipynb"))
    assert "256,320" in shown, "the page rendered the part it computed"


def test_choices_are_checked_by_name(store):
    from vgglib.book import check_parameters, convert
    from vgglib.notebook import section

    with pytest.raises(ValueError, match="offers no choice 'row'; it offers: rows, scales, method, seeds"):
        section("table4", "smoke", "missing", store / "notebook", row=["D/256"])
    with pytest.raises(ValueError, match="choose one of render, missing, recompute"):
        section("table4", "smoke", "always", store / "notebook")
    with pytest.raises(ValueError, match="choose one or more of B/256"):
        section("table4", "smoke", "missing", store / "notebook", rows=["A/256"])
    with pytest.raises(FileNotFoundError, match='compute = "missing"'):
        section("table4", "smoke", "render", store / "nothing")
    nb = convert(TABLE4, store / "src" / "table4.ipynb")
    with pytest.raises(ValueError, match="declares no parameter 'row'; it declares: profile, results_dir, compute"):
        check_parameters(nb, {"profile": "smoke", "row": "D/256"})


def test_make_reproduce_table4_keeps_the_notebook_and_builds_the_book(store, tmp_path):
    """The Makefile's recipe itself, with the records and the book in temporary folders; the
    environment's stamp stands in for .venv/.installed, so make installs nothing."""
    book = tmp_path / "book"
    shutil.copytree(ROOT / "book", book, ignore=shutil.ignore_patterns("_build", "_nb"))
    stamp = tmp_path / "installed"
    stamp.touch()
    results = tmp_path / "results"
    done = subprocess.run(["make", "--no-print-directory", "reproduce-table4", "PROFILE=smoke", f"RESULTS={results}",
                           f"BOOK={book}", f"STAMP={stamp}"], cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ, "VGGLIB_RUNS": str(store / "runs")})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (results / "table4.json").is_file() and (results / "logs" / "table4.ipynb").is_file()
    assert nbformat.read(results / "logs" / "table4.ipynb", as_version=4).metadata.papermill.parameters == {
        "profile": "smoke", "results_dir": str(results), "compute": "recompute"}
    html = book / "_build" / "html" / "_nb"
    assert "<img" in (html / "table4_multi_scale.html").read_text()
    assert "No record of table3" in (html / "table3_single_scale.html").read_text()


def test_a_stopped_notebook_run_books_its_time_for_the_rerun(tmp_path):
    """SIGTERM to ``python -m vgglib.notebook`` while its kernel trains (a queue's stop, a session's
    end) reaches the kernel: the compute cell books the piece's wall time in the run store's
    ledger, writes no record, and the command says it stopped, so the rerun counts both pieces."""
    runs = tmp_path / "runs"
    env = {**os.environ, "VGGLIB_RUNS": str(runs)}
    proc = subprocess.Popen([sys.executable, "-m", "vgglib.notebook", "table4", "--profile", "smoke",
                             "--results", str(tmp_path / "out")], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not list(runs.glob("*/spec.json")):  # the kernel is training its first net
        assert proc.poll() is None and time.monotonic() < deadline, "the run ended before it trained a net"
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM and "stopped" in err, err[-2000:]
    (seconds, pieces), = json.loads((runs / "reproduce-time.json").read_text()).values()
    assert pieces == 1 and seconds > 0
    assert not (tmp_path / "out" / "table4.json").exists()
