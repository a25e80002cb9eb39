"""The end-to-end check: a table reproduced from an empty run store, its wall time beside its
compute floor, both measured in one run, and where the time went.

    python -m vgglib.bench e2e --profile quick --runs out/bench/e2e-runs \\
        --stage reproduce="python -m vgglib reproduce --profile quick table4" --stage book="make book"

It measures the bf16 and fp32 matmul peaks first, empties the run store, runs each stage as
a subprocess (with ``VGGLIB_RUNS`` pointing at the store) and times it, then reads the store:
each net's training time and epochs (``done.json``, ``metrics.json``), and the test
evaluations from the order in which their cached posteriors were written.  It writes
out/bench/e2e.json: the wall time, the floor (``floor.table_work`` with the epochs the runs
actually ran), their ratio, and the breakdown the Performance page draws.

A run longer than a working session can be done in pieces: stopped (Ctrl-C, SIGTERM), it
keeps what each stage has spent in ``e2e-state.json`` in the store, and the same command
continues it: the store is not emptied again, the unfinished stage restarts (training resumes
from its checkpoints) and the wall time is the sum over the pieces.  The peaks are measured
again at the start of each piece; the floor uses the highest, so the ratio is never flattered.
A store begun with other training or evaluation code is refused (``--fresh`` starts over)."""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

from ..files import write_json
from ..identity import versions_tag
from ..profiles import get_profile
from ..results import git_commit, hardware, utc_now
from ..runs import RunStore
from . import floor, peak
from .limits import e2e_snapshot

#: A cached test posterior's file name (``vgglib.study.Study.posteriors``): test set size,
#: method, Q in pixels, then the version of the computation (not read here).
POSTERIORS = re.compile(r"test(?P<n>\d+)-(?P<method>.+)-q(?P<q>\d+)-\w+")
#: The file in the run store that carries an unfinished end-to-end run from one piece to the next.
STATE = "e2e-state.json"


class Stopped(Exception):
    """The run was asked to stop (SIGTERM or Ctrl-C); its state is saved."""


def _stop(signum: int, frame: object) -> None:
    raise Stopped(signal.Signals(signum).name)


def start_or_resume(runs: Path, fresh: bool) -> dict:
    """The state of the end-to-end run in ``runs``: a new one (the store emptied) when there is
    none or ``fresh``, else the saved one, if it was begun with today's code."""
    state_file = runs / STATE
    code = versions_tag()
    if state_file.exists() and not fresh:
        state = json.loads(state_file.read_text())
        if state["code"] != code:
            raise SystemExit(f"{state_file}: this end-to-end run was begun with code version {state['code']}, "
                             f"the code is now {code}; its nets would not be today's. "
                             f"Rerun with --fresh to empty {runs} and start over.")
        return state
    shutil.rmtree(runs, ignore_errors=True)
    runs.mkdir(parents=True)
    return {"code": code, "stages_s": {}, "done": [], "pieces": [], "peaks": []}


def run_stages(stages: list[tuple[str, str]], runs: Path, state: dict, save_every: float = 60.0) -> None:
    """Run each (name, shell command) not yet done, in order, with VGGLIB_RUNS=``runs``, adding
    its seconds to ``state``, saved in the store every ``save_every`` seconds (so even a killed
    piece loses at most that much of its count), after every stage and when stopped."""
    env = {**os.environ, "VGGLIB_RUNS": str(runs.resolve())}
    state_file = runs / STATE
    for name, command in stages:
        if name in state["done"]:
            continue
        before, started = state["stages_s"].get(name, 0.0), time.perf_counter()
        save = partial(_save, state, state_file, name, before, started)
        child = subprocess.Popen(command, shell=True, env=env, start_new_session=True)
        try:
            while (rc := _wait(child, save_every)) is None:
                save()
        except Stopped:
            os.killpg(child.pid, signal.SIGTERM)
            child.wait()
            raise
        finally:
            save()
        if rc != 0:
            raise SystemExit(f"stage {name!r} failed (exit {rc}): {command}\n"
                             f"its time so far is kept in {state_file}; the same command continues")
        state["done"].append(name)
        write_json(state_file, state)  # atomic: a kill mid-write keeps the last state


def _save(state: dict, state_file: Path, name: str, before: float, started: float) -> None:
    state["stages_s"][name] = before + time.perf_counter() - started
    write_json(state_file, state)  # atomic: a kill mid-write keeps the last state


def _wait(child: subprocess.Popen, seconds: float) -> int | None:
    """The child's exit status, or None if it still runs after ``seconds``."""
    try:
        return child.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return None


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
        spec, done = json.loads(spec_file.read_text()), RunStore.done(run)
        metrics = json.loads((run / "metrics.json").read_text()) if (run / "metrics.json").exists() else []
        steps = sum(m["epoch_s"] for m in metrics)
        name = f"{spec['row']} seed {spec['seed']}"
        nets.append({"net": name, "epochs": done["epochs"], "train_s": steps,
                     "validation_s": max(done["wall_s"] - steps, 0.0)})
        events.append(((run / "done.json").stat().st_mtime, None, name))
        events += [(f.stat().st_mtime, m, name) for f in (run / "posteriors").glob("test*.pt")
                   if (m := POSTERIORS.fullmatch(f.stem))]
    evals = []
    events.sort(key=lambda e: e[0])
    for (before, _, _), (at, what, name) in zip(events, events[1:]):
        if what is not None:
            evals.append({"net": name, "method": what["method"], "q_px": int(what["q"]), "seconds": at - before})
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``e2e`` subcommand's flags."""
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--table", default="table4", help="the table whose floor the wall time is compared to")
    parser.add_argument("--runs", default="out/bench/e2e-runs", help="the run store, emptied first")
    parser.add_argument("--stage", action="append", default=[], metavar="NAME=COMMAND",
                        help="a timed stage, in order (default: reproduce the table, then make book)")
    parser.add_argument("--keep-runs", action="store_true", help="leave the run store in place after")
    parser.add_argument("--fresh", action="store_true", help="empty the store even if an unfinished run is there")
    parser.add_argument("--out", default="out/bench/e2e.json")
    parser.add_argument("--snapshot", default=None,
                        help="where to copy the report (default: results/<profile>/e2e.json for table4)")


def main(args: argparse.Namespace) -> None:
    """Measure the peaks, run the stages (continuing an unfinished run), write the report."""
    stages = [tuple(s.split("=", 1)) for s in args.stage] or [
        ("reproduce", f"{shlex.quote(sys.executable)} -m vgglib reproduce --profile {args.profile} {args.table}"),
        ("book", "make --no-print-directory book")]
    p, runs = get_profile(args.profile), Path(args.runs)
    state = start_or_resume(runs, args.fresh)
    state["pieces"].append({"commit": git_commit(), "date": utc_now()})
    state["peaks"].append(peak.peaks(bf16=p.bf16))
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stop)
    try:
        run_stages(stages, runs, state)
    except Stopped as why:
        raise SystemExit(f"stopped by {why}; {runs / STATE} keeps {sum(state['stages_s'].values()) / 60:.1f} min "
                         f"spent so far: the same command continues") from None
    took = state["stages_s"]
    wall = sum(took.values())
    peaks = {d: max(p_[d] for p_ in state["peaks"]) for d in state["peaks"][0]}
    summary = floor.floor_summary(floor.table_work(args.table, p, runs), peaks)
    nets, evals = store_times(runs)
    report = {"target": f"reproduce-{args.table}", "table": args.table, "profile": p.name, "empty_run_store": True,
              "wall_s": round(wall, 1), "stages_s": {k: round(v, 1) for k, v in took.items()},
              "pieces": state["pieces"], "peaks_gflop_s": peaks, "peaks_per_piece": state["peaks"],
              "floor_s": summary["floor_s"], "wall_over_floor": round(wall / summary["floor_s"], 2),
              "breakdown": breakdown(took, nets, evals, summary), "floor": summary, "hardware": hardware(),
              "commit": git_commit(), "date": utc_now()}
    if args.keep_runs:
        (runs / STATE).unlink()
    else:
        shutil.rmtree(runs, ignore_errors=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    snapshot = Path(args.snapshot) if args.snapshot else (e2e_snapshot(p.name) if args.table == "table4" else None)
    if snapshot is not None:
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out, snapshot)
    print(json.dumps({k: v for k, v in report.items() if k not in ("floor", "breakdown")}, indent=1))
