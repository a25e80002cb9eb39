"""The measurements beside §4's claims, read from the records: where averaging test scales
helps (off-scale), whether deeper nets are better at each training scale (depth), how well each
net fits its own training images (fit), scale jittering on canvases whose object's size varies,
and what one dense pass averages at a profile's crop."""
from __future__ import annotations

import pandas as pd

from ... import evaluate, paper
from ...profiles import profiles
from .paper_claims import paper_row, table4_claims, verdicts

#: The comparisons the fit diagnosis speaks to: (the net the paper finds better, the other).
FIT_PAIRS = (("A/256", "A-LRN/256"), ("B/256", "A/256"), ("C/256", "B/256"), ("D/256", "C/256"),
             ("E/256", "D/256"), ("D/384", "C/384"), ("E/384", "D/384"))
#: The caption of the fit diagnosis's table, on each page that shows it.
FIT_CAPTION = ("Top-1 error (%) of each net on its own training images, on the validation images (best epoch) "
               "and on the test images, single test scale.")
#: The caption of the jittering diagnosis's table.
JITTER_CANVASES_CAPTION = "D on the canvases (multi-scale dense, top-1 %), beside the paper's Table 4."


def off_scale_frame(result4: dict) -> pd.DataFrame:
    """The measurement beside 'multi-scale test beats one scale': each net's top-1 error at
    its three test scales, how the better of the two views added compares with the view at
    its single test scale, and what averaging the three did (multi − single)."""
    v = verdicts(table4_claims(result4))
    rows = []
    for row, r in result4["rows"].items():
        config, s = paper_row(row)
        single_q = r["single"]["Q"][0]
        at = {int(q): e for q, e in r["per_q"].items()}
        best_other = min(e for q, e in at.items() if q != single_q)
        rows.append({"config": config, "train S": s, "test Q": ",".join(map(str, sorted(at))),
                     "top-1 at lowest Q": at[min(at)], "top-1 at single Q": at[single_q],
                     "top-1 at highest Q": at[max(at)],
                     "better added view − single Q": round(best_other - at[single_q], 2),
                     "multi − single": round(r["multi"]["top1"] - r["single"]["top1"], 2),
                     "multi-scale beats single?": v[f"table4/multi-scale/{row}"]})
    return pd.DataFrame(rows)


def off_scale_sentence(result4: dict) -> str:
    """The off-scale measurement in words, per training scale: how the views added compare
    with the single test scale's, what averaging them did, and which multi-scale claims fail."""
    frame = off_scale_frame(result4)
    parts = []
    for s, group in frame.groupby("train S", sort=False):
        added, gain = group["better added view − single Q"], group["multi − single"]
        parts.append(f"trained at S = {s}, the better of the two views added errs {added.min():+.2f} to "
                     f"{added.max():+.2f} points against the single test scale's, and the average of the three "
                     f"moves the error by {gain.min():+.2f} to {gain.max():+.2f}")
    failing = [f"{c}/{s}" for c, s, v in zip(frame["config"], frame["train S"], frame["multi-scale beats single?"])
               if v == "does not hold"]
    return ("Averaging the posteriors of several test scales gains where a view added is about as good as the "
            "single test scale's. Measured per net (top-1): " + "; ".join(parts) + ". " +
            (f"The claim fails for {', '.join(failing)}. " if failing else "No multi-scale claim fails. ") +
            "Of these nets, only those at S = 256 were trained at one scale from start to end (the S = 384 nets "
            "are fine-tuned from them, the jittered ones from S = 384).")


def depth_frame(result4: dict) -> pd.DataFrame:
    """'Deeper is better' at each training scale of Table 4: B → C → D → E (top-1)."""
    return pd.DataFrame([{"pair": c.statement, "top-1 deeper": c.ours[0], "top-1 shallower": c.ours[1],
                          "paper": f"{c.paper[0]} vs {c.paper[1]}", "verdict": c.verdict}
                         for c in table4_claims(result4) if "/depth/" in c.id])


def fit_frame(result: dict) -> pd.DataFrame:
    """The fit diagnosis: each net's top-1 error on its own training images, on the
    validation images (best epoch) and on the test images, at its single test scale.  Rows
    by training scale, then net (records keep their keys sorted)."""
    by_scale = sorted(result["rows"].items(), key=lambda kv: (paper_row(kv[0])[1], kv[0]))
    return pd.DataFrame([{"config": paper_row(r)[0], "train S": paper_row(r)[1], "test Q (px)": v["Q_px"],
                          "top-1 on training images": v["train_top1"], "top-1 validation (best)": v["val_top1"],
                          "top-1 test": v["test_top1"], "test − training": round(v["test_top1"] - v["train_top1"], 2)}
                         for r, v in by_scale])


def fit_sentence(result: dict) -> str:
    """The fit diagnosis in words: for each comparison of FIT_PAIRS, whether the net the paper
    finds better fits its training images better, beside whether it errs less on test."""
    rows = result["rows"]
    parts, agree = [], 0
    for better, other in FIT_PAIRS:
        if better in rows and other in rows:
            v, w = rows[better], rows[other]
            agree += (v["train_top1"] < w["train_top1"]) == (v["test_top1"] < w["test_top1"])
            fits = "fits them better" if v["train_top1"] < w["train_top1"] else "fits them no better"
            parts.append(f"{better} {fits} than {other} ({v['train_top1']:.2f} vs {w['train_top1']:.2f} %) and errs "
                         f"{'less' if v['test_top1'] < w['test_top1'] else 'no less'} on test "
                         f"({v['test_top1']:.2f} vs {w['test_top1']:.2f} %)")
    train = [v["train_top1"] for v in rows.values()]
    gaps = [v["test_top1"] - v["train_top1"] for v in rows.values()]
    return (f"On {result['train_images']:,} of the images they were trained on: " + "; ".join(parts) + ". "
            f"Every net errs on {min(train):.2f}–{max(train):.2f} % of its own training images and on test by "
            f"{min(gaps):+.2f} to {max(gaps):+.2f} points more, so most of each net's test error is already there on "
            f"the images it was trained on; in {agree} of the {len(parts)} comparisons the net that fits its "
            "training images better is also the one that errs less on test. Where the net the paper finds better "
            "fits them no better here, its design buys no measured fit at this scale.")


def jitter_canvases_frame(result: dict) -> pd.DataFrame:
    """The diagnosis beside Table 4's D rows: D at S = 256, 384 and [256;512] on the canvases."""
    return pd.DataFrame([{"config": "D", "train S": paper_row(r)[1], "top-1 ours (canvases)": v["multi"]["top1"],
                          "top-1 ours, single Q": v["single"]["top1"], "top-1 paper (ImageNet)": paper.TABLE4[r][0]}
                         for r, v in result["rows"].items()])


def dense_positions(profile_name: str, qs: tuple[int, ...] = (224, 256, 288, 352, 384, 416, 512)) -> pd.DataFrame:
    """How many windows one dense pass averages per side at each test scale Q (smallest side):
    the paper's nets at 224 (every 32 pixels, crop/7) against a profile's (every
    :func:`vgglib.evaluate.dense_stride` pixels: crop/8 at a 32-pixel crop)."""
    p = profiles()[profile_name]
    return pd.DataFrame([{"Q (paper units)": q, "windows per side, paper": len(evaluate.window_offsets(q, 224)),
                          f"Q at {p.name} (px)": p.scale(q),
                          f"windows per side, {p.name}": len(evaluate.window_offsets(p.scale(q), p.crop))}
                         for q in qs]).set_index("Q (paper units)")
