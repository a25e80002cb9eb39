"""The report's limits section: how far the project is from this machine's limit.  The bf16 and
fp32 matmul peaks, Table 4's compute floor at the profile and the latest end-to-end run's wall
time over its own floor, each configuration's training step as a fraction of the peak, and the
LRN layer alone (why A-LRN once ran at half of A's speed)."""
from __future__ import annotations

import json
import time
from pathlib import Path

from ..profiles import Profile, get_profile
from ..results import REPO
from ..runs import RunStore
from . import floor, peak, steps
from .timing import section, table

#: Where ``make bench-e2e`` (``python -m vgglib.bench e2e``) writes its report; a copy is kept
#: in results/<profile>/e2e.json.
E2E_REPORT = REPO / "out" / "bench" / "e2e.json"


def e2e_snapshot(profile: str) -> Path:
    """The committed copy of a profile's latest end-to-end report."""
    return REPO / "results" / profile / "e2e.json"


def load_e2e(path: Path | None = None, profile: str = "quick") -> dict | None:
    """The latest end-to-end report: ``path``, else out/bench/e2e.json, else the profile's
    committed copy; None when none exists."""
    candidates = [path] if path is not None else [E2E_REPORT, e2e_snapshot(profile)]
    found = next((c for c in candidates if c.is_file()), None)
    return json.loads(found.read_text()) if found is not None else None


def e2e_ratio(profile: str, path: Path | None = None) -> tuple[float | None, str]:
    """The latest end-to-end run's wall time over its floor (both from that run), or None and why."""
    e2e = load_e2e(path, profile)
    if e2e is None:
        where = [path] if path is not None else [E2E_REPORT, e2e_snapshot(profile)]
        shown = " or ".join(str(w.relative_to(REPO) if w.is_relative_to(REPO) else w) for w in where)
        return None, f"no end-to-end run: {shown} does not exist (make bench-e2e writes it)"
    if e2e.get("wall_over_floor") is None:
        return None, "the end-to-end report predates the floor (no peak measured in its run): rerun make bench-e2e"
    if e2e.get("profile") != profile or e2e.get("table", "table4") != "table4":
        return None, f"the end-to-end report is for {e2e.get('table')} at {e2e.get('profile')}, not table4 at {profile}"
    pieces = len(e2e.get("pieces", [])) or 1
    return e2e["wall_over_floor"], (f"make bench-e2e at commit {e2e.get('commit')}, {e2e.get('date')}: "
                                    f"{e2e['wall_s'] / 60:.1f} min over a floor of {e2e['floor_s'] / 60:.1f} min"
                                    + (f", run in {pieces} pieces" if pieces > 1 else ""))


def table4_work(p: Profile, e2e: dict | None) -> tuple[list[floor.Work], str]:
    """Table 4's arithmetic and where its epochs come from: the latest end-to-end run's (the
    epochs its nets actually ran) when there is one for this profile, so this section's floor
    and the end-to-end report's count the same work; else the run store's, else the caps."""
    if e2e is not None and e2e.get("profile") == p.name and e2e.get("floor"):
        fields = floor.Work.__dataclass_fields__
        work = [floor.Work(**{k: it[k] for k in fields}) for it in e2e["floor"]["items"]]
        return work, f"the epochs of the end-to-end run of {e2e.get('date')} (commit {e2e.get('commit')})"
    return (floor.table_work("table4", p, RunStore().root),
            "the run store's where it holds the nets, else the profile's caps")


def machine_limits(p: Profile, configs: tuple[str, ...], step_count: int, repeats: int, full_batch: int,
                   full_steps: int, peak_side: int, lrn_repeats: int) -> dict:
    """The report's limits section: peaks, Table 4's floor (the end-to-end run's work at this run's peaks), the
    e2e ratio, step fractions and the LRN layer's cost."""
    started = time.perf_counter()
    peaks = peak.peaks(peak_side, bf16=p.bf16 or get_profile("full").bf16)
    work, epochs_from = table4_work(p, load_e2e(profile=p.name))
    summary = floor.floor_summary(work, peaks)
    ratio, why = e2e_ratio(p.name)
    floor_rows = [{"part": part, "floor_s": secs} for part, secs in summary["by_part_s"].items()]
    floor_rows.append({"part": "all of Table 4", "floor_s": summary["floor_s"]})
    tables = [table("Matrix-multiply peak (the ceiling)", {"gflop_per_s": "GFLOP/s", "side": "elements"},
                    [{"dtype": k, "side": peak_side, "gflop_per_s": v} for k, v in peaks.items()]),
              table(f"Table 4's compute floor at {p.name}", {"floor_s": "s"}, floor_rows),
              steps.step_table(p, configs, step_count, repeats, full_batch, full_steps, peaks),
              table("A-LRN's LRN layer alone, forward + backward", {"ms_forward_backward": "ms"},
                    steps.lrn_cost(p, p.batch, lrn_repeats))]
    notes = [f"Peak: best of 3 {peak_side}² matrix multiplies per dtype at torch's threads, in this run.",
             f"Table 4's floor: {summary['tflop']} TFLOP (every net's training at 3 forward passes per image, "
             f"each epoch's validation, each test evaluation) at this run's peak, as the {p.name} profile runs "
             f"(bf16: {p.bf16}). Epochs: {epochs_from}.",
             f"Table 4's wall time over its floor (latest make bench-e2e, peak measured in that run): "
             f"{'–' if ratio is None else ratio}; {why}.",
             f"Step: one ready random batch (no data), SGD with momentum, {'bf16 autocast' if p.bf16 else 'fp32'} "
             "and channels-last as the profile trains; GFLOP/s counts 3 forward passes per image (arch.multiply_adds).",
             "A-LRN was at about a third of A's step speed with torch.nn.LocalResponseNorm: under autocast "
             "it pools squares through a 5-D avg_pool3d in fp32 that has no channels-last kernel. "
             "vgglib.arch.LRN sums shifted channels in place and writes its gradient out (equal up to float "
             "rounding, tests/test_lrn.py)."]
    sec = section("limits", "How far from the machine's limit: peak, floor, step fractions", {"profile": p.name},
                  tables, notes, started)
    sec["table4"] = {"floor_s": summary["floor_s"], "wall_over_floor": ratio, "reason": why,
                     "peaks_gflop_s": peaks, "by_part_s": summary["by_part_s"]}
    return sec
