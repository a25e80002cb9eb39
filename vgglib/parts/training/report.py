"""Paper §3.1's report: the init chain against training from scratch, and the init scales."""
from __future__ import annotations

import math

import pandas as pd

from ... import arch
from ...claims import EQUIVALENCE, Claim, Evidence
from ...noise import between
from ...profiles import profiles
from ...results import ResultSet


def init_scales(profile_name: str, config: str = "D") -> pd.DataFrame:
    """§3.1's N(0, 0.01²) init at full size and the σ each layer gets in a profile's analogue,
    chosen so that every layer keeps the paper's gain (fan-in × σ²)."""
    p = profiles()[profile_name]
    full = {layer.name: layer for layer in arch.plan(config)}
    rows = []
    for layer in arch.plan(config, num_classes=10, width=p.width, crop=p.crop, fc_width=p.fc_width):
        if layer.kind not in ("conv", "fc"):
            continue
        sigma = p.init_std * (full[layer.name].fan_in / layer.fan_in) ** 0.5
        rows.append({"layer": layer.name, "fan-in (paper)": full[layer.name].fan_in,
                     f"fan-in ({p.name})": layer.fan_in, "σ (paper)": p.init_std,
                     f"σ ({p.name})": sigma, "gain fan-in·σ² (both)": layer.fan_in * sigma ** 2})
    return pd.DataFrame(rows).set_index("layer")


def init_attenuation() -> pd.DataFrame:
    """How much each init shrinks the signal's variance through a whole net at the paper's size:
    the product over weight layers of fan-in·Var(w)/2 (the /2 for the ReLU), as a power of ten.
    Tiny factors mean vanishing activations and gradients: why deep nets needed A's weights."""
    rows = []
    for config in ("A", "B", "C", "D", "E"):
        normal = glorot = 0.0
        for layer in arch.plan(config):
            if layer.kind in ("conv", "fc"):
                fan_out = layer.out_ch * layer.k * layer.k
                normal += math.log10(layer.fan_in * 0.01 ** 2 / 2)
                glorot += math.log10(2 * layer.fan_in / (layer.fan_in + fan_out) / 2)
        rows.append({"config": config, "weight layers": sum(lay.kind in ("conv", "fc") for lay in arch.plan(config)),
                     "log10 variance factor, N(0, 0.01²)": round(normal, 1),
                     "log10 variance factor, Glorot": round(glorot, 1)})
    return pd.DataFrame(rows).set_index("config")


def claims(results: ResultSet) -> list[Claim]:
    """§3.1: Glorot's init trains the deep net from scratch as well as the init chain does (the
    paper's note after submission: the weights can be initialised without pre-training): an
    equivalence, judged with the noise of two different nets, the seed variance pooled over
    Table 4's seeded rows tested as these nets are (multi-scale)."""
    if "training" not in results:
        return []
    record = results["training"]
    test = record["test"]
    deep, scratch = [row for row in test if ":" not in row][0], [row for row in test if ":" in row][0]
    a, b = test[scratch]["top1"], test[deep]["top1"]
    noise = 0.0, "none measured (Table 4 not run)"
    if "table4" in results:
        noise = between(results["table4"], scratch, deep, a, b, measure="multi" if len(test[deep]["Q"]) > 1
                        else "single", pairs=record.get("pairs", {}))
    return [Claim.from_evidence("training/glorot-vs-chain", "§3.1",
                                f"training {deep} from scratch with Glorot init works as well as the init chain",
                                "equal", Evidence(a, b, *noise), None, margin=EQUIVALENCE, relative=True,
                                weak="the paper states it in words, with no numbers")]


def frames(results: ResultSet) -> dict[str, pd.DataFrame]:
    """The init scales of the quick profile and the test errors of the chain and scratch nets."""
    out = {"init-attenuation": init_attenuation()}
    if "training" in results:
        r = results["training"]
        out["training"] = pd.DataFrame([{"net": row, "test top-1": v["top1"], "test top-5": v["top5"],
                                         "epochs": len(r["curves"][row])} for row, v in r["test"].items()])
    return out
