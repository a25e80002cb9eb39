"""The run store and the init chain (paper §3.1): which trained nets a table row needs,
and where each lives on disk, keyed by everything that determines it."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .arch import INIT_FROM_A, check_config
from .files import write_json
from .identity import version
from .images import ImageSet
from .profiles import Profile, to_pixels
from .stats import Stats, cached_stats


@dataclass(frozen=True)
class Settings:
    """What of a profile determines a trained net's weights, typed: the net's width, crop and
    head, SGD's batch, momentum and weight decay, dropout, the schedule's decays and patience,
    the initialisation and the number formats.  Training reads these from its spec and nothing
    else of the profile but how fast it runs (workers, evaluation batch, checkpoint interval,
    decoding); the data set is keyed by its content and the learning rate and epoch cap are
    resolved per run (:func:`resolved`)."""

    crop: int
    width: float
    fc_width: int
    batch: int
    momentum: float
    weight_decay: float
    dropout: float
    decays: int
    patience: int
    init: str
    init_std: float
    bf16: bool
    channels_last: bool

    @classmethod
    def of(cls, profile: Profile, **changes: object) -> Settings:
        """A profile's settings, with ``changes`` (a row's own init)."""
        return cls(**{**{f: getattr(profile, f) for f in cls.__dataclass_fields__}, **changes})

    def scale(self, paper_value: int) -> int:
        """A paper-unit scale (S or Q at crop 224) in these settings' pixels."""
        return to_pixels(paper_value, self.crop)


#: Paper §3.1, as data: a row's parent and the layers it takes from it ("all" = every layer).
#: A and A-LRN start from random init; B–E from A's first four convs and three FCs.  The
#: §4.1 shallow net (8 weight layers, shallower than A) starts from random init like A: the
#: paper does not say, and copying A's FC layers onto fresh 5×5 convs made it diverge in its
#: first epoch at the quick scale.  S=384 starts from S=256, jittered from S=384.
CHAIN_FROM_256 = {"B": INIT_FROM_A, "C": INIT_FROM_A, "D": INIT_FROM_A, "E": INIT_FROM_A}
FINETUNE_PARENT = {384: 256, (256, 512): 384}

Scale = int | tuple[int, int]


@dataclass(frozen=True)
class Row:
    """A trained net as the paper's tables name it: config / training scale [: init]."""

    config: str
    scale: Scale
    init: str = "chain"

    @classmethod
    def parse(cls, text: str) -> Row:
        """Parse ``D/256``, ``D/384``, ``D/256-512`` or ``D/256:glorot``."""
        m = re.fullmatch(r"([A-Za-z0-9x-]+?)/(\d+)(?:-(\d+))?(?::(chain|normal|glorot))?", text.strip())
        if not m:
            raise ValueError(f"cannot read row {text!r}; write CONFIG/S, CONFIG/SMIN-SMAX or "
                             f"CONFIG/S:INIT, e.g. D/256, D/256-512, D/256:glorot")
        check_config(m[1])
        scale: Scale = (int(m[2]), int(m[3])) if m[3] else int(m[2])
        return cls(m[1], scale, m[4] or "chain")

    def __str__(self) -> str:
        s = f"{self.scale[0]}-{self.scale[1]}" if isinstance(self.scale, tuple) else str(self.scale)
        return f"{self.config}/{s}" + ("" if self.init == "chain" else f":{self.init}")

    def parent(self) -> tuple[Row | None, tuple[str, ...] | str]:
        """The row this one is initialised from, and which layers it copies (§3.1)."""
        if self.init != "chain":
            return None, ()
        if self.scale in FINETUNE_PARENT:
            return Row(self.config, FINETUNE_PARENT[self.scale]), "all"
        if self.scale != 256:
            raise ValueError(f"row {self}: the paper trains from scratch only at S=256; "
                             f"fine-tuned scales are 384 and 256-512")
        if self.config in CHAIN_FROM_256:
            return Row("A", 256), CHAIN_FROM_256[self.config]
        return None, ()


@dataclass(frozen=True)
class RunSpec:
    """Everything that determines a trained net's weights; its hash names its directory.

    ``dataset`` names the data by content (:func:`vgglib.train.dataset_id`) and ``kind`` with
    ``version`` name the computation (:data:`vgglib.identity.VERSIONS`), so new data or a change
    that moves a kind's numbers never reuse an old run, and a refactor retrains nothing.
    ``task`` holds a task's own settings beyond the classifier's (a localiser's head, tuned
    layers and training scale); it is empty for a classification net."""

    row: str
    profile: str
    settings: Settings
    dataset: str
    seed: int
    parent: str | None
    copy: tuple[str, ...] | str
    lr: float
    max_epochs: int
    kind: str = "classifier"
    task: dict = field(default_factory=dict)

    @property
    def version(self) -> int:
        """The version of this kind of computation (part of the key)."""
        return version(self.kind)

    @property
    def key(self) -> str:
        """A short stable hash of the spec and its kind's version."""
        blob = json.dumps({**asdict(self), "version": self.version}, sort_keys=True, default=list)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    @property
    def dirname(self) -> str:
        """Readable directory name: row, profile, hash."""
        return f"{self.row.replace('/', '_').replace(':', '_')}-{self.profile}-{self.key}"

    def to_json(self) -> dict:
        """The spec as stored in ``spec.json``."""
        return {**asdict(self), "version": self.version, "key": self.key}


def resolved(row: Row, profile: Profile) -> tuple[float, int]:
    """The learning rate and epoch cap of a row's run: a fine-tune's (S = 384 and jittered nets,
    which start from all of their parent's layers) or a net trained from its initialisation."""
    finetune = row.parent()[1] == "all"
    return ((profile.lr_finetune, profile.max_epochs_finetune) if finetune
            else (profile.lr, profile.max_epochs))


def make_spec(row: Row, profile: Profile, dataset: str, seed: int, parent_key: str | None) -> RunSpec:
    """The spec of one row at one profile; ``parent_key`` is the parent run's key (or None)."""
    settings = Settings.of(profile, **({"init": row.init} if row.init != "chain" else {}))
    _, copy = row.parent()
    lr, max_epochs = resolved(row, profile)
    return RunSpec(row=str(row), profile=profile.name, settings=settings, dataset=dataset, seed=seed, parent=parent_key,
                   copy=copy if isinstance(copy, str) else tuple(copy), lr=lr, max_epochs=max_epochs)


class RunStore:
    """A directory of runs, one subdirectory per spec, plus cached data statistics."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root or os.environ.get("VGGLIB_RUNS", "runs")).resolve()

    def path(self, spec: RunSpec) -> Path:
        """The run's directory (created), with its spec written or checked.  Under ``torchrun``
        only rank 0 calls this; the other ranks wait for it at a barrier."""
        run = self.root / spec.dirname
        run.mkdir(parents=True, exist_ok=True)
        spec_file = run / "spec.json"
        if spec_file.exists():
            stored = read_json(spec_file, "remove that run directory to train the run again")
            if stored.get("key") != spec.key:
                raise RuntimeError(f"{spec_file} holds a different spec (key {stored.get('key')} "
                                   f"≠ {spec.key}); remove that directory or use another run store")
        else:
            write_json(spec_file, spec.to_json())
        return run

    @staticmethod
    def discard_unstarted(run: Path) -> None:
        """Remove a run directory that holds nothing but its spec (a command that failed before
        its first checkpoint), so no half-made run is left behind."""
        if run.is_dir() and {p.name for p in run.iterdir()} <= {"spec.json"}:
            shutil.rmtree(run)

    def find(self, spec: RunSpec) -> Path | None:
        """The directory of a completed run of exactly this spec, else None."""
        run = self.root / spec.dirname
        return run if (run / "done.json").exists() else None

    def data_dir(self, dataset: str) -> Path:
        """Where statistics of a data set (mean RGB, colour PCA) are cached (made when written)."""
        return self.root / "data" / re.sub(r"[^A-Za-z0-9_.-]", "_", dataset)

    def stats(self, dataset: str, images: ImageSet) -> Stats:
        """The RGB statistics of a data set's training images, computed once per store."""
        return cached_stats(images, self.data_dir(dataset) / "stats.json")

    @staticmethod
    def done(run: Path) -> dict:
        """A completed run's record: epochs, wall time, best validation error, what stopped it."""
        return read_json(run / "done.json", "remove that run directory to train the run again")

    @staticmethod
    def key(run: Path) -> str:
        """A run's key, as its ``spec.json`` records it (children name their parent by it)."""
        return read_json(run / "spec.json", "remove that run directory to train the run again")["key"]


def read_json(path: Path, fix: str) -> dict:
    """A JSON record of the store, or an error naming the damaged file and ``fix``."""
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path} is damaged ({e}); {fix}") from None
