"""Paper §4's report: Tables 3–7 as frames beside the paper's numbers, the sentences their
pages paste, and every frame of the part for the CSV export.  The verdicts come from
:mod:`.paper_claims`, the measurements beside them from :mod:`.measurements`."""
from __future__ import annotations

import pandas as pd

from ... import paper
from ...results import ResultSet
from .measurements import depth_frame, fit_frame, jitter_canvases_frame, off_scale_frame
from .paper_claims import METHODS5, paper_row, table3_claims, table4_claims, table5_claims, table6_claims, verdicts

#: Which row of Table 3 shows each of its claims.
TABLE3_ROW_OF = {"A-LRN/256": "lrn", "B/256": "depth-B-A", "C/256": "depth-C-B", "D/256": "3x3-256",
                 "D/384": "3x3-384", "E/256": "saturation", "C/256-512": "jitter-C",
                 "D/256-512": "jitter-D", "E/256-512": "jitter-E"}


def table3_frame(result: dict) -> pd.DataFrame:
    """Table 3 with the paper's numbers and the claim each row tests (on top-1 error): the
    record's rows, in the paper's order (a record of part of the table has some of them)."""
    claims3 = {c.id.split("/", 1)[1]: c for c in table3_claims(result)}
    rows = []
    for row, (p1, p5) in paper.TABLE3.items():
        if row not in result["rows"]:
            continue
        config, s = paper_row(row)
        ours, claim = result["rows"][row], claims3.get(TABLE3_ROW_OF.get(row, ""))
        rows.append({"config": config, "train S": s, "test Q": ours["Q"][0], "test Q (px)": ours["Q_px"][0],
                     "top-1 ours": ours["top1"], "top-5 ours": ours["top5"], "top-1 paper": p1,
                     "top-5 paper": p5, "claim": claim.statement if claim else "—",
                     "verdict": claim.verdict if claim else "—"})
    return pd.DataFrame(rows)


def table4_frame(result: dict) -> pd.DataFrame:
    """Table 4 (multi-scale dense test) beside the paper, with single-scale for reference: the
    record's rows, in the paper's order."""
    v = verdicts(table4_claims(result))
    rows = []
    for row, (p1, p5) in paper.TABLE4.items():
        if row not in result["rows"]:
            continue
        config, s = paper_row(row)
        multi, single = result["rows"][row]["multi"], result["rows"][row]["single"]
        rows.append({"config": config, "train S": s, "test Q": ",".join(map(str, multi["Q"])),
                     "test Q (px)": ",".join(map(str, multi["Q_px"])), "top-1 ours": multi["top1"],
                     "top-5 ours": multi["top5"], "top-1 paper": p1, "top-5 paper": p5,
                     "top-1 ours, single Q": single["top1"],
                     "multi-scale beats single?": v[f"table4/multi-scale/{row}"],
                     "jittering beats fixed S?": v.get(f"table4/jitter/{config}", "—") if ";" in s else "—"})
    return pd.DataFrame(rows)


def table5_frame(result: dict) -> pd.DataFrame:
    """Table 5: dense vs multi-crop vs both, and whether combining beats either alone."""
    names = dict(zip(METHODS5, ("dense", "multi-crop", "multi-crop & dense")))
    v = verdicts(table5_claims(result))
    rows = []
    for row, methods in result["rows"].items():
        config, s = paper_row(row)
        for method, name in names.items():
            ours, (p1, p5) = methods[method], paper.TABLE5[row][name]
            rows.append({"config": config, "train S": s, "method": names[method],
                         "test Q": ",".join(map(str, ours["Q"])), "top-1 ours": ours["top1"],
                         "top-5 ours": ours["top5"], "top-1 paper": p1, "top-5 paper": p5,
                         "both beat either alone?": v[f"table5/combined/{row}"] if method == "dense+multi-crop"
                         else "—"})
    return pd.DataFrame(rows)


def table6_frame(result: dict, result5: dict | None = None) -> pd.DataFrame:
    """Table 6: fusions beside the paper, and whether each beats the best single net in it
    (tested as the fusion is: Table 5's record holds the single nets' multi-crop tests)."""
    claims6 = table6_claims(result, result5)
    rows = []
    for (name, ours), claim in zip(result["rows"].items(), claims6):
        p1, p5, p5t = paper.TABLE6[name]
        rows.append({"combined models": name, "top-1 ours": ours["top1"], "top-5 ours": ours["top5"],
                     "top-1 paper (val)": p1, "top-5 paper (val)": p5, "top-5 paper (test)": p5t,
                     "best single net in it, tested the same way (top-1)": claim.ours[1],
                     "fusion beats it?": claim.verdict})
    return pd.DataFrame(rows)


def growing_frame(result6: dict) -> pd.DataFrame:
    """The submission's fusion grown one net at a time, best single net first (top-1 %)."""
    return pd.DataFrame([{"nets fused": k, "net added": g["net"], "its error alone": g["single"],
                          "error of the fusion": g["fused"]} for k, g in enumerate(result6["growing"], 1)])


def growing_sentence(result6: dict) -> str:
    """What the grown fusion measures, in one sentence of numbers from the record: the size
    of the best fusion, and the members after it with their errors alone."""
    grown = result6["growing"]
    k = min(range(len(grown)), key=lambda i: grown[i]["fused"])
    best, first = grown[k], grown[0]
    members = f"the {k + 1} best" if k else "the best net alone"
    text = (f"Fused best first, the submission's nets reach their lowest top-1 error, {best['fused']:.2f}%, "
            f"with {members} ({first['net']} alone: {first['single']:.2f}%)")
    if k + 1 == len(grown):
        return text + ": every net added helps."
    later = ", ".join(f"{g['net']} ({g['single']:.2f}% alone)" for g in grown[k + 1:])
    return (text + f"; adding {later} takes the fusion of all {len(grown)} to {grown[-1]['fused']:.2f}%. "
            "Averaging posteriors with nets that are much worse alone pulls the fusion towards them.")


def table7_frame(result5: dict, result6: dict, profile: str) -> pd.DataFrame:
    """Table 7: the paper's state-of-the-art table with our best single net and best fusion
    added, marked as results on another data set at another scale, each row naming the images
    its errors are measured on (ours: the test set; the paper's: ILSVRC-2012 validation, and the
    test server's top-5 where it reports one)."""
    dataset = result5["provenance"]["dataset"]
    ours_on = f"our test set ({result5['provenance']['test_images']:,} images)"
    singles = [(f"{row}, {m}", ms[m]) for row, ms in result5["rows"].items() for m in METHODS5]
    best_single = min(singles, key=lambda kv: kv[1]["top1"])
    best_fusion = min(result6["rows"].items(), key=lambda kv: kv[1]["top1"])
    where = f"ours: {dataset}, {profile} profile — NOT ImageNet"
    rows = [{"method": f"{where}; best single net ({best_single[0]})", "measured on": ours_on,
             "top-1 (%)": best_single[1]["top1"], "top-5 (%)": best_single[1]["top5"], "top-5, test server (%)": None},
            {"method": f"{where}; best fusion ({best_fusion[0]})", "measured on": ours_on,
             "top-1 (%)": best_fusion[1]["top1"], "top-5 (%)": best_fusion[1]["top5"], "top-5, test server (%)": None}]
    rows += [{"method": name + " (paper)", "measured on": "ILSVRC-2012 validation", "top-1 (%)": v[0],
              "top-5 (%)": v[1], "top-5, test server (%)": v[2]} for name, v in paper.TABLE7.items()]
    return pd.DataFrame(rows)


def shallow_frame(result3: dict) -> pd.DataFrame:
    """§4.1: B against its shallow 5×5 variant on the centre crop; the paper's gap is 7 points."""
    b, s = result3["shallow"]["B/256"], result3["shallow"]["B-5x5/256"]
    claim = next(c for c in table3_claims(result3) if c.id == "table3/shallow")
    return pd.DataFrame([{"net": "B (3×3 pairs)", "top-1 ours": b["top1"], "top-5 ours": b["top5"]},
                         {"net": "B-5x5 (shallow)", "top-1 ours": s["top1"], "top-5 ours": s["top5"]},
                         {"net": "gap (shallow − B)", "top-1 ours": round(s["top1"] - b["top1"], 2),
                          "top-5 ours": round(s["top5"] - b["top5"], 2)}]).assign(
        **{"paper: gap in top-1": ["", "", paper.SHALLOW_TOP1_GAP],
           "small filters beat the shallow net?": ["", "", claim.verdict]})


def frames(results: ResultSet) -> dict[str, pd.DataFrame]:
    """Every table of this part whose results exist, for the CSV export and the golden test."""
    out = {}
    if "table3" in results:
        out["table3"], out["table3-shallow"] = table3_frame(results["table3"]), shallow_frame(results["table3"])
    if "table4" in results:
        out["table4"], out["table4-depth"] = table4_frame(results["table4"]), depth_frame(results["table4"])
        out["table4-off-scale"] = off_scale_frame(results["table4"])
    if "table5" in results:
        out["table5"] = table5_frame(results["table5"])
    if "table6" in results:
        out["table6"] = table6_frame(results["table6"], results.get("table5"))
    if "jitter-canvases" in results:
        out["jitter-canvases"] = jitter_canvases_frame(results["jitter-canvases"])
    if "fit" in results:
        out["fit"] = fit_frame(results["fit"])
    if "table7" in results:
        out["table7"] = table7_frame(results["table5"], results["table6"], results["table7"]["provenance"]["profile"])
    return out
