"""Paper §4's report: Tables 3–7 as frames beside the paper's numbers, and their claims.

Every verdict on these pages comes from :func:`claims`, so a table's verdict column and the
Claims page can never disagree."""
from __future__ import annotations

import pandas as pd

from ... import evaluate, paper
from ...claims import Claim
from ...profiles import profiles
from ...results import ResultSet
from .run import JITTERED

#: A ≈ B within this many points of top-1 error: the paper's "saturates" (E trails D by up to 0.3).
SATURATION_MARGIN = 0.5
JITTER_WEAK = ("Fashion-MNIST's items are all 28 px: a larger S only up-samples them, so scale jittering has no "
               "range of object sizes to learn (measured on canvases where the size varies: jitter-canvases)")


def jitter_weak(result: dict) -> str:
    """Why the jittering claims are a weak test of a record: JITTER_WEAK on Fashion-MNIST (and
    on records that do not name their data set), nothing on ImageNet or a user's own images."""
    dataset = result.get("provenance", {}).get("dataset", "fashion-mnist")
    return JITTER_WEAK if dataset.startswith("fashion-mnist") else ""


PAIRED = "paired per image, 2 s.e."
#: Table 5's evaluation methods, in the paper's order.
METHODS5 = ("dense", "multi-crop", "dense+multi-crop")


def noise_row(*rows: str) -> str:
    """Which seed-noise row stands for a comparison of nets: D/256 when all were trained at
    S = 256 from random init or A, D/[256;512] when any was fine-tuned (S = 384 or jittered)."""
    return "D/256" if all(r.endswith("/256") for r in rows) else "D/256-512"


def seed_noise(result: dict, *rows: str, measure: str = "single") -> tuple[float, str]:
    """(spread, its description): the top-1 range over seeds of the noise row standing for a
    comparison of ``rows`` (tested single- or multi-scale)."""
    noise = result["noise"]
    row = noise_row(*rows) if rows else next(iter(noise))
    tops = [v[measure] for v in noise[row]["seeds"].values()]
    spread = round(max(tops) - min(tops), 2) if len(tops) > 1 else 0.0
    return spread, f"seed spread ({row}, {len(tops)} seeds)"


def noise_sentence(result: dict) -> str:
    """One sentence (Markdown) saying which noise this page's verdicts allow, with its size."""
    noise = result["noise"]
    parts = [f"{row} over {len(v['seeds'])} seeds differs by **{seed_noise(result, row)[0]:.2f}** points"
             for row, v in noise.items()]
    return ("Comparisons of different nets allow the seed spread of the net standing for them (D/256 for nets "
            "trained at S = 256, D/256-512 for fine-tuned ones): " + "; ".join(parts) + ". Comparisons of the "
            "same nets on the same images allow their paired noise, two standard errors of the per-image "
            "difference, given with each claim.")


def paired(value: dict) -> tuple[float, str]:
    """The paired noise a record stores for a comparison of the same nets on the same images."""
    return value["paired"], PAIRED


def _label(row: str) -> tuple[str, str]:
    """``D/256-512`` → (``D``, ``256;512``), as the paper writes a row."""
    config, scale = row.split("/")
    return config, scale.replace("-", ";")


def _claim(table: str, section: str, key: str, statement: str, direction: str, ours: tuple[float, float],
           theirs: tuple[float, float] | None, noise: tuple[float, str], **kw) -> Claim:
    return Claim(id=f"{table}/{key}", table=table, section=section, statement=statement, direction=direction,
                 ours=ours, paper=theirs, noise=noise[0], noise_kind=noise[1], **kw)


def table3_claims(result: dict) -> list[Claim]:
    """Table 3 and §4.1: LRN, depth, 3×3 against 1×1, saturation, jittering, the shallow net."""
    r, p = {k: v["top1"] for k, v in result["rows"].items()}, {k: v[0] for k, v in paper.TABLE3.items()}

    def pair(a: str, b: str, key: str, statement: str, direction: str = "better", **kw) -> Claim:
        return _claim("table3", "§4.1", key, statement, direction, (r[a], r[b]), (p[a], p[b]),
                      seed_noise(result, a, b), **kw)
    out = [pair("A/256", "A-LRN/256", "lrn", "LRN does not improve A (A no worse than A-LRN)", "no worse"),
           pair("B/256", "A/256", "depth-B-A", "deeper is better: B beats A"),
           pair("C/256", "B/256", "depth-C-B", "deeper is better: C beats B"),
           pair("D/256", "C/256", "3x3-256", "3×3 beats 1×1 convs: D beats C (S = 256)"),
           pair("D/384", "C/384", "3x3-384", "3×3 beats 1×1 convs: D beats C (S = 384)"),
           pair("E/256", "D/256", "saturation", "depth saturates at 19 layers: E ≈ D (S = 256)", "equal",
                margin=SATURATION_MARGIN)]
    out += [pair(f"{c}/256-512", f"{c}/384", f"jitter-{c}", f"scale jittering beats a fixed S = 384 ({c})",
                 weak=jitter_weak(result)) for c in "CDE"]
    s = result["shallow"]
    out.append(_claim("table3", "§4.1", "shallow", "B beats its shallow 5×5 variant (centre crop; paper: "
                      f"the shallow net's top-1 is {paper.SHALLOW_TOP1_GAP:.0f} points higher)", "better",
                      (s["B/256"]["top1"], s["B-5x5/256"]["top1"]), None, seed_noise(result, "B/256")))
    return out


def table4_claims(result: dict) -> list[Claim]:
    """Table 4: multi-scale beats single scale, jittering beats fixed S, deeper is better."""
    r = result["rows"]
    multi = {k: v["multi"]["top1"] for k, v in r.items()}
    p4, p3 = {k: v[0] for k, v in paper.TABLE4.items()}, {k: v[0] for k, v in paper.TABLE3.items()}
    out = [_claim("table4", "§4.2", f"multi-scale/{row}", f"multi-scale test beats one scale ({row})", "better",
                  (v["multi"]["top1"], v["single"]["top1"]), (p4[row], p3[row]), paired(v))
           for row, v in r.items()]
    for c in "CDE":
        fixed = min((f"{c}/256", f"{c}/384"), key=multi.__getitem__)
        best_paper = min(p4[f"{c}/256"], p4[f"{c}/384"])
        out.append(_claim("table4", "§4.2", f"jitter/{c}", f"scale jittering beats the better fixed S ({c})",
                          "better", (multi[f"{c}/256-512"], multi[fixed]), (p4[f"{c}/256-512"], best_paper),
                          seed_noise(result, f"{c}/256-512", measure="multi"), weak=jitter_weak(result)))
    for scale in ("256", "384", "256-512"):
        have = [c for c in "BCDE" if f"{c}/{scale}" in r]
        for shallow, deep in zip(have, have[1:]):
            a, b = f"{deep}/{scale}", f"{shallow}/{scale}"
            saturate = deep == "E"
            out.append(_claim("table4", "§4.2", f"depth/{deep}-{shallow}/{scale}",
                              f"depth saturates: E ≈ D (S = {scale.replace('-', ';')})" if saturate else
                              f"deeper is better: {deep} beats {shallow} (S = {scale.replace('-', ';')})",
                              "equal" if saturate else "better", (multi[a], multi[b]), (p4[a], p4[b]),
                              seed_noise(result, a, b, measure="multi"),
                              margin=SATURATION_MARGIN if saturate else 0.0))
    return out


def table5_claims(result: dict) -> list[Claim]:
    """Table 5: multi-crop slightly beats dense, and the two combined beat either alone."""
    out = []
    for row, m in result["rows"].items():
        p = {k: v[0] for k, v in paper.TABLE5[row].items()}
        noise = m["paired"]
        out.append(_claim("table5", "§4.3", f"multi-crop/{row}", f"multi-crop beats dense ({row})", "better",
                          (m["multi-crop"]["top1"], m["dense"]["top1"]), (p["multi-crop"], p["dense"]),
                          (noise["multi-crop vs dense"], PAIRED)))
        out.append(_claim("table5", "§4.3", f"combined/{row}", f"multi-crop & dense beat either alone ({row})",
                          "better", (m["dense+multi-crop"]["top1"], min(m["dense"]["top1"], m["multi-crop"]["top1"])),
                          (p["multi-crop & dense"], min(p["dense"], p["multi-crop"])),
                          (noise["combined vs best"], PAIRED)))
    return out


def _best_single(result6: dict, fusion: str) -> tuple[float, float]:
    """(ours, paper): the best single net of a fusion, multi-scale dense top-1."""
    nets = paper.SUBMISSION_NETS if fusion.startswith("ILSVRC") else JITTERED
    return (min(result6["singles"][r]["top1"] for r in nets), min(paper.TABLE4[r][0] for r in nets))


def table6_claims(result: dict) -> list[Claim]:
    """Table 6: each fusion beats the best single net in it (multi-scale dense)."""
    out = []
    for i, (name, v) in enumerate(result["rows"].items()):
        ours_b, paper_b = _best_single(result, name)
        out.append(_claim("table6", "§4.4", f"fusion/{i}", f"the fusion beats its best single net: {name}", "better",
                          (v["top1"], ours_b), (paper.TABLE6[name][0], paper_b),
                          paired(v)))
    return out


def table7_claims(result5: dict, result6: dict) -> list[Claim]:
    """Table 7: the best fusion beats the best single net."""
    single = min(ms[m]["top1"] for ms in result5["rows"].values() for m in METHODS5)
    fusion = min(v["top1"] for v in result6["rows"].values())
    p = paper.TABLE7
    return [_claim("table7", "§4.5", "fusion-vs-single", "the best fusion (2 nets) beats the best single net",
                   "better", (fusion, single), (p["VGG (2 nets, multi-crop & dense eval.)"][0],
                                                p["VGG (1 net, multi-crop & dense eval.)"][0]),
                   seed_noise(result6, *JITTERED, measure="multi"))]


def jitter_canvases_claims(result: dict) -> list[Claim]:
    """The diagnosis: does jittering beat the better fixed S where the object's size varies?
    Its noise is the paired one of the two nets on the same canvases (one seed each: a lower
    bound on the noise of two different nets, said so in the claim)."""
    multi = {r: v["multi"]["top1"] for r, v in result["rows"].items()}
    p4 = {k: v[0] for k, v in paper.TABLE4.items()}
    return [Claim(id="jitter-canvases/D", table="jitter-canvases", section="§4.2",
                  statement="scale jittering beats the better fixed S (D) on canvases whose object size varies",
                  direction="better", ours=(multi["D/256-512"], multi[result["fixed"]]),
                  paper=(p4["D/256-512"], min(p4["D/256"], p4["D/384"])), noise=result["paired"],
                  noise_kind=PAIRED + " (one seed per net: a lower bound)",
                  weak="a diagnosis on our own canvases, not a table of the paper")]


def claims(results: ResultSet) -> list[Claim]:
    """Every claim of Tables 3–7 whose results exist, and the jittering diagnosis."""
    out = []
    for name, fn in (("table3", table3_claims), ("table4", table4_claims), ("table5", table5_claims),
                     ("table6", table6_claims)):
        if name in results:
            out += fn(results[name])
    if "table7" in results:
        out += table7_claims(results["table5"], results["table6"])
    if "jitter-canvases" in results:
        out += jitter_canvases_claims(results["jitter-canvases"])
    return out


def _verdicts(claims: list[Claim]) -> dict[str, str]:
    return {c.id: c.verdict for c in claims}


#: Which row of Table 3 shows each of its claims.
TABLE3_ROW_OF = {"A-LRN/256": "lrn", "B/256": "depth-B-A", "C/256": "depth-C-B", "D/256": "3x3-256",
                 "D/384": "3x3-384", "E/256": "saturation", "C/256-512": "jitter-C",
                 "D/256-512": "jitter-D", "E/256-512": "jitter-E"}


def table3_frame(result: dict) -> pd.DataFrame:
    """Table 3 with the paper's numbers and the claim each row tests (on top-1 error)."""
    claims3 = {c.id.split("/", 1)[1]: c for c in table3_claims(result)}
    rows = []
    for row, (p1, p5) in paper.TABLE3.items():
        config, s = _label(row)
        ours, claim = result["rows"][row], claims3.get(TABLE3_ROW_OF.get(row, ""))
        rows.append({"config": config, "train S": s, "test Q": ours["Q"][0], "test Q (px)": ours["Q_px"][0],
                     "top-1 ours": ours["top1"], "top-5 ours": ours["top5"], "top-1 paper": p1,
                     "top-5 paper": p5, "claim": claim.statement if claim else "—",
                     "verdict": claim.verdict if claim else "—"})
    return pd.DataFrame(rows)


def table4_frame(result: dict) -> pd.DataFrame:
    """Table 4 (multi-scale dense test) beside the paper, with single-scale for reference."""
    v = _verdicts(table4_claims(result))
    rows = []
    for row, (p1, p5) in paper.TABLE4.items():
        config, s = _label(row)
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
    v = _verdicts(table5_claims(result))
    rows = []
    for row, methods in result["rows"].items():
        config, s = _label(row)
        for method, name in names.items():
            ours, (p1, p5) = methods[method], paper.TABLE5[row][name]
            rows.append({"config": config, "train S": s, "method": names[method],
                         "test Q": ",".join(map(str, ours["Q"])), "top-1 ours": ours["top1"],
                         "top-5 ours": ours["top5"], "top-1 paper": p1, "top-5 paper": p5,
                         "both beat either alone?": v[f"table5/combined/{row}"] if method == "dense+multi-crop"
                         else "—"})
    return pd.DataFrame(rows)


def table6_frame(result: dict) -> pd.DataFrame:
    """Table 6: fusions beside the paper, and whether each beats the best single net in it."""
    claims6 = table6_claims(result)
    rows = []
    for (name, ours), claim in zip(result["rows"].items(), claims6):
        p1, p5, p5t = paper.TABLE6[name]
        rows.append({"combined models": name, "top-1 ours": ours["top1"], "top-5 ours": ours["top5"],
                     "top-1 paper (val)": p1, "top-5 paper (val)": p5, "top-5 paper (test)": p5t,
                     "best single net in it (dense, top-1)": claim.ours[1], "fusion beats it?": claim.verdict})
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
    added, marked as results on another data set at another scale."""
    dataset = result5["provenance"]["dataset"]
    singles = [(f"{row}, {m}", ms[m]) for row, ms in result5["rows"].items() for m in METHODS5]
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


def jitter_canvases_frame(result: dict) -> pd.DataFrame:
    """The diagnosis beside Table 4's D rows: D at S = 256, 384 and [256;512] on the canvases."""
    return pd.DataFrame([{"config": "D", "train S": _label(r)[1], "top-1 ours (canvases)": v["multi"]["top1"],
                          "top-1 ours, single Q": v["single"]["top1"], "top-1 paper (ImageNet)": paper.TABLE4[r][0]}
                         for r, v in result["rows"].items()])


def off_scale_frame(result4: dict) -> pd.DataFrame:
    """The measurement beside 'multi-scale test beats one scale': each net's top-1 error at
    its three test scales, how the better of the two views added compares with the view at
    its single test scale, and what averaging the three did (multi − single)."""
    v = _verdicts(table4_claims(result4))
    rows = []
    for row, r in result4["rows"].items():
        config, s = _label(row)
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


#: The comparisons the fit diagnosis speaks to: (the net the paper finds better, the other).
FIT_PAIRS = (("A/256", "A-LRN/256"), ("B/256", "A/256"), ("C/256", "B/256"), ("D/256", "C/256"),
             ("E/256", "D/256"), ("D/384", "C/384"), ("E/384", "D/384"))


#: The caption of the fit diagnosis's table, on each page that shows it.
FIT_CAPTION = ("Top-1 error (%) of each net on its own training images, on the validation images (best epoch) "
               "and on the test images, single test scale.")


def fit_frame(result: dict) -> pd.DataFrame:
    """The fit diagnosis: each net's top-1 error on its own training images, on the
    validation images (best epoch) and on the test images, at its single test scale."""
    return pd.DataFrame([{"config": _label(r)[0], "train S": _label(r)[1], "test Q (px)": v["Q_px"],
                          "top-1 on training images": v["train_top1"], "top-1 validation (best)": v["val_top1"],
                          "top-1 test": v["test_top1"], "test − training": round(v["test_top1"] - v["train_top1"], 2)}
                         for r, v in _by_scale(result["rows"])])


def _by_scale(rows: dict) -> list[tuple[str, dict]]:
    """A record's rows ordered by training scale, then net (records keep their keys sorted)."""
    return sorted(rows.items(), key=lambda kv: (kv[0].split("/")[1], kv[0]))


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


def depth_frame(result4: dict) -> pd.DataFrame:
    """'Deeper is better' at each training scale of Table 4: B → C → D → E (top-1)."""
    return pd.DataFrame([{"pair": c.statement, "top-1 deeper": c.ours[0], "top-1 shallower": c.ours[1],
                          "paper": f"{c.paper[0]} vs {c.paper[1]}", "verdict": c.verdict}
                         for c in table4_claims(result4) if "/depth/" in c.id])


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


def dense_positions(profile_name: str, qs: tuple[int, ...] = (224, 256, 288, 352, 384, 416, 512)) -> pd.DataFrame:
    """How many windows one dense pass averages per side at each test scale Q (smallest side):
    the paper's nets at 224 against a profile's.  Both sample the class-score map every
    crop/7 pixels (:func:`vgglib.evaluate.window_offsets`), so both see the same grid."""
    p = profiles()[profile_name]
    return pd.DataFrame([{"Q (paper units)": q, "windows per side, paper": len(evaluate.window_offsets(q, 224)),
                          f"Q at {p.name} (px)": p.scale(q),
                          f"windows per side, {p.name}": len(evaluate.window_offsets(p.scale(q), p.crop))}
                         for q in qs]).set_index("Q (paper units)")


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
        out["table6"] = table6_frame(results["table6"])
    if "jitter-canvases" in results:
        out["jitter-canvases"] = jitter_canvases_frame(results["jitter-canvases"])
    if "fit" in results:
        out["fit"] = fit_frame(results["fit"])
    if "table7" in results:
        out["table7"] = table7_frame(results["table5"], results["table6"], results["table7"]["provenance"]["profile"])
    return out
