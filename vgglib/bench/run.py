"""The benchmark driver: every performance question in one run, one report, in sections:

  1. training throughput at the profile, vgglib's step with data against the model-only step
  2. vgglib's A and D against torchvision's vgg11 and vgg16 at 224 (forward and training step)
  3. CPU fast paths for D at the profile (bf16, channels-last, compile, threads) and their accuracy
  4. evaluation cost per image, dense multi-scale against 150-crop multi-crop
  5. the data pipeline alone, per core, Fashion-MNIST and ImageNet-sized JPEGs
  6. memory: peak RSS of a short run, D's activations at 224, the batch that fits a GPU
  7. the machine's limit: matmul peaks, Table 4's compute floor and wall/floor, steps as fractions of peak

Writes out/bench/bench.json (every figure with its unit) and bench.md, and copies bench.json
to results/<profile>/bench.json, the snapshot the book's performance page reads.

    python -m vgglib.bench all --profile quick         # make bench: under 10 minutes on 2 cores
    python -m vgglib.bench all --tiny --out /tmp/b     # toy sizes, seconds: the tests' smoke run
"""
from __future__ import annotations

import argparse
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torchvision

from ..data import profile_splits
from ..profiles import get_profile
from ..results import REPO, RESULTS, git_commit, hardware, utc_now
from ..stats import compute_stats
from . import data_pipeline, eval_cost, fast_paths, limits, memory, throughput
from .report import markdown
from .timing import SECTIONS


@dataclass(frozen=True)
class Sizes:
    """How much each section measures: the real run, or toy sizes for tests."""

    throughput_configs: tuple[str, ...] = ("A", "E")
    throughput_steps: int = 15
    throughput_repeats: int = 5
    tv_pairs: tuple[tuple[str, str], ...] = (("A", "vgg11"), ("D", "vgg16"))
    tv_batch: int = 4
    tv_repeats: int = 5
    fast_steps: int = 10
    fast_repeats: int = 4
    accuracy_images: int = 12800
    eval_profile_images: int = 128
    eval_full_images: int = 2
    eval_profile_repeats: int = 3
    eval_full_repeats: int = 2
    eval_full_qs: tuple[int, ...] = eval_cost.PAPER_Q
    eval_full_subset_grid: int = 2
    pipeline_fmnist_batches: int = 30
    pipeline_jpegs: int = 256
    pipeline_repeats: int = 3
    rss_steps: int = 20
    memory_batches: tuple[int, int] = (1, 2)
    limit_configs: tuple[str, ...] = ("A", "A-LRN", "B", "C", "D", "E")
    limit_steps: int = 8
    limit_repeats: int = 3
    limit_full_batch: int = 8
    limit_full_steps: int = 2
    peak_side: int = 4096
    lrn_repeats: int = 5


REAL = Sizes()
TINY = Sizes(throughput_configs=("A",), throughput_steps=1, throughput_repeats=1, tv_pairs=(("A", "vgg11"),),
             tv_batch=1, tv_repeats=1, fast_steps=1, fast_repeats=1, accuracy_images=64, eval_profile_images=2,
             eval_full_images=1, eval_profile_repeats=1, eval_full_repeats=1, eval_full_qs=(224,),
             eval_full_subset_grid=1, pipeline_fmnist_batches=2, pipeline_jpegs=4, pipeline_repeats=1,
             rss_steps=2, limit_configs=("A-LRN",), limit_steps=1, limit_repeats=1, limit_full_batch=0,
             peak_side=256, lrn_repeats=1)
#: GPU training speeds (images/s of net D) whose data-pipeline cores the pipeline section works out.
GPU_SPEEDS = (1000, 2500, 5000)


def run(profile: str, sizes: Sizes, tiny: bool, accuracy: bool, compile_cap_s: float | None,
        only: tuple[str, ...] = SECTIONS, log: Callable[[str], None] = print) -> dict:
    """Run the chosen sections and return the report (figures, units, settings, provenance)."""
    started = time.perf_counter()
    p, full = get_profile(profile), get_profile("full")
    splits = profile_splits(p)
    stats = compute_stats(splits.train, max_images=5000)
    s = sizes
    sections: dict[str, dict] = {}
    jobs = {
        "throughput": lambda: throughput.training_throughput(p, splits.train, stats, s.throughput_configs,
                                                             s.throughput_steps, s.throughput_repeats),
        "torchvision": lambda: fast_paths.against_torchvision(s.tv_pairs, s.tv_batch, s.tv_repeats),
        "fast_paths": lambda: fast_paths.cpu_fast_paths(p, splits, stats, s.fast_steps, s.fast_repeats,
                                                        s.accuracy_images if accuracy else 0, compile_cap_s),
        "eval_cost": lambda: eval_cost.evaluation_cost(p, splits.val, full, s.eval_profile_images,
                                                       s.eval_full_images, s.eval_profile_repeats,
                                                       s.eval_full_repeats, s.eval_full_qs, s.eval_full_subset_grid),
        "pipeline": lambda: data_pipeline.pipeline_per_core(p, splits.train, stats, full, s.pipeline_fmnist_batches,
                                                            s.pipeline_jpegs, s.pipeline_repeats,
                                                            gpu_speeds(sections)),
        "memory": lambda: memory.memory_footprint(p.name, s.rss_steps, s.memory_batches, full.batch),
        "limits": lambda: limits.machine_limits(p, s.limit_configs, s.limit_steps, s.limit_repeats,
                                                s.limit_full_batch, s.limit_full_steps, s.peak_side, s.lrn_repeats),
    }
    for key in SECTIONS:
        if key in only:
            sections[key] = jobs[key]()
            log(f"[bench] {sections[key]['title']}: {sections[key]['elapsed_s']} s")
    t4 = sections["limits"]["table4"] if "limits" in sections else {}
    return {"schema": 1, "profile": p.name,
            "table4_floor_s": t4.get("floor_s"), "table4_wall_over_floor": t4.get("wall_over_floor"),
            "table4_wall_over_floor_reason": t4.get("reason", "the limits section was not run"),
            "tiny": tiny, "hardware": hardware(), "torch": torch.__version__,
            "torchvision": torchvision.__version__, "threads": torch.get_num_threads(), "commit": git_commit(),
            "date": utc_now(),
            "wall_s": round(time.perf_counter() - started, 1), "sections": sections}


def gpu_speeds(sections: dict[str, dict]) -> dict[str, float]:
    """The training speeds the pipeline section asks to feed: GPU_SPEEDS, and this CPU's own
    (vgglib's net at 224 from the torchvision section) when measured."""
    speeds = {f"a GPU training D at {x:,} images/s": float(x) for x in GPU_SPEEDS}
    if "torchvision" in sections:
        row = sections["torchvision"]["tables"][0]["rows"][-1]
        speeds[f"this CPU training {row['vgglib']} at 224, fp32 (against torchvision)"] = row["train_vgglib"]
    return speeds


def write(report: dict, out: Path, snapshot: Path | None) -> None:
    """bench.json and bench.md into ``out``; bench.json also to ``snapshot`` when given."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(report, indent=1) + "\n")
    (out / "bench.md").write_text(markdown(report))
    if snapshot is not None:
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out / "bench.json", snapshot)


def page_report(report: str, profile: str, results_dir: str) -> tuple[dict | None, str]:
    """The report the book's performance page shows and a sentence saying where it came from:
    ``report`` when given, else out/bench/bench.json, else ``results_dir``/<profile>/bench.json.
    At the smoke profile, when none exists, a tiny run made on the spot, so the page renders."""
    candidates = [Path(report)] if report else [REPO / "out" / "bench" / "bench.json",
                                                 REPO / results_dir / profile / "bench.json"]
    found = next((c for c in candidates if c.is_file()), None)
    if found is not None:
        shown = found.relative_to(REPO) if found.is_relative_to(REPO) else found
        return json.loads(found.read_text()), f"Report: `{shown}`."
    looked = ", ".join(f"`{c}`" for c in candidates)
    if profile == "smoke":
        return run("smoke", TINY, True, True, None, log=lambda line: None), (
            f"No benchmark report at {looked}, so this page ran the benchmark at toy sizes (`--tiny`) to "
            f"render: its figures are not measurements. `make bench` writes the real report.")
    return None, f"No benchmark report at {looked}. Run `make bench` (under 10 minutes on 2 cores) to produce one."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``all`` subcommand's flags."""
    parser.add_argument("--profile", default="quick",
                        help="the profile the sections measure at (their paper-size rows use full-size nets)")
    parser.add_argument("--tiny", action="store_true", help="toy sizes at the smoke profile (seconds; no snapshot)")
    parser.add_argument("--no-accuracy", action="store_true", help="skip the fast paths' short training runs")
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile among the fast paths")
    parser.add_argument("--compile-cap", type=float, default=120.0, help="seconds torch.compile may warm up")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS), help="run only these sections")
    parser.add_argument("--out", default="out/bench")
    parser.add_argument("--snapshot", default=None,
                        help="where to copy bench.json (default: results/<profile>/bench.json; never with --tiny "
                             "or --only)")


def main(args: argparse.Namespace) -> None:
    """Run the chosen sections, write the report and print it as Markdown."""
    profile = "smoke" if args.tiny else args.profile
    report = run(profile, TINY if args.tiny else REAL, args.tiny, not args.no_accuracy,
                 None if args.no_compile or args.tiny else args.compile_cap, tuple(args.only))
    complete = len(args.only) == len(SECTIONS)
    snapshot = Path(args.snapshot) if args.snapshot else (
        RESULTS / profile / "bench.json" if complete and not args.tiny else None)
    write(report, Path(args.out), snapshot)
    print(markdown(report))
