"""The GPU check's quick-profile part: the nets of the quick Table 4 trained for a fixed number of
epochs from an empty run store through the loop every table uses (its device-resident data path),
and what follows for the whole table on this device.

For each configuration it reports the last epoch's images/s, the achieved TFLOP/s as a fraction
of the device's measured bf16 matrix-multiply peak, and the epoch's seconds with its validation.
The projection is :func:`vgglib.plan.plan_table`'s count (each net's expected epochs from the
committed records, every test evaluation) timed by these measurements: the epochs as measured,
the evaluations (the dense test's cost per image at each Q) on the device.  All records are
projected from Table 4 by the ratio of their wall times in the committed records on the CPU."""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import torch

from ..data import profile_splits
from ..plan import Probe, plan_table
from ..profiles import get_profile
from ..results import REPO, ResultSet
from ..runs import Row, RunStore
from ..train import ensure
from .steps import train_flops

#: One row per configuration of Table 4 at S = 256 (A is B's chain parent); their epoch times
#: stand for the same configuration at S = 384 and jittered (the crop, so the step, is the same).
ROWS = ("A/256", "B/256", "C/256", "D/256", "E/256")


class Measured(Probe):
    """A :class:`vgglib.plan.Probe` whose training epochs are the ones measured on the device."""

    def __init__(self, *args, epochs_s: dict[str, float], **kw):
        super().__init__(*args, **kw)
        self.epochs_s = epochs_s

    def train_epoch_s(self, row: str) -> float:
        """The measured seconds of the SGD steps of one epoch of the row's configuration."""
        return self.epochs_s[Row.parse(row).config]


def quick_check(tiny: bool, epochs: int, peak_tflops: float, data_root: str | None = None) -> dict:
    """Train :data:`ROWS` at the quick profile (``tiny``: smoke sizes) for ``epochs`` epochs each on
    this machine's device, and project Table 4 and all records from them."""
    p = get_profile("smoke" if tiny else "quick").with_(max_epochs=epochs, max_epochs_finetune=epochs,
                                                         ckpt_every_steps=10 ** 9)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    splits = profile_splits(p, data_root)
    nets, epochs_s = {}, {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as runs:
        store = RunStore(runs)
        for row in ROWS:
            _, run = ensure(row, p, store, splits, progress=False)
            metrics = json.loads((run / "metrics.json").read_text())
            last, before = metrics[-1], (metrics[-2]["wall_s"] if len(metrics) > 1 else 0.0)
            config = Row.parse(row).config
            tflops = last["images_per_s"] * train_flops(config, p.crop, width=p.width, fc_width=p.fc_width) / 1e12
            epochs_s[config] = last["epoch_s"]
            nets[row] = {"images_per_s": round(last["images_per_s"], 1), "tflops": round(tflops, 3),
                         "fraction_of_peak": round(tflops / peak_tflops, 4), "epoch_s": round(last["epoch_s"], 2),
                         "validation_s": round(last["wall_s"] - before - last["epoch_s"], 2)}
        train_s = time.perf_counter() - started
        timer = Measured(p, splits, store, device, epochs_s=epochs_s)
        quick = get_profile("smoke" if tiny else "quick")
        table4 = plan_table("table4", quick, splits, RunStore(Path(runs) / "empty"), REPO / "results" / quick.name,
                            timer=timer)
    ratio = all_over_table4(REPO / "results" / quick.name)
    return {"profile": quick.name, "epochs_each": epochs, "nets": nets, "train_s": round(train_s, 1),
            "table4_projected_min": round(table4.estimate_s / 60, 2), "table4_nets": len(table4.nets),
            "table4_epochs": table4.epochs,
            "all_records_projected_min": None if ratio is None else round(table4.estimate_s * ratio / 60, 2),
            "all_over_table4_on_cpu": None if ratio is None else round(ratio, 2),
            "dense_test_ms_per_image": {f"{c} Q={q} px": round(1000 * s, 3) for (_, c, m, q, flip), s
                                        in timer.memo.items() if m == "dense" and flip}}


def all_over_table4(results: Path) -> float | None:
    """All records' wall time over Table 4's, as the committed records on the CPU state them."""
    records = ResultSet(results)
    walls = {n: records[n]["provenance"]["wall_s"] for n in records.names()
             if "wall_s" in records[n].get("provenance", {})}
    return sum(walls.values()) / walls["table4"] if walls.get("table4") else None
