"""The end-to-end check of issue 14, item 1: a table reproduced from an empty run store, its
wall time beside its compute floor, both measured in one run, and where the time went.

    python -m vgglib.parts.performance.e2e --profile quick --runs out/bench/e2e-runs \\
        --stage reproduce="python -m vgglib reproduce --profile quick table4" --stage book="make book"

It measures the bf16 and fp32 matmul peaks first, empties the run store, runs each stage as
a subprocess (with ``VGGLIB_RUNS`` pointing at the store) and times it, then reads the store:
each net's training time and epochs (``done.json``, ``metrics.json``), and the test
evaluations from the order in which their cached posteriors were written.  It writes
out/bench/e2e.json: the wall time, the floor (``floor.table_work`` with the epochs the runs
actually ran), their ratio, and the breakdown the Performance page draws."""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

from ...profiles import get_profile
from ...results import git_commit, hardware
from . import floor, peak


def run_stages(stages: list[tuple[str, str]], runs: Path) -> dict[str, float]:
    """Run each (name, shell command) in order with VGGLIB_RUNS=``runs``; seconds per stage."""
    env = {**os.environ, "VGGLIB_RUNS": str(runs.resolve())}
    took = {}
    for name, command in stages:
        started = time.perf_counter()
        subprocess.run(command, shell=True, check=True, env=env)
        took[name] = time.perf_counter() - started
    return took


def store_times(runs: Path) -> tuple[list[dict], list[dict]]:
    """Per net (training steps with their data, validation and checkpoints) and per test
    evaluation (method, Q) seconds, read from a run store after the fact.

    An evaluation's time is the gap between its posterior file and the previous event (a
    net finished, or another evaluation written): a study trains a net just before its first
    evaluation and evaluates one (method, Q) at a time."""
    nets, events = [], []
    for spec_file in sorted(runs.glob("*/spec.json")):
        run = spec_file.parent
        if not (run / "done.json").exists():
            continue
        spec, done = json.loads(spec_file.read_text()), json.loads((run / "done.json").read_text())
        metrics = json.loads((run / "metrics.json").read_text()) if (run / "metrics.json").exists() else []
        steps = sum(m["epoch_s"] for m in metrics)
        name = f"{spec['row']} seed {spec['seed']}"
        nets.append({"net": name, "epochs": done["epochs"], "train_s": steps,
                     "validation_s": max(done["wall_s"] - steps, 0.0)})
        events.append(((run / "done.json").stat().st_mtime, None, name))
        events += [(f.stat().st_mtime, f.stem, name) for f in (run / "posteriors").glob("test-*.pt")]
    evals = []
    events.sort()
    for (before, _, _), (at, what, name) in zip(events, events[1:]):
        if what is not None:
            method, q = what.removeprefix("test-").rsplit("-q", 1)
            evals.append({"net": name, "method": method, "q_px": int(q), "seconds": at - before})
    return nets, evals


def breakdown(stages: dict[str, float], nets: list[dict], evals: list[dict], summary: dict) -> list[dict]:
    """Rows (component, wall_s, floor_s) that add up to the whole wall time: per net training
    and validation, test evaluation per method, and the rest of each stage (start-up, data
    statistics, writing results; the book)."""
    floors: dict[tuple[str, str], float] = {}
    for it in summary["items"]:
        key = (it["part"], it["net"] if it["part"] != "test" else it["what"].split(" Q=")[0])
        floors[key] = floors.get(key, 0.0) + it["floor_s"]
    rows = []
    for n in nets:
        rows.append({"component": f"train {n['net']}", "wall_s": n["train_s"],
                     "floor_s": floors.get(("train", n["net"]), 0.0)})
    rows.append({"component": "validation (every net, every epoch)", "wall_s": sum(n["validation_s"] for n in nets),
                 "floor_s": sum(v for (part, _), v in floors.items() if part == "validation")})
    for method in sorted({e["method"] for e in evals}):
        spent = sum(e["seconds"] for e in evals if e["method"] == method)
        rows.append({"component": f"test: {method}", "wall_s": spent,
                     "floor_s": floors.get(("test", method), 0.0)})
    accounted = sum(r["wall_s"] for r in rows)
    first, *rest = list(stages)
    rows.append({"component": f"{first}: start-up, data and statistics, results", "wall_s":
                 max(stages[first] - accounted, 0.0), "floor_s": 0.0})
    rows += [{"component": name, "wall_s": stages[name], "floor_s": 0.0} for name in rest]
    return [{k: round(v, 1) if isinstance(v, float) else v for k, v in r.items()} for r in rows]


def main() -> None:
    """Parse the command line, measure the peaks, run the stages, write the report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--table", default="table4", help="the table whose floor the wall time is compared to")
    parser.add_argument("--runs", default="out/bench/e2e-runs", help="the run store, emptied first")
    parser.add_argument("--stage", action="append", default=[], metavar="NAME=COMMAND",
                        help="a timed stage, in order (default: reproduce the table, then make book)")
    parser.add_argument("--keep-runs", action="store_true", help="leave the run store in place after")
    parser.add_argument("--out", default="out/bench/e2e.json")
    args = parser.parse_args()
    stages = [tuple(s.split("=", 1)) for s in args.stage] or [
        ("reproduce", f"{shlex.quote(sys.executable)} -m vgglib reproduce --profile {args.profile} {args.table}"),
        ("book", "make --no-print-directory book")]
    p, runs = get_profile(args.profile), Path(args.runs)
    peaks = peak.peaks()
    shutil.rmtree(runs, ignore_errors=True)
    runs.mkdir(parents=True)
    took = run_stages(stages, runs)
    wall = sum(took.values())
    summary = floor.floor_summary(floor.table_work(args.table, p, runs), peaks)
    nets, evals = store_times(runs)
    report = {"target": f"reproduce-{args.table}", "table": args.table, "profile": p.name, "empty_run_store": True,
              "wall_s": round(wall, 1), "stages_s": {k: round(v, 1) for k, v in took.items()},
              "peaks_gflop_s": peaks, "floor_s": summary["floor_s"],
              "wall_over_floor": round(wall / summary["floor_s"], 2),
              "breakdown": breakdown(took, nets, evals, summary), "floor": summary, "hardware": hardware(),
              "commit": git_commit(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    if not args.keep_runs:
        shutil.rmtree(runs, ignore_errors=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k not in ("floor", "breakdown")}, indent=1))


if __name__ == "__main__":
    main()
