"""A plan before a long run: which nets a table trains and which the run store already has, the
epochs each is expected to run, and the wall time this machine will take, estimated from the
floor model's counts and a short probe of the real steps.

``python -m vgglib reproduce table4 --plan`` prints it without training anything; every
``reproduce`` prints it first, then shows one progress bar over the whole table (the epochs of
every net it trains) with its ETA.

The estimate is counted, not guessed: the floor model (:mod:`vgglib.bench.floor`) says what
runs — each net's training steps, its validation pass after every epoch, every test
evaluation — and the probe times each piece here, on this machine, at the profile's sizes: two
SGD steps of each configuration on a ready batch plus the data path's time for one batch, and
one evaluation batch for each (configuration, method, Q).  Epochs come from the store when it
holds a net, else from the epochs the net took in the committed records (the plateau schedule
ends a run; the record shows when it did last time), else from those its row's first seed took
there (a seed the records do not hold yet), else the profile's cap (an upper bound)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from . import arch, evaluate, paper
from .augment import Augmenter, BatchLoader, Normalise
from .data import Splits
from .parts.classification.rows import JITTERED, NOISE_ROWS, SHALLOW_ROWS, TABLE3_ROWS, TABLE4_ROWS
from .profiles import Profile
from .progress import TableBar
from .results import ResultSet
from .runs import Row, RunStore, make_spec, resolved
from .stats import compute_stats
from .train import dataset_id

#: Test images each evaluation probe runs: enough that one batch's fixed costs are amortised.
PROBE_IMAGES = 64


@dataclass
class NetPlan:
    """One net of a table: whether the store has it, its expected epochs and their seconds."""

    row: str
    seed: int
    stored: bool
    epochs: int
    epochs_from: str        # "run store", "records", "records, seed 0" or "profile cap"
    train_s: float = 0.0    # training steps and the validation after each epoch
    test_s: float = 0.0     # its test evaluations not yet cached

    @property
    def name(self) -> str:
        """The row, with the seed when it is not the first (as the records name nets)."""
        return self.row if self.seed == 0 else f"{self.row}#{self.seed}"


@dataclass
class Plan:
    """What reproducing one table will do on this machine, and how long it should take."""

    table: str
    profile: str
    nets: list[NetPlan] = field(default_factory=list)
    probe_s: float = 0.0

    @property
    def to_train(self) -> list[NetPlan]:
        """The nets the store lacks, in the order they will be trained."""
        return [n for n in self.nets if not n.stored]

    @property
    def epochs(self) -> int:
        """The epochs still to run: the length of the table's progress bar."""
        return sum(n.epochs for n in self.to_train)

    @property
    def estimate_s(self) -> float:
        """The expected wall time: training and validation of the missing nets, test evaluations."""
        return sum(n.train_s + n.test_s for n in self.nets)

    def bar(self, enabled: bool = True) -> TableBar:
        """One progress bar over the epochs of every net to train, with its ETA."""
        return TableBar({(n.row, n.seed): n.epochs for n in self.to_train},
                        f"{self.table}: epochs of {len(self.to_train)} nets", enabled)

    def text(self) -> str:
        """The plan as the lines a user reads before the run starts."""
        lines = [f"Plan for {self.table} at profile {self.profile}: {len(self.to_train)} of {len(self.nets)} nets "
                 f"to train ({self.epochs} epochs), {len(self.nets) - len(self.to_train)} in the run store."]
        for n in self.nets:
            what = "in the store" if n.stored else f"train {n.epochs} epochs ({n.epochs_from})"
            lines.append(f"  {n.name:<16} {what:<36} ~{fmt(n.train_s + n.test_s)}")
        lines.append(f"Estimated wall time on this machine: {fmt(self.estimate_s)} "
                     f"(from a {self.probe_s:.0f}-second probe of its steps and evaluations).")
        return "\n".join(lines)


def fmt(seconds: float) -> str:
    """Seconds as a person reads a duration: 40 s, 12 min, 3.4 h."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def recorded_epochs(results: Path | None) -> dict[str, int]:
    """The epochs each net took, by the schedule, in the records in ``results`` (name → epochs)."""
    if results is None or not Path(results).is_dir():
        return {}
    out: dict[str, int] = {}
    records = ResultSet(results)
    for name in records.names():
        try:
            training = records[name].get("provenance", {}).get("training", {})
        except (ValueError, OSError):
            continue
        for net, facts in training.items():
            if isinstance(facts, dict) and "epochs" in facts and facts.get("stopped_by") == "schedule":
                out.setdefault(net, int(facts["epochs"]))
    return out


#: The tables whose nets are declared, with the rows each evaluates (their chains and the noise
#: seeds follow from them): the tables a plan covers.
PLANNED: dict[str, tuple[str, ...]] = {"table3": TABLE3_ROWS, "table4": TABLE4_ROWS, "table5": JITTERED,
                                       "table6": (*paper.SUBMISSION_NETS, *JITTERED)}


def table_nets(table: str, seeds: int) -> dict[tuple[str, int], dict[str, set[int]]]:
    """The nets a table trains with ``seeds`` seeds of each noise row (a profile's
    ``noise_seeds``), (row, seed) → {test method: paper-unit Qs}, chains included (a parent the
    table does not evaluate maps to {})."""
    nets: dict[tuple[str, int], dict[str, set[int]]] = {}

    def need(row: str, seed: int, method: str | None = None, qs: tuple[int, ...] = ()) -> None:
        parent, _ = Row.parse(row).parent()
        if parent is not None:
            need(str(parent), seed)
        entry = nets.setdefault((row, seed), {})
        if method:
            entry.setdefault(method, set()).update(qs)

    def scale(row: str) -> int | tuple[int, int]:
        return Row.parse(row).scale

    if table not in PLANNED:
        raise ValueError(f"no nets declared for {table!r}; declared: {', '.join(PLANNED)}")
    for r in PLANNED[table]:
        single = (evaluate.q_single(scale(r)),)
        if table == "table3":
            need(r, 0, "dense", single)
        elif table == "table4":
            need(r, 0, "dense", (*evaluate.q_set(scale(r)), *single))
        elif table == "table5" or (table == "table6" and r in JITTERED):
            for method in ("dense", "multi-crop"):
                need(r, 0, method, evaluate.q_set(scale(r)))
        else:
            need(r, 0, "dense", evaluate.q_set(scale(r)))
    if table == "table3":
        for r in SHALLOW_ROWS:
            need(r, 0, "centre", (evaluate.q_single(scale(r)),))
    for r in NOISE_ROWS:   # the seed noise every classification table measures (run.noise)
        for seed in range(seeds):
            need(r, seed, "dense", (*evaluate.q_set(scale(r)), evaluate.q_single(scale(r))))
    return nets


def plan_table(table: str, p: Profile, splits: Splits, store: RunStore, results: Path | None = None,
               probe: bool = True, timer: Probe | None = None) -> Plan:
    """The plan of ``table`` at profile ``p`` (study seed 0): its nets
    (:func:`table_nets`), which ``store`` holds, their epochs, and the
    seconds each will take, timed by ``timer`` (default: a :class:`Probe` of this machine;
    none when ``probe`` is False)."""
    started = time.perf_counter()
    dataset, known = dataset_id(splits), recorded_epochs(results)
    keys: dict[tuple[str, int], str] = {}
    nets, tests = [], {}
    for (row, net_seed), methods in table_nets(table, p.noise_seeds).items():
        r = Row.parse(row)
        parent, _ = r.parent()
        spec = make_spec(r, p, dataset, net_seed, keys.get((str(parent), net_seed)) if parent else None)
        keys[(row, net_seed)] = spec.key
        run = store.find(spec)
        name = row if net_seed == 0 else f"{row}#{net_seed}"
        recorded = name if name in known else row if row in known else None   # this seed's, else the first's
        if run is not None:
            net = NetPlan(row, net_seed, True, RunStore.done(run)["epochs"], "run store")
        elif recorded is not None:
            net = NetPlan(row, net_seed, False, min(known[recorded], resolved(r, p)[1]),
                          "records" if recorded == name else "records, seed 0")
        else:
            net = NetPlan(row, net_seed, False, resolved(r, p)[1], "profile cap")
        nets.append(net)
        tests[(row, net_seed)] = (run, methods)
    result = Plan(table, p.name, nets)
    timer = timer or (Probe(p, splits, store) if probe else None)
    if timer is not None:
        for net in nets:
            run, methods = tests[(net.row, net.seed)]
            if not net.stored:
                net.train_s = net.epochs * timer.epoch_s(net.row)
            net.test_s = sum(timer.test_s(net.row, method, p.scale(q)) for method, qs in methods.items() for q in qs
                             if not cached(run, len(splits.test), method, p.scale(q)))
    result.probe_s = time.perf_counter() - started
    return result


def cached(run: Path | None, test_images: int, method: str, q_px: int) -> bool:
    """Whether a stored net already has its test posteriors for (method, Q) (any version)."""
    return run is not None and any((run / "posteriors").glob(f"test{test_images}-{method}-q{q_px}-*.pt"))


class Probe:
    """Times the pieces of a table on this machine at a profile's sizes, once per configuration
    (training step and validation) and per (configuration, method, Q) (test evaluation).
    Evaluations run on ``device``; the training step is probed on the CPU (a GPU's epochs are
    measured by training, see :mod:`vgglib.bench.gpu`, which overrides :meth:`train_epoch_s`)."""

    def __init__(self, p: Profile, splits: Splits, store: RunStore, device: torch.device | str = "cpu"):
        self.p, self.splits, self.device = p, splits, torch.device(device)
        self.stats = store.stats(dataset_id(splits), splits.train) if store.root.is_dir() \
            else compute_stats(splits.train)
        self.memo: dict[tuple, float] = {}

    def net(self, row: str) -> arch.VGG:
        """An untrained net of the row's configuration at the profile's size (the same arithmetic)."""
        p = self.p
        torch.manual_seed(0)
        model = arch.build(Row.parse(row).config, num_classes=len(self.splits.train.classes), width=p.width,
                           crop=p.crop, fc_width=p.fc_width, dropout=p.dropout, init=p.init).to(self.device)
        return model.to(memory_format=torch.channels_last) if p.channels_last else model

    def epoch_s(self, row: str) -> float:
        """Seconds of one epoch of the row: its SGD steps with their batches, then validation."""
        q_val = self.p.scale(evaluate.q_single(Row.parse(row).scale))
        return self.train_epoch_s(row) + self.images_s(row, "dense", q_val, flip=False) * len(self.splits.val)

    def train_epoch_s(self, row: str) -> float:
        """Seconds of the row's SGD steps in one epoch, with their batches: two real steps timed
        after one warm-up, on batches drawn as training draws them."""
        r, p = Row.parse(row), self.p
        key = ("epoch", r.config, str(r.scale))
        if key not in self.memo:
            lo, hi = (r.scale, r.scale) if isinstance(r.scale, int) else r.scale
            loader = BatchLoader(self.splits.train, Augmenter(p.crop, (p.scale(lo), p.scale(hi)), self.stats,
                                                              Normalise(tuple(self.stats.mean))), p.batch, 0)
            model = self.net(row).train()
            opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=p.momentum)

            def step(i: int) -> None:
                x, y = loader.batch(0, i)
                x = x.contiguous(memory_format=torch.channels_last) if p.channels_last else x
                with torch.autocast(self.device.type, torch.bfloat16, enabled=p.bf16):
                    loss = F.cross_entropy(model(x.to(self.device)), y.to(self.device))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            step(0)
            t = time.perf_counter()
            step(1), step(2)
            self.memo[key] = (time.perf_counter() - t) / 2 * (len(self.splits.train) // p.batch)
        return self.memo[key]

    def test_s(self, row: str, method: str, q_px: int) -> float:
        """Seconds of one test evaluation (flips included, as the tables test) of the row's net."""
        return self.images_s(row, method, q_px, flip=True) * len(self.splits.test)

    def images_s(self, row: str, method: str, q_px: int, flip: bool) -> float:
        """Seconds per image of ``vgglib.evaluate`` for the row's configuration at Q pixels (one
        warm-up pass on a GPU, where the first call pays for kernel selection)."""
        key = ("eval", Row.parse(row).config, method, q_px, flip)
        if key not in self.memo:
            n = min(PROBE_IMAGES * (8 if self.device.type == "cuda" else 1), len(self.splits.test))
            images = self.splits.test.subset(list(range(n)))
            model, norm = self.net(row).eval(), Normalise(tuple(self.stats.mean))

            def run() -> None:
                evaluate.evaluate(model, images, norm, method, [q_px], flip=flip, batch_size=self.p.eval_batch,
                                  autocast=self.p.bf16)
            if self.device.type == "cuda":
                run()
            t = time.perf_counter()
            run()
            self.memo[key] = (time.perf_counter() - t) / n
        return self.memo[key]
