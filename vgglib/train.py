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
from dataclasses import asdict, dataclass
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
    return arch.build(spec.row.split("/")[0], num_classes=num_classes, width=s["width"],
                      crop=s["crop"], fc_width=s["fc_width"], dropout=s["dropout"],
                      init=s["init"], std=s["init_std"])


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
        return BatchLoader(self.splits.train, augmenter, spec.settings["batch"], spec.seed, rank, world, workers)

    def classes(self) -> list[str]:
        """The class names in the net's output order (stored in its weight file)."""
        return list(self.splits.train.classes)

    def loss(self, output: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Multinomial logistic regression (soft-max cross-entropy)."""
        return F.cross_entropy(output, labels)

    def val_error(self, model: arch.VGG, norm: Normalise, q: int, profile: Profile) -> float:
        """Top-1 error (%) on the validation split (see :func:`validate`)."""
        return validate(model, self.splits, norm, q, profile)


def train(spec: RunSpec, store: RunStore, splits: Splits, profile: Profile,
          parent: arch.VGG | None = None, progress: bool = True,
          task: Classification | None = None) -> arch.VGG:
    """Train (or resume, or reuse) the run of ``spec``; returns the trained model.  ``task``
    defaults to :class:`Classification` of ``splits`` from ``parent``.

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
    train_scale = (profile.scale(scale[0]), profile.scale(scale[1])) if isinstance(scale, tuple) \
        else profile.scale(scale)
    stats = store.stats(dataset_id(splits), splits.train) if rank == 0 else None
    barrier(world)
    stats = stats or store.stats(dataset_id(splits), splits.train)   # the others read rank 0's cache
    norm = Normalise(stats.mean)
    loader = task.loader(Augmenter(s["crop"], train_scale, stats, norm), spec, rank, world, profile.workers)
    device = device_for(rank)
    model = task.build(spec).to(device)
    if s["channels_last"]:
        model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(task.parameters(model), lr=spec.lr, momentum=s["momentum"],
                          weight_decay=s["weight_decay"])
    state = load_checkpoint(run / "checkpoint.pt", device)
    if state:
        model.load_state_dict(state.pop("model"))
        opt.load_state_dict(state.pop("opt"))
    if rank == 0:
        store.path(spec)
    barrier(world)
    try:
        metrics, done = _fit(spec, run, task, model, opt, loader, norm, profile, rank, world, progress, state)
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


def _fit(spec: RunSpec, run: Path, task: Classification, model: arch.VGG, opt: torch.optim.Optimizer,
         loader: BatchLoader, norm: Normalise, profile: Profile, rank: int, world: int, progress: bool,
         state: dict | None) -> tuple[list[dict], dict]:
    """The epochs of a run from where its checkpoint left it: SGD steps (dropout masks keyed by
    each sample's place in the epoch), validation, the plateau schedule and checkpoints.
    Returns the per-epoch metrics and the run's completion record."""
    s, lead, device = spec.settings, rank == 0, next(model.parameters()).device
    sched = PlateauSchedule(spec.lr, s["decays"], s["patience"])
    epoch, start_step, metrics, elapsed, loss_sum, seen = 0, 0, [], 0.0, 0.0, 0
    if state:
        sched = PlateauSchedule(**state["sched"])
        epoch, start_step, metrics = state["epoch"], state["step"], state["metrics"]
        elapsed = state["elapsed"]
        if lead:   # the checkpoint holds all ranks' loss so far: count it once
            loss_sum, seen = state["loss_sum"], state["seen"]
    net = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    amp = torch.autocast(device.type, torch.bfloat16) if s["bf16"] else contextlib.nullcontext()
    q_val = profile.scale(evaluate.q_single(task.scale(spec)))
    clock = time.perf_counter()

    def wall() -> float:
        return elapsed + time.perf_counter() - clock

    def checkpoint(at_epoch: int, at_step: int) -> None:
        so_far = summed(world, device, loss_sum, seen)   # every rank takes part; rank 0 saves
        if lead:
            save_checkpoint(run / "checkpoint.pt", model=model.state_dict(), opt=opt.state_dict(),
                            sched=asdict(sched), epoch=at_epoch, step=at_step, metrics=metrics,
                            elapsed=wall(), loss_sum=so_far[0], seen=so_far[1])

    bar = tqdm(total=spec.max_epochs, initial=epoch, desc=spec.row, unit="epoch",
               disable=not (progress and lead))
    while epoch < spec.max_epochs and not sched.stopped:
        for g in opt.param_groups:
            g["lr"] = sched.lr
        net.train()
        t0, step = time.perf_counter(), start_step
        batches = fastdata.epoch_batches(loader, epoch, device, start_step, profile.decode)
        steps = tqdm(batches, total=loader.steps_per_epoch, initial=start_step,
                     leave=False, desc=f"epoch {epoch + 1}", mininterval=2,
                     disable=not (progress and lead))
        for x, *targets in steps:
            x = x.to(device, non_blocking=True)
            targets = [t.to(device, non_blocking=True) for t in targets]
            if s["channels_last"]:
                x = x.contiguous(memory_format=torch.channels_last)
            torch.manual_seed(derived_seed(spec.seed, epoch, step))
            with amp, sample_dropout(model, loader.sample_keys(epoch, step)):
                loss = task.loss(net(x), *targets)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum, seen, step = loss_sum + loss.item() * len(x), seen + len(x), step + 1
            steps.set_postfix(loss=f"{loss.item():.3f}", lr=f"{sched.lr:.0e}", refresh=False)
            if step % profile.ckpt_every_steps == 0 and step < loader.steps_per_epoch:
                checkpoint(epoch, step)
        epoch_time = time.perf_counter() - t0
        val_err = task.val_error(model, norm, q_val, profile) if lead else 0.0
        if world > 1:   # rank 0's validation error for all
            t = torch.tensor([val_err], device=device)
            dist.broadcast(t, 0)
            val_err = t.item()
        loss_sum, seen = summed(world, device, loss_sum, seen)
        row = {"epoch": epoch + 1, "lr": sched.lr, "train_loss": loss_sum / max(seen, 1),
               task.metric: val_err, "images_per_s": (loader.steps_per_epoch - start_step)
               * s["batch"] / max(epoch_time, 1e-9), "epoch_s": epoch_time, "wall_s": wall()}
        row["schedule"] = sched.step(100.0 - val_err)
        metrics.append(row)
        epoch, start_step, loss_sum, seen = epoch + 1, 0, 0.0, 0
        checkpoint(epoch, 0)
        bar.update(1)
        if lead:
            bar.write(f"{spec.row} epoch {row['epoch']:>2}: loss {row['train_loss']:.3f}  "
                      f"{task.metric} {val_err:5.2f}%  lr {row['lr']:.0e}  "
                      f"{row['images_per_s']:.0f} img/s  {epoch_time:.0f}s  [{row['schedule']}]")
    bar.close()
    return metrics, {"epochs": epoch, "wall_s": wall(), f"best_{task.metric}": 100.0 - sched.best,
                     "decays": sched.decays, "stopped_by": "schedule" if sched.stopped else "epoch cap"}


def validate(model: arch.VGG, splits: Splits, norm: Normalise, q: int, profile: Profile) -> float:
    """Top-1 error (%) on the held-out validation split, dense at one scale: the LR signal."""
    post = evaluate.dense_posteriors(model, splits.val, q, norm, flip=False,
                                     batch_size=profile.eval_batch, autocast=profile.bf16)
    return evaluate.topk_error(post, splits.val.labels, 1)


def ensure(row: Row | str, profile: Profile, store: RunStore, splits: Splits, seed: int = 0,
           progress: bool = True) -> tuple[arch.VGG, Path]:
    """Train a row and every run its init chain needs, reusing completed runs in the store."""
    row = Row.parse(row) if isinstance(row, str) else row
    parent_row, _ = row.parent()
    parent_model, parent_key = None, None
    if parent_row is not None:
        parent_model, parent_dir = ensure(parent_row, profile, store, splits, seed, progress)
        parent_key = store.key(parent_dir)
    spec = make_spec(row, profile, dataset_id(splits), seed, parent_key)
    model = train(spec, store, splits, profile, parent_model, progress)
    return model, store.root / spec.dirname


def dataset_id(splits: Splits) -> str:
    """The identity of a data set's splits, part of every run key: its name, split sizes and
    a fingerprint of its content (:attr:`vgglib.data.Splits.fingerprint`)."""
    return f"{splits.name}-{len(splits.train)}-{len(splits.val)}-{splits.fingerprint[:12]}"
