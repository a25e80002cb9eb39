"""Table builders: each of the paper's tables as a DataFrame, computed from our code or our
runs, with the paper's own numbers beside ours and a plain verdict where they differ."""
from __future__ import annotations

import math

import pandas as pd
from torch import nn

from . import arch, paper
from .profiles import profiles


def table1() -> pd.DataFrame:
    """Table 1 rendered from the configuration data: a column per config, a row per block,
    as the paper lays it out (the weight layers of a block, then its max-pool)."""
    configs = ("A", "A-LRN", "B", "C", "D", "E")
    cols: dict[str, list[str]] = {}
    for config in configs:
        plan = arch.plan(config)
        blocks: list[list[str]] = [[]]
        for layer in plan:
            if layer.kind == "conv":
                blocks[-1].append(f"conv{layer.k}-{layer.out_ch}")
            elif layer.kind == "lrn":
                blocks[-1].append("LRN")
            elif layer.kind == "pool":
                blocks[-1] = [", ".join(blocks[-1])]
                blocks.extend([["maxpool"], []])
            else:
                blocks[-1].append(f"FC-{layer.out_ch}")
        fcs = blocks.pop()
        weight_layers = sum(layer.kind in ("conv", "fc") for layer in plan)
        cols[f"{config} ({weight_layers} weight layers)"] = (
            ["224 × 224 RGB image"] + [b[0] for b in blocks] + fcs + ["soft-max"])
    return pd.DataFrame(cols)


def table2() -> pd.DataFrame:
    """Table 2: parameters counted from our plan at full size beside the paper's millions,
    and the same nets at each smaller profile's scale."""
    rows = []
    scaled = {p.name: p for p in profiles().values() if p.name != "full"}
    for config in ("A", "A-LRN", "B", "C", "D", "E", "B-5x5"):
        n = arch.count_params(config)
        row = {"config": config, "ours (exact)": n, "ours (millions)": round(n / 1e6),
               "paper (millions)": paper.TABLE2.get(config)}
        row["agrees"] = "—" if row["paper (millions)"] is None else \
            ("yes" if row["ours (millions)"] == row["paper (millions)"] else "NO")
        for p in scaled.values():
            row[f"{p.name} analogue"] = arch.count_params(config, num_classes=10, width=p.width,
                                                          crop=p.crop, fc_width=p.fc_width)
        rows.append(row)
    return pd.DataFrame(rows).set_index("config")


def stack_arithmetic(channels: int = 64) -> pd.DataFrame:
    """§2.3: receptive field and weights of stacked 3×3 convs vs one large conv, counted on
    real layers with C channels in and out (biases left out, as the paper's 27C² vs 49C²)."""
    rows = []
    for n, k in ((2, 3), (1, 5), (3, 3), (1, 7)):
        convs = [nn.Conv2d(channels, channels, k, bias=False) for _ in range(n)]
        weights = sum(c.weight.numel() for c in convs)
        rows.append({"layers": f"{n} × {k}×{k}" if n > 1 else f"1 × {k}×{k}",
                     "receptive field": arch.stacked_receptive_field(n, k),
                     "weights": weights, "weights / C²": weights // channels ** 2,
                     "ReLUs": n})
    return pd.DataFrame(rows).set_index("layers")


def multiply_adds_table() -> pd.DataFrame:
    """Giga multiply-adds of one forward pass per config at 224 and at each profile's crop."""
    rows = []
    for config in ("A", "A-LRN", "B", "C", "D", "E", "B-5x5"):
        row = {"config": config}
        for p in profiles().values():
            kw = dict(num_classes=1000 if p.name == "full" else 10, width=p.width, crop=p.crop,
                      fc_width=p.fc_width)
            row[f"{p.name} ({p.crop}px) GMACs"] = arch.multiply_adds(config, p.crop, **kw) / 1e9
        rows.append(row)
    return pd.DataFrame(rows).set_index("config")


def verdict(smaller: float, larger: float, noise: float = 0.0) -> str:
    """Does ``smaller < larger`` hold, as a claim about two errors, given seed noise?"""
    gap = larger - smaller
    if abs(gap) <= noise:
        return f"within noise (gap {gap:+.2f} ≤ {noise:.2f})"
    return "holds" if gap > 0 else "does not hold"


def seed_noise(result3: dict) -> float:
    """The top-1 spread between seeds of Table 3's noise row (0 if it has one seed only)."""
    tops = [v["top1"] for v in result3["noise"]["seeds"].values()]
    return max(tops) - min(tops) if len(tops) > 1 else 0.0


def _row_label(row: str) -> tuple[str, str]:
    config, scale = row.split("/")
    return config, scale.replace("-", ";") if "-" in scale else scale


def no_worse(a: float, b: float, noise: float = 0.0) -> str:
    """Does ``a ≤ b`` hold for two errors, allowing seed noise (a claim of no gain)?"""
    return "holds" if a <= b + noise else "does not hold"


#: Table 3's claims: row → (claim, row expected lower, row expected higher, strict?).
TABLE3_CLAIMS = {
    "A-LRN/256": ("LRN does not help (A ≤ A-LRN)", "A/256", "A-LRN/256", False),
    "B/256": ("deeper is better (B < A)", "B/256", "A/256", True),
    "C/256": ("deeper is better (C < B)", "C/256", "B/256", True),
    "D/256": ("3×3 beats 1×1 convs (D < C)", "D/256", "C/256", True),
    "D/384": ("3×3 beats 1×1 convs (D < C)", "D/384", "C/384", True),
    "E/256": ("depth saturates at 19 layers (E ≈ D)", "E/256", "D/256", False),
    "C/256-512": ("jittering beats fixed S", "C/256-512", "C/384", True),
    "D/256-512": ("jittering beats fixed S", "D/256-512", "D/384", True),
    "E/256-512": ("jittering beats fixed S", "E/256-512", "E/384", True),
}


def table3_frame(result: dict) -> pd.DataFrame:
    """Table 3 with the paper's numbers and the claim each row tests (on top-1 error)."""
    r, noise = result["rows"], seed_noise(result)
    rows = []
    for row, (p1, p5) in paper.TABLE3.items():
        config, s = _row_label(row)
        ours = r[row]
        claim, low, high, strict = TABLE3_CLAIMS.get(row, ("—", None, None, True))
        holds = "—" if low is None else (verdict if strict else no_worse)(r[low]["top1"], r[high]["top1"], noise)
        rows.append({"config": config, "train S": s, "test Q": ours["Q"][0], "test Q (px)": ours["Q_px"][0],
                     "top-1 ours": ours["top1"], "top-5 ours": ours["top5"], "top-1 paper": p1,
                     "top-5 paper": p5, "claim": claim, "holds?": holds})
    return pd.DataFrame(rows)


def table4_frame(result: dict, noise: float = 0.0) -> pd.DataFrame:
    """Table 4 (multi-scale dense test) beside the paper, with single-scale for reference."""
    r = result["rows"]
    rows = []
    for row, (p1, p5) in paper.TABLE4.items():
        config, s = _row_label(row)
        multi, single = r[row]["multi"], r[row]["single"]
        jitter = "—"
        if "-" in row.split("/")[1]:
            fixed = min(r[f"{config}/256"]["multi"]["top1"], r[f"{config}/384"]["multi"]["top1"])
            jitter = verdict(multi["top1"], fixed, noise)
        rows.append({"config": config, "train S": s, "test Q": ",".join(map(str, multi["Q"])),
                     "test Q (px)": ",".join(map(str, multi["Q_px"])),
                     "top-1 ours": multi["top1"], "top-5 ours": multi["top5"],
                     "top-1 paper": p1, "top-5 paper": p5, "top-1 ours, single Q": single["top1"],
                     "multi-scale beats single?": verdict(multi["top1"], single["top1"], noise),
                     "jittering beats fixed S?": jitter})
    return pd.DataFrame(rows)


def depth_verdicts(result4: dict, noise: float = 0.0) -> pd.DataFrame:
    """'Deeper is better' at each training scale of Table 4: B → C → D → E (top-1)."""
    r = result4["rows"]
    rows = []
    for scale in ("256", "384", "256-512"):
        have = [c for c in "BCDE" if f"{c}/{scale}" in r]
        for shallow, deep in zip(have, have[1:]):
            a, b = r[f"{deep}/{scale}"]["multi"]["top1"], r[f"{shallow}/{scale}"]["multi"]["top1"]
            claim = no_worse if deep == "E" else verdict
            rows.append({"train S": scale.replace("-", ";"), "pair": f"{deep} vs {shallow}",
                         "top-1 deeper": a, "top-1 shallower": b,
                         "paper": f"{paper.TABLE4[f'{deep}/{scale}'][0]} vs {paper.TABLE4[f'{shallow}/{scale}'][0]}",
                         "deeper is better (E: no worse)": claim(a, b, noise)})
    return pd.DataFrame(rows)


def table5_frame(result: dict, noise: float = 0.0) -> pd.DataFrame:
    """Table 5: dense vs multi-crop vs both, and whether combining beats either alone."""
    names = {"dense": "dense", "multi-crop": "multi-crop", "dense+multi-crop": "multi-crop & dense"}
    rows = []
    for row, methods in result["rows"].items():
        config, s = _row_label(row)
        best_single = min(methods["dense"]["top1"], methods["multi-crop"]["top1"])
        for method, ours in methods.items():
            p1, p5 = paper.TABLE5[row][names[method]]
            holds = verdict(ours["top1"], best_single, noise) if method == "dense+multi-crop" else "—"
            rows.append({"config": config, "train S": s, "method": names[method],
                         "test Q": ",".join(map(str, ours["Q"])), "top-1 ours": ours["top1"],
                         "top-5 ours": ours["top5"], "top-1 paper": p1, "top-5 paper": p5,
                         "both beat either alone?": holds})
    return pd.DataFrame(rows)


def table6_frame(result6: dict, noise: float = 0.0) -> pd.DataFrame:
    """Table 6: fusions beside the paper, and whether each beats the best single net in it."""
    singles = {r: v["top1"] for r, v in result6["singles"].items()}
    best_submission = min(singles[r] for r in paper.SUBMISSION_NETS)
    best_pair = min(singles[r] for r in ("D/256-512", "E/256-512"))
    rows = []
    for name, ours in result6["rows"].items():
        p1, p5, p5t = paper.TABLE6[name]
        best = best_submission if name.startswith("ILSVRC") else best_pair
        rows.append({"combined models": name, "top-1 ours": ours["top1"], "top-5 ours": ours["top5"],
                     "top-1 paper (val)": p1, "top-5 paper (val)": p5, "top-5 paper (test)": p5t,
                     "best single net in it (dense, top-1)": best,
                     "fusion beats it?": verdict(ours["top1"], best, noise)})
    return pd.DataFrame(rows)


def table7_frame(result7: dict, profile: str) -> pd.DataFrame:
    """Table 7: the paper's state-of-the-art table with our best single net and best fusion
    added, marked as results on another data set at another scale."""
    result5, result6 = result7["table5"], result7["table6"]
    dataset = result5["provenance"]["dataset"]
    singles = [(f"{row}, {m}", v) for row, ms in result5["rows"].items() for m, v in ms.items()]
    best_single = min(singles, key=lambda kv: kv[1]["top1"])
    best_fusion = min(result6["rows"].items(), key=lambda kv: kv[1]["top1"])
    where = f"ours: {dataset}, {profile} profile — NOT ImageNet"
    rows = [{"method": f"{where}; best single net ({best_single[0]})",
             "top-1 val": best_single[1]["top1"], "top-5 val": best_single[1]["top5"], "top-5 test": None},
            {"method": f"{where}; best fusion ({best_fusion[0]})",
             "top-1 val": best_fusion[1]["top1"], "top-5 val": best_fusion[1]["top5"], "top-5 test": None}]
    rows += [{"method": name + " (paper, ILSVRC-2012)", "top-1 val": v[0], "top-5 val": v[1], "top-5 test": v[2]}
             for name, v in paper.TABLE7.items()]
    return pd.DataFrame(rows)


def claims_summary(frame: pd.DataFrame, columns: str | list[str] = "holds?") -> str:
    """One sentence counting how the paper's claims fared in a table's verdict column(s)."""
    columns = [columns] if isinstance(columns, str) else columns
    text = " ".join(str(v) for c in columns for v in frame[c] if v != "—")
    held, noise, failed = text.count("holds"), text.count("within noise"), text.count("does not hold")
    total = held + noise + failed
    return (f"Of the {total} comparisons with a claim of the paper on this page, {held} hold, "
            f"{noise} are within seed noise, and {failed} do not hold at this scale.")


def shallow_frame(result3: dict, noise: float = 0.0) -> pd.DataFrame:
    """§4.1: B against its shallow 5×5 variant on the centre crop; the paper's gap is 7 points."""
    b, s = result3["shallow"]["B/256"], result3["shallow"]["B-5x5/256"]
    return pd.DataFrame([{"net": "B (3×3 pairs)", "top-1 ours": b["top1"], "top-5 ours": b["top5"]},
                         {"net": "B-5x5 (shallow)", "top-1 ours": s["top1"], "top-5 ours": s["top5"]},
                         {"net": "gap (shallow − B)", "top-1 ours": s["top1"] - b["top1"],
                          "top-5 ours": s["top5"] - b["top5"]}]).assign(
        **{"paper: gap in top-1": ["", "", paper.SHALLOW_TOP1_GAP],
           "small filters beat the shallow net?": ["", "", verdict(b["top1"], s["top1"], noise)]})


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


def dense_positions(profile_name: str, qs: tuple[int, ...] = (224, 256, 288, 352, 384, 416, 512)) -> pd.DataFrame:
    """How many crop-sized windows one dense pass averages at each test scale Q (smallest side
    only): the paper's nets at 224 against a profile's.  The output stride is 32 pixels at every
    scale, so a 32-pixel analogue sweeps far fewer windows than the paper's 224-pixel nets."""
    p = profiles()[profile_name]
    rows = []
    for q in qs:
        ours = p.scale(q)
        rows.append({"Q (paper units)": q, "windows per side, paper": (q - 224) // 32 + 1,
                     f"Q at {p.name} (px)": ours,
                     f"windows per side, {p.name}": ours // 32 - p.crop // 32 + 1})
    return pd.DataFrame(rows).set_index("Q (paper units)")
