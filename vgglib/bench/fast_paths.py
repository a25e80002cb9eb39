"""Two sections of the report: vgglib's nets against torchvision's at the paper's size, and the
CPU fast paths (bf16 autocast, channels-last, torch.compile, threads) for net D at a profile,
each path timed and the ones that change the arithmetic trained briefly to price their accuracy."""
from __future__ import annotations

import math
import signal
import time
from dataclasses import dataclass

import torch
import torchvision

from .. import arch, evaluate
from ..augment import Augmenter, BatchLoader, Normalise
from ..data import Splits
from ..profiles import Profile
from ..stats import Stats
from .throughput import step_fn
from .timing import median, seconds, section, table, threads

#: The torchvision comparison's bar: vgglib's net runs at least this share of torchvision's speed.
TV_BAR = 0.98
#: The fast paths' rule: adopt a path that is faster and costs at most this many points of top-1 error.
ADOPT_MAX_POINTS = 0.3


# --------------------------------------------------------------------------- against torchvision

def compare_torchvision(config: str, tv_name: str, batch: int, repeats: int) -> dict:
    """Median forward and training-step images/s of vgglib's net and torchvision's, at 224 px,
    fp32, the same weights; the two are alternated in every repeat so drift hits both alike."""
    torch.manual_seed(0)
    ours = arch.build(config, num_classes=1000)
    theirs = getattr(torchvision.models, tv_name)(weights=None)
    theirs.load_state_dict(arch.to_torchvision(ours))
    nets = {"vgglib": ours, "torchvision": theirs}
    steps = {k: step_fn(m, torch.optim.SGD(m.parameters(), lr=1e-3, momentum=0.9, weight_decay=5e-4), False, False)
             for k, m in nets.items()}                      # one fp32 SGD step, the same code for both
    x, y = torch.randn(batch, 3, 224, 224), torch.randint(0, 1000, (batch,))
    ours.eval()
    theirs.eval()
    with torch.no_grad():
        same = (ours(x) - theirs(x)).abs().max().item()
    forward: dict[str, list[float]] = {k: [] for k in nets}
    train: dict[str, list[float]] = {k: [] for k in nets}
    for r in range(repeats + 1):
        for name in (("vgglib", "torchvision") if r % 2 else ("torchvision", "vgglib")):
            net = nets[name]
            net.eval()
            with torch.no_grad():
                t_fwd = seconds(lambda net=net: net(x))
            net.train()
            t_step = seconds(lambda step=steps[name]: step(x, y))
            if r:  # round 0 warms both up
                forward[name].append(batch / t_fwd)
                train[name].append(batch / t_step)
    f = {k: median(v) for k, v in forward.items()}
    t = {k: median(v) for k, v in train.items()}
    return {"vgglib": config, "torchvision": tv_name, "batch": batch,
            "forward_vgglib": round(f["vgglib"], 2), "forward_torchvision": round(f["torchvision"], 2),
            "forward_ratio": round(f["vgglib"] / f["torchvision"], 3),
            "train_vgglib": round(t["vgglib"], 2), "train_torchvision": round(t["torchvision"], 2),
            "train_ratio": round(t["vgglib"] / t["torchvision"], 3),
            "meets_bar": min(f["vgglib"] / f["torchvision"], t["vgglib"] / t["torchvision"]) >= TV_BAR,
            "max_logit_difference": same}


def against_torchvision(pairs: tuple[tuple[str, str], ...], batch: int, repeats: int) -> dict:
    """The report's torchvision section: ``compare_torchvision`` for each (vgglib config,
    torchvision net)."""
    started = time.perf_counter()
    rows = [compare_torchvision(c, tv, batch, repeats) for c, tv in pairs]
    units = {"batch": "images", "forward_vgglib": "images/s", "forward_torchvision": "images/s",
             "forward_ratio": "×", "train_vgglib": "images/s", "train_torchvision": "images/s",
             "train_ratio": "×", "max_logit_difference": "logit"}
    notes = [f"224×224 inputs, batch {batch}, CPU, fp32 eager, weights=None; torchvision's net gets "
             f"vgglib's weights (arch.to_torchvision), so both compute the same function (max logit "
             f"difference in the table). Median of {repeats} interleaved repeats after one warm-up round.",
             f"Bar: ratio ≥ {TV_BAR} for both the forward pass and the training step."]
    return section("torchvision", "vgglib's nets against torchvision's at the paper's size",
                   {"size": 224, "batch": batch, "repeats": repeats, "dtype": "fp32"},
                   [table("Images/s, vgglib against torchvision", units, rows)], notes, started)


# --------------------------------------------------------------------------- CPU fast paths

@dataclass(frozen=True)
class FastPath:
    """One way to run net D's training step on the CPU; ``baseline`` is the path it must beat to
    be adopted, ``accuracy_as`` the path whose short training run prices its accuracy (the same
    arithmetic: memory layout and threads do not change the numbers)."""

    name: str
    bf16: bool
    channels_last: bool
    compiled: bool = False
    threads: int | None = None
    baseline: str = "fp32 eager"
    accuracy_as: str = "fp32 eager"


BF16_CL = "bf16 + channels-last"
COMPILED = "bf16 + channels-last + compile"
#: The paths timed; the first is the fp32 baseline, threads None means torch's default.
FAST_PATHS = (FastPath("fp32 eager", False, False),
              FastPath("bf16 autocast", True, False, accuracy_as=BF16_CL),
              FastPath("channels-last", False, True),
              FastPath(BF16_CL, True, True, accuracy_as=BF16_CL),
              FastPath(BF16_CL + ", 1 thread", True, True, threads=1, baseline=BF16_CL, accuracy_as=BF16_CL),
              FastPath(COMPILED, True, True, compiled=True, baseline=BF16_CL, accuracy_as=COMPILED))
#: The paths that change the arithmetic, so get a short training run each.
ACCURACY_PATHS = ("fp32 eager", BF16_CL, COMPILED)


class _Timeout(Exception):
    """torch.compile's warm-up ran past its cap."""


def _capped(fn, cap_s: float) -> float:
    """Wall time of ``fn`` in seconds, interrupted by SIGALRM after ``cap_s`` (main thread only)."""
    def alarm(signum, frame):
        raise _Timeout(f"compile warm-up passed its {cap_s:g} s cap")
    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, cap_s)
    try:
        return seconds(fn)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class _Runner:
    """A D net on one fast path: its model, the module training calls, and its SGD step."""

    def __init__(self, path: FastPath, p: Profile, classes: int, init: dict):
        self.path, self.p = path, p
        self.model = arch.build("D", num_classes=classes, width=p.width, crop=p.crop, fc_width=p.fc_width,
                                dropout=p.dropout, init=p.init, std=p.init_std)
        if path.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.module = torch.compile(self.model) if path.compiled else self.model
        self.reset(init)

    def reset(self, init: dict) -> None:
        """Back to the shared initial weights, with fresh momentum."""
        self.model.load_state_dict(init)
        p = self.p
        opt = torch.optim.SGD(self.model.parameters(), lr=p.lr, momentum=p.momentum, weight_decay=p.weight_decay)
        self.step = step_fn(self.module, opt, self.path.bf16, self.path.channels_last)

    def steps(self, x: torch.Tensor, y: torch.Tensor, n: int) -> float:
        """Wall time of ``n`` training steps on one batch, at the path's thread setting."""
        def run() -> None:
            for _ in range(n):
                self.step(x, y)
        with threads(self.path.threads):
            return seconds(run)


def short_run(runner: _Runner, init: dict, loader: BatchLoader, splits: Splits, norm: Normalise,
              q: int, seed: int, eval_batch: int) -> float:
    """Top-1 error (%) on the validation split after one epoch of ``loader`` from ``init``
    (dropout seeded by ``seed``), on the centre crop at scale ``q``, in the path's
    arithmetic.  The centre crop, not the dense pass: one window per image instead of dozens at
    the paper's relative stride, and the same protocol for every path is all a comparison needs."""
    runner.reset(init)
    runner.model.train()
    torch.manual_seed(seed)
    for x, y in loader.epoch(0):
        runner.step(x, y)
    post = evaluate.evaluate(runner.model, splits.val, norm, "centre", [q], batch_size=eval_batch,
                             autocast=runner.path.bf16)
    return evaluate.topk_error(post, splits.val.labels, 1)


def _first_line(e: Exception) -> str:
    """An exception as one short line, for the report."""
    return f"{type(e).__name__}: {(str(e).splitlines() or [''])[0][:200]}"


def _decision(path: FastPath, ips: float, speed: dict[str, float], delta: float | None, noise: float) -> str:
    """The adoption rule: adopt a path faster than its baseline that costs ≤ ADOPT_MAX_POINTS top-1;
    a rejection on accuracy says when the cost is within ``noise`` points."""
    if path.name == "fp32 eager":
        return "baseline"
    if path.baseline not in speed:
        return f"no decision: {path.baseline} not measured"
    if ips <= speed[path.baseline]:
        return f"reject: not faster than {path.baseline}"
    if delta is None:
        return "faster; accuracy not measured"
    if delta <= ADOPT_MAX_POINTS:
        return "adopt"
    return f"reject: costs {delta:.2f} points" + (" (within the noise)" if delta <= noise else "")


def cpu_fast_paths(p: Profile, splits: Splits, stats: Stats, steps: int, repeats: int, accuracy_images: int,
                   compile_cap_s: float | None) -> dict:
    """The report's fast paths section: every fast path's speed for D's training step at the profile and,
    unless ``accuracy_images`` is 0, the top-1 cost of the paths that change the arithmetic.
    ``compile_cap_s`` None skips torch.compile."""
    started = time.perf_counter()
    classes, default_threads = len(splits.train.classes), torch.get_num_threads()
    torch.manual_seed(0)
    init = arch.build("D", num_classes=classes, width=p.width, crop=p.crop, fc_width=p.fc_width,
                      dropout=p.dropout, init=p.init, std=p.init_std).state_dict()
    scale = (p.scale(256), p.scale(512))
    norm = Normalise(stats.mean)
    augmenter = Augmenter(p.crop, scale, stats, norm)
    x, y = next(BatchLoader(splits.train, augmenter, p.batch, seed=0).epoch(0))
    runners: dict[str, _Runner] = {}
    skipped: dict[str, str] = {}
    compile_warmup_s = None
    for path in FAST_PATHS:
        if path.compiled and compile_cap_s is None:
            skipped[path.name] = "skipped (--no-compile or --tiny)"
            continue
        runner = _Runner(path, p, classes, init)
        if not path.compiled:
            runner.steps(x, y, 3)
        else:
            try:
                compile_warmup_s = _capped(lambda runner=runner: runner.steps(x, y, 3), compile_cap_s)
            except Exception as e:  # a failed or over-long compile is a finding, not a crash
                skipped[path.name] = _first_line(e)
                continue
        runners[path.name] = runner
    parts_s = {"warm-up and compile": time.perf_counter() - started}
    rates: dict[str, list[float]] = {name: [] for name in runners}
    names = list(runners)
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            rates[name].append(steps * p.batch / runners[name].steps(x, y, steps))
    speed = {name: median(v) for name, v in rates.items()}
    parts_s["timed steps"] = time.perf_counter() - started - sum(parts_s.values())

    errors: dict[str, float] = {}
    noise, se, q, n_steps = None, None, evaluate.q_single(scale), 0
    if accuracy_images:
        order = torch.randperm(len(splits.train), generator=torch.Generator().manual_seed(0))
        subset = splits.train.subset(order[:accuracy_images])
        loader = BatchLoader(subset, augmenter, p.batch, seed=0)
        n_steps = len(loader)
        for name in ACCURACY_PATHS:
            if name in runners:
                errors[name] = short_run(runners[name], init, loader, splits, norm, q, 0, p.eval_batch)
        reseeded = BatchLoader(subset, augmenter, p.batch, seed=1)
        noise = abs(short_run(runners[BF16_CL], init, reseeded, splits, norm, q, 1, p.eval_batch) - errors[BF16_CL])
        p_err = errors["fp32 eager"] / 100
        se = 100 * math.sqrt(max(p_err * (1 - p_err), 1e-9) / len(splits.val))
        parts_s["accuracy runs"] = time.perf_counter() - started - sum(parts_s.values())

    rows = []
    for path in FAST_PATHS:
        ips = speed.get(path.name)
        err = errors.get(path.accuracy_as)
        delta = None if err is None else err - errors["fp32 eager"]
        rows.append({"path": path.name, "threads": path.threads or default_threads,
                     "images_per_s": None if ips is None else round(ips, 1),
                     "speedup": None if ips is None else round(ips / speed["fp32 eager"], 3),
                     "top1_error": None if err is None else round(err, 2),
                     "delta_top1": None if delta is None else round(delta, 2),
                     "accuracy_from": path.accuracy_as if err is not None else None,
                     "decision": ("not measured: " + skipped[path.name]) if ips is None
                     else _decision(path, ips, speed, delta, max(noise or 0.0, 2 * (se or 0.0)))})
    units = {"threads": "threads", "images_per_s": "images/s", "speedup": "× fp32 eager",
             "top1_error": "% top-1", "delta_top1": "points vs fp32"}
    notes = [f"Net D at the {p.name} profile (width {p.width}, {p.crop}-pixel crops, batch {p.batch}), one "
             f"pre-made batch, SGD step; median of {repeats} interleaved repeats of {steps} steps after 3 "
             f"warm-up steps. Paths run at torch's default {default_threads} threads unless the name says.",
             f"Threads: bf16 + channels-last runs at {speed[BF16_CL + ', 1 thread']:.0f} images/s on 1 thread "
             f"and {speed[BF16_CL]:.0f} on {default_threads}, a scaling of "
             f"{speed[BF16_CL] / speed[BF16_CL + ', 1 thread']:.2f}× for {default_threads}× the threads."]
    if compile_warmup_s is not None:
        notes.append(f"torch.compile warm-up (3 steps, compilation included): {compile_warmup_s:.1f} s "
                     f"(cap {compile_cap_s:.0f} s); its baseline is eager bf16 + channels-last.")
    if accuracy_images:
        n_val = len(splits.val)
        notes.append(f"Accuracy: from one fixed initialisation, one epoch ({n_steps} steps of {p.batch}) on the "
                     f"same seeded {accuracy_images}-image subset of the training split, then top-1 error on "
                     f"the {n_val}-image validation split, centre crop at Q = {q}, in each path's "
                     f"arithmetic. Paths that only change memory layout or threads take the error of the path "
                     f"in 'accuracy from'. Compiled dropout draws other random numbers than eager.")
        notes.append(f"Noise: so short a run is noisy. The bf16 + channels-last run with another data and dropout "
                     f"seed moved top-1 by {noise:.2f} points, and one top-1 figure on {n_val} images has a "
                     f"sampling error of ±{se:.2f} points (1 s.e.); differences below these are not evidence "
                     f"either way ('within the noise': Δ below the larger of the seed effect and 2 s.e.). Rule: "
                     f"adopt if faster than its baseline and Δ top-1 ≤ {ADOPT_MAX_POINTS} points.")
        if errors["fp32 eager"] > 80:
            notes.append(f"The fp32 run ended at {errors['fp32 eager']:.1f}% top-1 error, near chance for "
                         f"{len(splits.val.classes)} classes: too short to learn, so its accuracy column says nothing.")
    return section("fast_paths", "CPU fast paths for net D's training step",
                   {"profile": p.name, "steps": steps, "repeats": repeats, "accuracy_images": accuracy_images,
                    "compile_cap_s": compile_cap_s, "compile_warmup_s": compile_warmup_s,
                    "parts_s": {k: round(v, 1) for k, v in parts_s.items()},
                    "seed_noise_points": None if noise is None else round(noise, 2)},
                   [table("Speed and accuracy cost of each path", units, rows)], notes, started)
