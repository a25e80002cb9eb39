"""Tables 11 and 12 (Appendix B) as DataFrames: our numbers beside the paper's, and a verdict
on each of its claims (E ≥ D, D&E ≥ either, stacking beats averaging on Caltech, the box helps
action classification), computed from the result dicts of ``vgglib.transfer``."""
from __future__ import annotations

import pandas as pd

from . import paper, tables
from .transfer import COLUMNS, FUSION

#: Our net names → the paper's row names in Table 11.
NET_ROWS = {"D": "VGG Net-D", "E": "VGG Net-E", FUSION: "VGG Net-D & Net-E"}
#: The order in which a target's claims are listed (result files store them sorted by name).
CLAIM_ORDER = ("E ≥ D", "D&E ≥ the better of D and E", "stacking beats averaging",
               "averaging no worse than stacking")


def _ours(summary: dict) -> str:
    """mAP, or mean class recall as mean ± std over the splits, as the paper prints them."""
    return f"{summary['mAP']:.1f}" if "mAP" in summary else f"{summary['mean']:.1f} ± {summary['std']:.1f}"


def _paper(value: float | tuple[float, float]) -> str:
    """A Table 11 entry of the paper as printed."""
    return f"{value[0]:.1f} ± {value[1]:.1f}" if isinstance(value, tuple) else f"{value:.1f}"


def _score(summary: dict) -> float:
    """The one number of a protocol's summary: mAP or mean class recall (%)."""
    return summary["mAP"] if "mAP" in summary else summary["mean"]


def holds(claim: dict) -> str:
    """Verdict on a higher-is-better claim "a > b" (strict) or "a ≥ b", allowing its noise."""
    if claim["strict"]:
        return tables.verdict(claim["b"], claim["a"], claim["noise"])
    return tables.no_worse(claim["b"], claim["a"], claim["noise"])


def table11_frame(result: dict) -> pd.DataFrame:
    """Table 11: a row per net, each target at the paper's aggregation for it (VOC averaged,
    Caltech stacked), our column beside the paper's column it stands for."""
    rows = []
    for net, name in NET_ROWS.items():
        row = {"method": name}
        for t in result["targets"].values():
            row[f"{t['label']} (ours)"] = _ours(t["rows"][net][t["aggregation"]])
            row[f"{t['column']} (paper)"] = _paper(paper.TABLE11[name][COLUMNS.index(t["column"])])
        rows.append(row)
    return pd.DataFrame(rows)


def aggregation_frame(result: dict) -> pd.DataFrame:
    """Stacking against averaging the scales, per target and net: the paper found them alike on
    VOC and stacking better on Caltech."""
    rows = []
    for t in result["targets"].values():
        measure = "mAP (%)" if t["kind"] == "voc" else "mean class recall (%)"
        for net in NET_ROWS:
            by = t["rows"][net]
            rows.append({"target": t["label"], "net": net, "measure": measure,
                         "averaged": _score(by["average"]), "stacked": _score(by["stack"]),
                         "stacked − averaged": round(_score(by["stack"]) - _score(by["average"]), 2),
                         "paper's choice": t["aggregation"]})
    return pd.DataFrame(rows)


def _paper_side(claim: str, column: str) -> str:
    """The paper's own numbers for a Table 11 claim on one column, or where it says so."""
    if claim.startswith("stacking"):
        return "text: stacking beat averaging and max-pooling on Caltech"
    if claim.startswith("averaging"):
        return "text: averaging ≈ stacking on VOC (validation)"
    i = COLUMNS.index(column)

    def value(row: str) -> float:
        v = paper.TABLE11[NET_ROWS[row]][i]
        return v[0] if isinstance(v, tuple) else v

    if claim.startswith("E ≥ D"):
        return f"{value('E')} vs {value('D')}"
    return f"{value(FUSION)} vs {max(value('D'), value('E'))}"


def claims_frame(result: dict) -> pd.DataFrame:
    """Every Table 11 claim on every target: our two numbers, the noise, the paper's, a verdict."""
    rows = []
    for t in result["targets"].values():
        for claim, c in sorted(t["claims"].items(), key=lambda kv: CLAIM_ORDER.index(kv[0].split(" (")[0])):
            rows.append({"target": t["label"], "claim": claim, "ours (a)": c["a"], "ours (b)": c["b"],
                         "noise (2 s.e.)": c["noise"], "paper": _paper_side(claim, t["column"]),
                         "holds?": holds(c)})
    return pd.DataFrame(rows)


def table12_frame(result: dict) -> pd.DataFrame:
    """Table 12 as the paper lays it out, with our two rows beside its D & E rows."""
    ours = {"VGG D&E, image only": result["rows"]["image only"]["mAP"],
            "VGG D&E, image and bounding box": result["rows"]["image and box"]["mAP"]}
    order = ("Oquab et al.", "Gkioxari et al.", "Hoai", "VGG D&E, image only", "VGG D&E, image and bounding box")
    return pd.DataFrame([{"method": m, "mAP paper (VOC-2012 action)": paper.TABLE12[m],
                          f"mAP ours ({result['label'].split(':')[0]})": ours.get(m)} for m in order])


def table12_claims(result: dict) -> pd.DataFrame:
    """Table 12's claim (the given box adds to the whole image) with its noise and verdict."""
    image, both = paper.TABLE12["VGG D&E, image only"], paper.TABLE12["VGG D&E, image and bounding box"]
    return pd.DataFrame([{"claim": claim, "ours (a)": c["a"], "ours (b)": c["b"], "noise (2 s.e.)": c["noise"],
                          "paper": f"{both} vs {image}", "holds?": holds(c)}
                         for claim, c in result["claims"].items()])


def per_class_frame(result: dict) -> pd.DataFrame:
    """Table 12's AP per class, image only against image and box (NaN: no test positive)."""
    return pd.DataFrame({"class": result["classes"],
                         "image only": result["rows"]["image only"]["ap"],
                         "image and box": result["rows"]["image and box"]["ap"]})


def wall_times(results: list[dict]) -> str:
    """One sentence on where the time went: feature extraction and SVMs per target."""
    parts = []
    for r in results:
        for t in r.get("targets", {"": r}).values():
            parts.append(f"{t['label']}: features {t['features_s']:.0f} s, SVMs {t['svm_s']:.0f} s")
    return "Wall time per target — " + "; ".join(parts) + "."
