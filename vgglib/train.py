"""Paper §3.1 and §3.3: training one net, exactly resumable, on one CPU or many GPUs.

One loop for every scale: SGD with momentum and weight decay on the multinomial logistic
loss, the learning rate divided by 10 when validation accuracy stops improving (three times,
then stop), checkpoints written atomically, and DistributedDataParallel under ``torchrun``.

Under ``torchrun`` the ranks split each global batch; every sample's augmentation and
dropout mask are functions of (seed, epoch, the sample's place in the epoch), and DDP
averages the ranks' mean gradients, so N ranks compute the global batch of one process:
the same weights up to the order of floating-point sums.
"""
from __future__ import annotations

import contextlib
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from tqdm import tqdm

from . import arch, evaluate, fastdata
from .augment import Augmenter, BatchLoader, Normalise, derived_seed
from .data import Splits
from .dropout import sample_dropout
from .files import save_tensor, write_json
from .profiles import Profile
from .progress import TableBar
from .runs import Row, RunSpec, RunStore, Scale, make_spec


@dataclass
class PlateauSchedule:
    """Divide the learning rate by 10 when validation accuracy stops improving; after the
    last allowed decrease, stop at the next plateau (§3.1: three decreases in all).

    "Stopped improving" means ``patience`` epochs in a row without beating the best accuracy
    so far, so one noisy epoch after a good one does not decay the rate when patience ≥ 2.
    The epoch cap of a profile is only a guard: ``done.json`` says which of the two ended a run."""

    lr: float
    decays_left: int = 3
    patience: int = 1
    best: float = float("-inf")
    bad_epochs: int = 0
    stopped: bool = False
    decays: int = 0

    def step(self, accuracy: float) -> str:
        """Record one epoch's validation accuracy; say what happened: improved, wait, decay, stop."""
        if accuracy > self.best:
            self.best, self.bad_epochs = accuracy, 0
            return "improved"
        self.bad_epochs += 1
        if self.bad_epochs < self.patience:
            return "wait"
        self.bad_epochs = 0
        if self.decays_left == 0:
            self.stopped = True
            return "stop"
        self.lr /= 10
        self.decays_left -= 1
        self.decays += 1
        return "decay"


#: Steps between reads of the training loss for the progress bar (each read waits for the device).
LOG_EVERY = 50


def distributed() -> tuple[int, int]:
    """(rank, world size), joining the process group when launched by ``torchrun``."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return (dist.get_rank(), world) if world > 1 else (0, 1)


def device_for(rank: int) -> torch.device:
    """This rank's device: its GPU under torchrun on a GPU node, else the CPU."""
    if torch.cuda.is_available():
        local = int(os.environ.get("LOCAL_RANK", rank))
        torch.cuda.set_device(local)
        return torch.device("cuda", local)
    return torch.device("cpu")


def build_for(spec: RunSpec, num_classes: int) -> arch.VGG:
    """The untrained net of a spec, at the profile's width, crop and head size."""
    s = spec.settings
    torch.manual_seed(spec.seed)
    return arch.build(Row.parse(spec.row).config, num_classes=num_classes, width=s.width, crop=s.crop,
                      fc_width=s.fc_width, dropout=s.dropout, init=s.init, std=s.init_std)


def save_checkpoint(path: Path, **state) -> None:
    """Write a checkpoint atomically: a kill mid-write leaves the previous one intact."""
    save_tensor(path, state)


class Classification:
    """The paper's task (§3.1): class labels, the multinomial logistic loss, and top-1 error
    on the validation split as the learning-rate signal.  ``train`` runs any object with these
    methods; localisation (Appendix A) is the other one."""

    metric = "val_top1_err"

    def __init__(self, splits: Splits, parent: arch.VGG | None = None):
        self.splits, self.parent = splits, parent

    def scale(self, spec: RunSpec) -> Scale:
        """The training scale S (or [Smin, Smax]) in paper pixels."""
        return Row.parse(spec.row).scale

    def build(self, spec: RunSpec) -> arch.VGG:
        """The initial net: untrained, then the layers the init chain copies from the parent."""
        model = build_for(spec, len(self.splits.train.classes))
        if self.parent is not None:
            if spec.copy == "all":
                model.load_state_dict(self.parent.state_dict())
            else:
                arch.init_from(model, self.parent, tuple(spec.copy))
        return model

    def parameters(self, model: arch.VGG) -> list[torch.nn.Parameter]:
        """The weights SGD updates: those :meth:`build` left trainable (all, for classification)."""
        return [p for p in model.parameters() if p.requires_grad]

    def loader(self, augmenter: Augmenter, spec: RunSpec, rank: int, world: int, workers: int) -> BatchLoader:
        """The seeded training batches: (inputs, labels)."""
        return BatchLoader(self.splits.train, augmenter, spec.settings.batch, spec.seed, rank, world, workers)

    def classes(self) -> list[str]:
        """The class names in the net's output order (stored in its weight file)."""
        return list(self.splits.train.classes)

    def loss(self, output: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Multinomial logistic regression (soft-max cross-entropy)."""
        return F.cross_entropy(output, labels)

    def val_error(self, model: arch.VGG, norm: Normalise, q: int, spec: RunSpec, profile: Profile) -> float:
        """Top-1 error (%) on the validation split (see :func:`validate`)."""
        return validate(model, self.splits, norm, q, spec.settings.bf16, profile.eval_batch)


def train(spec: RunSpec, store: RunStore, splits: Splits, profile: Profile,
          parent: arch.VGG | None = None, progress: bool = True,
          task: Classification | None = None, bar: TableBar | None = None) -> arch.VGG:
    """Train (or resume, or reuse) the run of ``spec``; returns the trained model.  ``task``
    defaults to :class:`Classification` of ``splits`` from ``parent``; ``bar`` is the table's
    progress bar (:class:`vgglib.progress.TableBar`), which then counts its epochs.

    Under ``torchrun`` only rank 0 writes the run store; the others wait for it at barriers.
    The run directory is made only once everything before the first step has worked, and a
    run that fails before its first checkpoint is removed: no half-made run is left behind."""
    task = task or Classification(splits, parent)
    rank, world = distributed()
    run = store.root / spec.dirname
    if (run / "done.json").exists():
        return arch.load_weights(run / "model.safetensors")
    s = spec.settings
    scale = task.scale(spec)
    train_scale = (s.scale(scale[0]), s.scale(scale[1])) if isinstance(scale, tuple) else s.scale(scale)
    stats = store.stats(dataset_id(splits), splits.train) if rank == 0 else None
    barrier(world)
    stats = stats or store.stats(dataset_id(splits), splits.train)   # the others read rank 0's cache
    norm = Normalise(stats.mean)
    loader = task.loader(Augmenter(s.crop, train_scale, stats, norm), spec, rank, world, profile.workers)
    device = device_for(rank)
    model = task.build(spec).to(device)
    if s.channels_last:
        model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(task.parameters(model), lr=spec.lr, momentum=s.momentum, weight_decay=s.weight_decay)
    state = load_checkpoint(run / "checkpoint.pt", device)
    if state:
        model.load_state_dict(state.pop("model"))
        opt.load_state_dict(state.pop("opt"))
    if rank == 0:
        store.path(spec)
    barrier(world)
    try:
        loop = Loop(spec, run, task, model, opt, loader, profile, rank, world, progress, bar)
        metrics, done = loop.fit(norm, RunState.start(spec, state, rank == 0))
    except BaseException:
        if rank == 0:
            store.discard_unstarted(run)
        raise
    if rank == 0:  # done.json last: it marks the run complete
        arch.save_weights(model.cpu(), run / "model.safetensors", stats.mean, task.classes())
        write_json(run / "metrics.json", metrics)
        write_json(run / "done.json", done)
        (run / "checkpoint.pt").unlink(missing_ok=True)
    barrier(world)
    return model.cpu()


def summed(world: int, device: torch.device, loss_sum: float, seen: int) -> tuple[float, int]:
    """The training loss sum and sample count over all ranks (this rank's in one process)."""
    if world == 1:
        return loss_sum, seen
    total = torch.tensor([loss_sum, seen], dtype=torch.float64, device=device)
    dist.all_reduce(total)
    return total[0].item(), int(total[1].item())


def barrier(world: int) -> None:
    """Wait for every rank (a no-op in one process): the others read what rank 0 wrote."""
    if world > 1:
        dist.barrier()


def load_checkpoint(path: Path, device: torch.device) -> dict | None:
    """A run's checkpoint (None when there is none), or an error naming a damaged one."""
    if not path.exists():
        return None
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except Exception as e:
        raise ValueError(f"checkpoint {path} is damaged ({type(e).__name__}: {str(e).splitlines()[0]}); "
                         f"delete it to restart that run from its first epoch") from None


@dataclass
class RunState:
    """Where a run stands, besides its weights and optimiser: what a checkpoint holds to resume
    it exactly (the schedule, the epoch and step, the metrics so far, the wall time spent and
    the running training-loss sum of the epoch)."""

    sched: PlateauSchedule
    epoch: int = 0
    step: int = 0
    metrics: list[dict] = field(default_factory=list)
    elapsed: float = 0.0
    loss_sum: float = 0.0
    seen: int = 0

    @classmethod
    def start(cls, spec: RunSpec, saved: dict | None, lead: bool) -> RunState:
        """A new run's state, or the one its checkpoint saved (the loss so far counted once,
        on rank 0: the checkpoint holds all ranks' sum)."""
        if not saved:
            return cls(PlateauSchedule(spec.lr, spec.settings.decays, spec.settings.patience))
        state = cls(PlateauSchedule(**saved["sched"]), saved["epoch"], saved["step"], saved["metrics"],
                    saved["elapsed"])
        if lead:
            state.loss_sum, state.seen = saved["loss_sum"], saved["seen"]
        return state


@dataclass
class Loop:
    """One run's training loop: the task, the net (wrapped for DDP when several ranks run), its
    optimiser and batches, the profile's speed settings, and where checkpoints go."""

    spec: RunSpec
    run: Path
    task: Classification
    model: arch.VGG
    opt: torch.optim.Optimizer
    loader: BatchLoader
    profile: Profile
    rank: int
    world: int
    progress: bool
    table_bar: TableBar | None = None

    def __post_init__(self) -> None:
        self.lead = self.rank == 0
        self.device = next(self.model.parameters()).device
        self.net = torch.nn.parallel.DistributedDataParallel(self.model) if self.world > 1 else self.model
        self.clock = time.perf_counter()
        self.resident = fastdata.Resident.of(self.loader.images, self.device)

    def wall(self, state: RunState) -> float:
        """Seconds this run has trained, over every piece of it."""
        return state.elapsed + time.perf_counter() - self.clock

    def checkpoint(self, state: RunState, epoch: int, step: int) -> None:
        """Save the run at (epoch, step): every rank adds its loss; rank 0 writes."""
        loss_sum, seen = summed(self.world, self.device, state.loss_sum, state.seen)
        if self.lead:
            save_checkpoint(self.run / "checkpoint.pt", model=self.model.state_dict(), opt=self.opt.state_dict(),
                            sched=asdict(state.sched), epoch=epoch, step=step, metrics=state.metrics,
                            elapsed=self.wall(state), loss_sum=loss_sum, seen=seen)

    def train_one_epoch(self, state: RunState) -> float:
        """SGD over the rest of epoch ``state.epoch`` from ``state.step`` (dropout masks keyed by
        each sample's place in the epoch), with checkpoints inside it; returns its seconds.

        Nothing in a step waits for the device: the loss is summed on the device and read only
        at log points (every ``LOG_EVERY`` steps, checkpoints and the epoch's end)."""
        s, epoch = self.spec.settings, state.epoch
        amp = torch.autocast(self.device.type, torch.bfloat16) if s.bf16 else contextlib.nullcontext()
        for g in self.opt.param_groups:
            g["lr"] = state.sched.lr
        self.net.train()
        t0 = time.perf_counter()
        batches = fastdata.epoch_batches(self.loader, epoch, self.device, state.step, self.profile.decode,
                                         self.resident)
        steps = tqdm(batches, total=self.loader.steps_per_epoch, initial=state.step, leave=False,
                     desc=f"epoch {epoch + 1}", mininterval=2, disable=not (self.progress and self.lead))
        loss_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        for x, *targets in steps:
            x = x.to(self.device, non_blocking=True)
            targets = [t.to(self.device, non_blocking=True) for t in targets]
            if s.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            torch.manual_seed(derived_seed(self.spec.seed, epoch, state.step))
            with amp, sample_dropout(self.model, self.loader.sample_keys(epoch, state.step, self.device)):
                loss = self.task.loss(self.net(x), *targets)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            loss_sum += loss.detach().double() * len(x)
            state.seen, state.step = state.seen + len(x), state.step + 1
            if state.step % LOG_EVERY == 0:
                steps.set_postfix(loss=f"{loss.item():.3f}", lr=f"{state.sched.lr:.0e}", refresh=False)
            if state.step % self.profile.ckpt_every_steps == 0 and state.step < self.loader.steps_per_epoch:
                state.loss_sum += loss_sum.item()
                loss_sum.zero_()
                self.checkpoint(state, epoch, state.step)
        state.loss_sum += loss_sum.item()
        return time.perf_counter() - t0

    def evaluate(self, norm: Normalise) -> float:
        """The validation error that drives the schedule, computed on rank 0 and given to all."""
        q_val = self.spec.settings.scale(evaluate.q_single(self.task.scale(self.spec)))
        val_err = self.task.val_error(self.model, norm, q_val, self.spec, self.profile) if self.lead else 0.0
        if self.world > 1:
            t = torch.tensor([val_err], device=self.device)
            dist.broadcast(t, 0)
            val_err = t.item()
        return val_err

    def fit(self, norm: Normalise, state: RunState) -> tuple[list[dict], dict]:
        """The epochs of a run from where ``state`` left it: an epoch of SGD, validation, the
        plateau schedule and a checkpoint, until the schedule or the epoch cap ends it.
        Returns the per-epoch metrics and the run's completion record."""
        metric, spec = self.task.metric, self.spec
        bar = tqdm(total=spec.max_epochs, initial=state.epoch, desc=spec.row, unit="epoch",
                   disable=not (self.progress and self.lead) or self.table_bar is not None)
        while state.epoch < spec.max_epochs and not state.sched.stopped:
            started_at = state.step
            epoch_time = self.train_one_epoch(state)
            val_err = self.evaluate(norm)
            loss_sum, seen = summed(self.world, self.device, state.loss_sum, state.seen)
            row = {"epoch": state.epoch + 1, "lr": state.sched.lr, "train_loss": loss_sum / max(seen, 1),
                   metric: val_err, "images_per_s": (self.loader.steps_per_epoch - started_at)
                   * spec.settings.batch / max(epoch_time, 1e-9), "epoch_s": epoch_time, "wall_s": self.wall(state)}
            row["schedule"] = state.sched.step(100.0 - val_err)
            state.metrics.append(row)
            state.epoch, state.step, state.loss_sum, state.seen = state.epoch + 1, 0, 0.0, 0
            self.checkpoint(state, state.epoch, 0)
            bar.update(1)
            if self.table_bar is not None and self.lead:
                self.table_bar.epoch_done(spec.row, spec.seed)
            if self.lead:
                bar.write(f"{spec.row} epoch {row['epoch']:>2}: loss {row['train_loss']:.3f}  "
                          f"{metric} {val_err:5.2f}%  lr {row['lr']:.0e}  "
                          f"{row['images_per_s']:.0f} img/s  {epoch_time:.0f}s  [{row['schedule']}]")
        bar.close()
        if self.table_bar is not None and self.lead:
            self.table_bar.net_done(spec.row, spec.seed)
        sched = state.sched
        return state.metrics, {"epochs": state.epoch, "wall_s": self.wall(state), f"best_{metric}": 100.0 - sched.best,
                               "decays": sched.decays, "stopped_by": "schedule" if sched.stopped else "epoch cap"}


def validate(model: arch.VGG, splits: Splits, norm: Normalise, q: int, bf16: bool, batch_size: int) -> float:
    """Top-1 error (%) on the held-out validation split, dense at one scale: the LR signal."""
    post = evaluate.dense_posteriors(model, splits.val, q, norm, flip=False, batch_size=batch_size, autocast=bf16)
    return evaluate.topk_error(post, splits.val.labels, 1)


def ensure(row: Row | str, profile: Profile, store: RunStore, splits: Splits, seed: int = 0,
           progress: bool = True, bar: TableBar | None = None) -> tuple[arch.VGG, Path]:
    """Train a row and every run its init chain needs, reusing completed runs in the store
    (``bar``: the table's progress bar, see :func:`train`)."""
    row = Row.parse(row) if isinstance(row, str) else row
    parent_row, _ = row.parent()
    parent_model, parent_key = None, None
    if parent_row is not None:
        parent_model, parent_dir = ensure(parent_row, profile, store, splits, seed, progress, bar)
        parent_key = store.key(parent_dir)
    spec = make_spec(row, profile, dataset_id(splits), seed, parent_key)
    model = train(spec, store, splits, profile, parent_model, progress, bar=bar)
    return model, store.root / spec.dirname


def dataset_id(splits: Splits) -> str:
    """The identity of a data set's splits, part of every run key: its name, split sizes and
    a fingerprint of its content (:attr:`vgglib.data.Splits.fingerprint`)."""
    return f"{splits.name}-{len(splits.train)}-{len(splits.val)}-{splits.fingerprint[:12]}"
