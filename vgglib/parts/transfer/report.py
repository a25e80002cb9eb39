"""Tables 11 and 12 (Appendix B) as DataFrames: our numbers beside the paper's, and a verdict
on each of its claims (E ≥ D, D&E ≥ either, stacking beats averaging on Caltech, the box helps
action classification), computed from the result records of :mod:`vgglib.parts.transfer.run`."""
from __future__ import annotations

import math

import pandas as pd

from ... import paper
from ...claims import Claim, Evidence
from ...results import ResultSet
from .rows import AGGREGATION, COLUMNS, FUSION

#: Our net names → the paper's row names in Table 11.
NET_ROWS = {"D": "VGG Net-D", "E": "VGG Net-E", FUSION: "VGG Net-D & Net-E"}


def _ours(summary: dict) -> str:
    """mAP, or mean class recall as mean ± std over the splits, as the paper prints them."""
    return f"{summary['mAP']:.1f}" if "mAP" in summary else f"{summary['mean']:.1f} ± {summary['std']:.1f}"


def _paper(value: float | tuple[float, float]) -> str:
    """A Table 11 entry of the paper as printed."""
    return f"{value[0]:.1f} ± {value[1]:.1f}" if isinstance(value, tuple) else f"{value:.1f}"


def _score(summary: dict) -> float:
    """The one number of a protocol's summary: mAP or mean class recall (%)."""
    return summary["mAP"] if "mAP" in summary else summary["mean"]


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


def per_scale_frame(result: dict) -> pd.DataFrame:
    """D & E's descriptor at each test scale alone beside all scales averaged and stacked, per
    target: how different the scales' information is, which stacking keeps and averaging mixes."""
    rows = []
    for t in result["targets"].values():
        measure = "mAP (%)" if t["kind"] == "voc" else "mean class recall (%)"
        rows += [{"target": t["label"], "measure": measure, "descriptor": f"Q = {s['Q_px']} px alone",
                  "score": round(s["score"], 2)} for s in t["per_scale"]]
        rows += [{"target": t["label"], "measure": measure, "descriptor": f"all Q {how}",
                  "score": _score(t["rows"][FUSION][key])}
                 for how, key in (("averaged", "average"), ("stacked", "stack"))]
    return pd.DataFrame(rows)


def data_line(result: dict) -> str:
    """One sentence on the images of each Table 11 target, from the record: how many, the
    canvases' size and items, and how they are split (VOC-style) or sampled per class over
    seeded splits (Caltech-style)."""
    parts = []
    for t in result["targets"].values():
        d = t["data"]
        text = f"{t['label']}: {d['images']:,} images"
        if "canvas" in d:
            text += f" of {d['canvas']}×{d['canvas']} pixels with {d['items'][0]}–{d['items'][1]} items each"
        if t["kind"] == "caltech":
            n_train, n_test = d["per_class"]
            splits = len(t["rows"][FUSION][t["aggregation"]]["splits"])
            text += (f", {n_train} per class for training and {f'up to {n_test}' if n_test else 'the rest'} "
                     f"for testing, over {splits} seeded splits")
        elif "parts" in d:
            train, val, test = d["parts"]
            text += f" ({train:,} for training, {val:,} for choosing C, {test:,} for testing)"
        parts.append(text)
    return "Data: " + "; ".join(parts) + "."


def source_sentence(result: dict) -> str:
    """How good the transferred nets are on the task they were trained for (Table 4's protocol,
    multi-scale dense top-1), the measurement beside the claim E ≥ D."""
    nets, s = result["nets"], result["source_top1"]
    verdict = ("E is the better of the two there" if s["E"] < s["D"] else
               "E is the worse of the two before any transfer" if s["E"] > s["D"] else "the two are level there")
    return (f"On the task the features were learned on, {nets['D']} errs on {s['D']:.2f}% and {nets['E']} on "
            f"{s['E']:.2f}% of the test images (top-1, multi-scale dense, as Table 4): {verdict}.")


#: Each Table 11 claim: its direction, and the pair of Table 11 rows that gives the paper's side
#: (None where the paper states it in words only).
CLAIMS11 = {"E ≥ D": ("no worse", ("E", "D")),
            "D&E ≥ the better of D and E": ("no worse", (FUSION, "D|E")),
            "stacking beats averaging (D&E)": ("better", None),
            "averaging no worse than stacking (D&E)": ("no worse", None)}
#: Where the paper states a claim in words only.
IN_WORDS = {"stacking beats averaging (D&E)": "stacking beat averaging and max-pooling on Caltech",
            "averaging no worse than stacking (D&E)": "averaging ≈ stacking on VOC (validation)"}


def _paper_pair(pair: tuple[str, str] | None, column: str) -> tuple[float, float] | None:
    """The paper's two Table 11 numbers for a claim on one column (``D|E``: the better of them)."""
    if pair is None:
        return None
    i = COLUMNS.index(column)

    def value(row: str) -> float:
        if row == "D|E":
            return max(value("D"), value("E"))
        v = paper.TABLE11[NET_ROWS[row]][i]
        return v[0] if isinstance(v, tuple) else v
    return value(pair[0]), value(pair[1])


#: The noise each kind of target's protocol measures for a claim: a paired bootstrap over the
#: test images for mean AP (VOC and action), the paired gap over the splits for mean class recall.
NOISE_KINDS = {"voc": "paired bootstrap", "action": "paired bootstrap", "caltech": "paired over splits"}


def legacy_dof(target: dict) -> float:
    """The degrees of freedom of a target's noise in a record made before the noise model (which
    stored two standard errors): the number of Caltech splits less one, else as good as known."""
    if target["kind"] != "caltech":
        return math.inf
    return len(next(iter(target["rows"].values()))[AGGREGATION["caltech"]]["splits"]) - 1


def table11_claims(result: dict) -> list[Claim]:
    """Every Table 11 claim on every target, higher-is-better (mAP or mean class recall)."""
    out = []
    for name, t in result["targets"].items():
        unit = "mAP (%)" if t["kind"] == "voc" else "mean class recall (%)"
        for statement, (direction, pair) in CLAIMS11.items():
            if statement in t["claims"]:
                out.append(Claim.from_evidence(
                    f"table11/{name}/{statement}", "App. B", f"{statement} — {t['label']}", direction,
                    Evidence.from_record(t["claims"][statement], NOISE_KINDS[t["kind"]], legacy_dof(t)),
                    _paper_pair(pair, t["column"]), unit=unit, higher_is_better=True,
                    weak=IN_WORDS.get(statement, "")))
    return out


def table12_claims(result: dict) -> list[Claim]:
    """Table 12's claim: the given box adds to the whole image (mean AP)."""
    image, both = paper.TABLE12["VGG D&E, image only"], paper.TABLE12["VGG D&E, image and bounding box"]
    evidence = Evidence.from_record(result["claims"]["adding the box helps"], NOISE_KINDS["action"])
    return [Claim.from_evidence("table12/box", "App. B", "adding the box helps", "better", evidence, (both, image),
                                unit="mAP (%)", higher_is_better=True)]


def claims(results: ResultSet) -> list[Claim]:
    """Every claim of Tables 11–12 whose results exist."""
    return ((table11_claims(results["table11"]) if "table11" in results else []) +
            (table12_claims(results["table12"]) if "table12" in results else []))


def table12_frame(result: dict) -> pd.DataFrame:
    """Table 12 as the paper lays it out, with our two rows beside its D & E rows."""
    ours = {"VGG D&E, image only": result["rows"]["image only"]["mAP"],
            "VGG D&E, image and bounding box": result["rows"]["image and box"]["mAP"]}
    order = ("Oquab et al.", "Gkioxari et al.", "Hoai", "VGG D&E, image only", "VGG D&E, image and bounding box")
    return pd.DataFrame([{"method": m, "mAP paper (VOC-2012 action)": paper.TABLE12[m],
                          f"mAP ours ({result['label'].split(':')[0]})": ours.get(m)} for m in order])


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


def frames(results: ResultSet) -> dict[str, pd.DataFrame]:
    """Every table of this part whose results exist, for the CSV export and the golden test."""
    out = {}
    if "table11" in results:
        out["table11"], out["table11-aggregation"] = (table11_frame(results["table11"]),
                                                      aggregation_frame(results["table11"]))
    if "table12" in results:
        out["table12"], out["table12-per-class"] = (table12_frame(results["table12"]),
                                                    per_class_frame(results["table12"]))
    return out
