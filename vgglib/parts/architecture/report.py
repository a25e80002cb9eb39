"""Paper §2's report: Tables 1 and 2 rendered from the configuration data, the §2.3 stack
arithmetic counted on real layers, multiply-adds per profile, and their claims."""
from __future__ import annotations

import pandas as pd
from torch import nn

from ... import arch, paper
from ...claims import Claim
from ...profiles import profiles
from ...results import ResultSet


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


def claims(results: ResultSet) -> list[Claim]:
    """Table 2's parameter counts (to the million the paper prints) and §2.3's weight counts."""
    if "table2" not in results:
        return []
    r = results["table2"]
    out = [Claim(id=f"table2/params/{c}", table="table2", section="§2.3", statement=f"{c} has {m}M parameters",
                 direction="equal", ours=(round(r["params"][c] / 1e6, 2), float(m)), paper=(float(m), float(m)),
                 noise=0.0, noise_kind="exact count", unit="parameters (millions)", margin=0.5)
           for c, m in paper.TABLE2.items()]
    w = r["stack_weights_per_c2"]
    for (a, b), (pa, pb) in ((("3x3", "1x7"), (27, 49)), (("2x3", "1x5"), (18, 25))):
        n = a.split("x")[0]
        out.append(Claim(id=f"table2/stack/{a}-{b}", table="table2", section="§2.3",
                         statement=f"{n} stacked 3×3 layers have fewer weights than one {b[2:]}×{b[2:]} "
                                   f"({pa}C² vs {pb}C²)", direction="better",
                         ours=(float(w[a]), float(w[b])), paper=(pa, pb),
                         noise=0.0, noise_kind="exact count", unit="weights / C²"))
    return out


def frames(results: ResultSet) -> dict[str, pd.DataFrame]:
    """Tables 1 and 2 and the §2.3 arithmetic (computed from the code)."""
    return {"table1": table1(), "table2": table2(), "stack-arithmetic": stack_arithmetic()}
