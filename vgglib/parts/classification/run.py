"""Paper §4 (Tables 3–7): what each classification table trains and evaluates.

Every function takes a :class:`~vgglib.study.Study` and returns the table's result record
(JSON-ready), with its provenance; Table 7 is computed from Tables 5 and 6's records."""
from __future__ import annotations

import time

from ... import evaluate, paper
from ...study import Study, scale_of

#: Table 3's rows (single test scale), Table 4's (multi-scale), and §4.1's shallow-net pair.
TABLE3_ROWS = tuple(paper.TABLE3)
TABLE4_ROWS = tuple(paper.TABLE4)
SHALLOW_ROWS = ("B/256", "B-5x5/256")
JITTERED = ("D/256-512", "E/256-512")


def noise(study: Study, row: str = "A/256", seeds: int = 2) -> dict:
    """The same row trained with several seeds (single-scale dense): differences between
    rows smaller than this spread are not evidence either way."""
    q = evaluate.q_single(scale_of(row))
    return {"row": row, "seeds": {s: study.scores([row], "dense", [q], seed=s) for s in range(seeds)}}


def table3(study: Study) -> dict:
    """Table 3: dense evaluation at one test scale; §4.1's B vs shallow 5×5 (centre crop)."""
    started = time.time()
    rows = {r: study.scores([r], "dense", [evaluate.q_single(scale_of(r))]) for r in TABLE3_ROWS}
    shallow = {r: study.scores([r], "centre", [evaluate.q_single(scale_of(r))]) for r in SHALLOW_ROWS}
    return {"rows": rows, "shallow": shallow, "noise": noise(study), "provenance": study.record(started)}


def table4(study: Study) -> dict:
    """Table 4: dense evaluation averaged over three test scales, beside the single scale."""
    started = time.time()
    rows = {}
    for r in TABLE4_ROWS:
        s = scale_of(r)
        qs = list(evaluate.q_set(s))
        rows[r] = {"multi": study.scores([r], "dense", qs),
                   "single": study.scores([r], "dense", [evaluate.q_single(s)]),
                   "per_q": {q: study.scores([r], "dense", [q])["top1"] for q in qs}}
    return {"rows": rows, "noise": noise(study), "provenance": study.record(started)}


def table5(study: Study) -> dict:
    """Table 5: dense vs multi-crop vs both, for the jittered nets at Q = {Smin, mid, Smax}."""
    started = time.time()
    rows = {}
    for r in JITTERED:
        qs = list(evaluate.q_set(scale_of(r)))
        rows[r] = {m: study.scores([r], m, qs) for m in ("dense", "multi-crop", "dense+multi-crop")}
    return {"rows": rows, "noise": noise(study), "provenance": study.record(started)}


def table6(study: Study) -> dict:
    """Table 6: fusion by averaging posteriors: the 7-net submission (multi-scale dense) and
    the two jittered nets with dense, multi-crop and both."""
    started = time.time()
    def qs(r: str) -> list[int]:
        return list(evaluate.q_set(scale_of(r)))
    sub = evaluate.combine(*[evaluate.multi_scale([study.posteriors(r, "dense", q) for q in qs(r)])
                             for r in paper.SUBMISSION_NETS])
    errs = evaluate.errors(sub, study.splits.test.labels)
    rows = {"ILSVRC submission (7 nets), dense": {"top1": round(errs["top1"], 2),
                                                  "top5": round(errs["top5"], 2)}}
    singles = {r: study.scores([r], "dense", qs(r)) for r in (*paper.SUBMISSION_NETS, *JITTERED)}
    for method, name in (("dense", "dense"), ("multi-crop", "multi-crop"),
                         ("dense+multi-crop", "multi-crop & dense")):
        rows[f"D/256-512 + E/256-512, {name}"] = study.scores(list(JITTERED), method, qs(JITTERED[0]))
    return {"rows": rows, "singles": singles, "noise": noise(study), "provenance": study.record(started)}


def table7(study: Study, table5: dict, table6: dict) -> dict:
    """Table 7 is rendered from Tables 5 and 6's records; its own record names the ones it used."""
    return {"uses": {"table5": table5["provenance"], "table6": table6["provenance"]},
            "provenance": study.record(time.time())}
